-- guestapi schema, version 2: the same rules, written so that SQLite checks them without
-- building a temporary table per row.
--
-- `x IN (a, b, c)` with three or more constants makes SQLite fill an ephemeral index each
-- time the expression runs. In version 1 that happened for the journal's CHECK on every
-- journal insert, and for the cloud-init triggers' WHEN on every config change: more than
-- half of a bulk `apply`'s time. `=` comparisons joined by OR mean exactly the same here
-- (none of the operands is NULL), and cost a few instructions.
--
-- A CHECK is part of a table's definition, so the journal is rebuilt (SQLite's documented
-- 12-step procedure). The triggers that write the journal are dropped first, because a
-- rename re-reads every trigger that names a table, and then made again as they were.

DROP TRIGGER instances_created;
DROP TRIGGER instances_deleted;
DROP TRIGGER instances_attached;
DROP TRIGGER instances_updated;
DROP TRIGGER instances_ready;
DROP TRIGGER config_inserted;
DROP TRIGGER config_updated;
DROP TRIGGER config_deleted;
DROP TRIGGER config_cloud_init_inserted;
DROP TRIGGER config_cloud_init_updated;
DROP TRIGGER config_cloud_init_deleted;
DROP TRIGGER devices_inserted;
DROP TRIGGER devices_updated;
DROP TRIGGER devices_deleted;

CREATE TABLE journal_v2 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ns       INTEGER NOT NULL,
    instance_id INTEGER NOT NULL,
    instance    TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind = 'config' OR kind = 'device' OR kind = 'lifecycle'),
    name        TEXT,
    action      TEXT,
    old_value   BLOB,
    value       BLOB
);
INSERT INTO journal_v2 (id, ts_ns, instance_id, instance, kind, name, action, old_value, value)
SELECT id, ts_ns, instance_id, instance, kind, name, action, old_value, value FROM journal ORDER BY id;
-- Ids never come back after a prune: the new table continues the old one's sequence, even
-- when every entry was pruned.
DELETE FROM sqlite_sequence WHERE name = 'journal_v2';
INSERT INTO sqlite_sequence (name, seq) SELECT 'journal_v2', seq FROM sqlite_sequence WHERE name = 'journal';
DROP TABLE journal;
ALTER TABLE journal_v2 RENAME TO journal;
CREATE INDEX journal_by_instance ON journal (instance_id, id);

-- The triggers of version 1, unchanged but for the cloud-init WHEN clauses.

CREATE TRIGGER instances_created AFTER INSERT ON instances BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-created');
    INSERT INTO config (instance_id, key, value)
    VALUES (NEW.id, 'volatile.cloud-init.instance-id', guestapi_uuid())
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER instances_deleted AFTER DELETE ON instances BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), OLD.id, OLD.name, 'lifecycle', 'instance-deleted');
END;

CREATE TRIGGER instances_attached AFTER UPDATE OF generation ON instances BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action, value)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-attached', NEW.init_pid);
END;

CREATE TRIGGER instances_updated AFTER UPDATE OF type, root_uid ON instances
WHEN OLD.type IS NOT NEW.type OR OLD.root_uid IS NOT NEW.root_uid BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-updated');
END;

CREATE TRIGGER instances_ready AFTER UPDATE OF ready ON instances WHEN NEW.ready = 1 BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-ready');
END;

CREATE TRIGGER config_inserted AFTER INSERT ON config BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, name, value)
    SELECT guestapi_now_ns(), NEW.instance_id, name, 'config', NEW.key, NEW.value
    FROM instances WHERE id = NEW.instance_id;
END;

CREATE TRIGGER config_updated AFTER UPDATE OF value ON config
WHEN OLD.value IS NOT NEW.value BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, name, old_value, value)
    SELECT guestapi_now_ns(), NEW.instance_id, name, 'config', NEW.key, OLD.value, NEW.value
    FROM instances WHERE id = NEW.instance_id;
END;

CREATE TRIGGER config_deleted AFTER DELETE ON config BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, name, old_value)
    SELECT guestapi_now_ns(), OLD.instance_id, name, 'config', OLD.key, OLD.value
    FROM instances WHERE id = OLD.instance_id;
END;

CREATE TRIGGER config_cloud_init_inserted AFTER INSERT ON config
WHEN NEW.key = 'cloud-init.user-data' OR NEW.key = 'cloud-init.vendor-data'
  OR NEW.key = 'cloud-init.network-config' OR NEW.key = 'user.user-data'
  OR NEW.key = 'user.vendor-data' OR NEW.key = 'user.network-config' BEGIN
    INSERT INTO config (instance_id, key, value)
    VALUES (NEW.instance_id, 'volatile.cloud-init.instance-id', guestapi_uuid())
    ON CONFLICT DO UPDATE SET value = excluded.value;
END;

CREATE TRIGGER config_cloud_init_updated AFTER UPDATE OF value ON config
WHEN OLD.value IS NOT NEW.value
 AND (NEW.key = 'cloud-init.user-data' OR NEW.key = 'cloud-init.vendor-data'
   OR NEW.key = 'cloud-init.network-config' OR NEW.key = 'user.user-data'
   OR NEW.key = 'user.vendor-data' OR NEW.key = 'user.network-config') BEGIN
    UPDATE config SET value = guestapi_uuid()
    WHERE instance_id = NEW.instance_id AND key = 'volatile.cloud-init.instance-id';
END;

CREATE TRIGGER config_cloud_init_deleted AFTER DELETE ON config
WHEN (OLD.key = 'cloud-init.user-data' OR OLD.key = 'cloud-init.vendor-data'
   OR OLD.key = 'cloud-init.network-config' OR OLD.key = 'user.user-data'
   OR OLD.key = 'user.vendor-data' OR OLD.key = 'user.network-config')
 AND EXISTS (SELECT 1 FROM instances WHERE id = OLD.instance_id) BEGIN
    UPDATE config SET value = guestapi_uuid()
    WHERE instance_id = OLD.instance_id AND key = 'volatile.cloud-init.instance-id';
END;

CREATE TRIGGER devices_inserted AFTER INSERT ON devices BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, name, action, value)
    SELECT guestapi_now_ns(), NEW.instance_id, name, 'device', NEW.name, 'added', NEW.config
    FROM instances WHERE id = NEW.instance_id;
END;

CREATE TRIGGER devices_updated AFTER UPDATE OF config ON devices
WHEN OLD.config IS NOT NEW.config BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, name, action, old_value, value)
    SELECT guestapi_now_ns(), NEW.instance_id, name, 'device', NEW.name, 'updated', OLD.config, NEW.config
    FROM instances WHERE id = NEW.instance_id;
END;

CREATE TRIGGER devices_deleted AFTER DELETE ON devices BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, name, action, value)
    SELECT guestapi_now_ns(), OLD.instance_id, name, 'device', OLD.name, 'removed', OLD.config
    FROM instances WHERE id = OLD.instance_id;
END;
