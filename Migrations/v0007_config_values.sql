-- Config values apart from their keys, values streamed by version, and a maximum value size.
--
-- v0001's `config` was WITHOUT ROWID, keyed by (instance_id, key): its rows lived in the key's
-- b-tree, so a search by key compared against rows whose value spilled onto overflow pages
-- and SQLite read those whole (a lookup of `security.guestapi` beside a 20 MB value read
-- 20 MB). Now the rows are a rowid table and the keys an index of their own: a lookup walks
-- keys only, then reads its one row, and its value only if asked for. A row's id never comes
-- back (AUTOINCREMENT) and its `version` counts its value's changes, so (id, version) names
-- one committed value for good: a large value is sent in pieces, each read in the snapshot of
-- the moment, and a change between two pieces is seen, never mixed in.
--
-- The migrator runs this with foreign keys off; the triggers that refer to `config` from
-- other tables are dropped first and made again after, as they were.

DROP TRIGGER instances_created;
DROP TRIGGER devices_nic_hwaddr;
DROP TRIGGER devices_deleted_volatile;

CREATE TABLE config_v7 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    value       BLOB    NOT NULL
);
-- Before the triggers exist: copying is not changing.
INSERT INTO config_v7 (instance_id, key, value) SELECT instance_id, key, value FROM config ORDER BY instance_id, key;
DROP TABLE config;
ALTER TABLE config_v7 RENAME TO config;
CREATE UNIQUE INDEX config_by_key ON config (instance_id, key);

-- Host settings: what the host decides for every instance and every writer.
--   max-value-size: the largest config value, in bytes (8 MiB when unset).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value NOT NULL  -- as set: an integer or text
);

-- Every writer is held to the maximum, whatever it is; guestapi-admin says so first, by key.
CREATE TRIGGER config_value_size_inserted BEFORE INSERT ON config
WHEN length(CAST(NEW.value AS BLOB)) > coalesce((SELECT value FROM settings WHERE name = 'max-value-size'), 8388608) BEGIN
    SELECT RAISE(ABORT, 'config value larger than the maximum value size');
END;

CREATE TRIGGER config_value_size_updated BEFORE UPDATE OF value ON config
WHEN length(CAST(NEW.value AS BLOB)) > coalesce((SELECT value FROM settings WHERE name = 'max-value-size'), 8388608) BEGIN
    SELECT RAISE(ABORT, 'config value larger than the maximum value size');
END;

-- The journal's triggers, as v0001 made them.
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

-- volatile.cloud-init.instance-id is made anew when cloud-init's inputs change (v0001), now
-- with its version counted.
CREATE TRIGGER config_cloud_init_inserted AFTER INSERT ON config
WHEN NEW.key = 'cloud-init.user-data' OR NEW.key = 'cloud-init.vendor-data'
  OR NEW.key = 'cloud-init.network-config' OR NEW.key = 'user.user-data'
  OR NEW.key = 'user.vendor-data' OR NEW.key = 'user.network-config' BEGIN
    INSERT INTO config (instance_id, key, value)
    VALUES (NEW.instance_id, 'volatile.cloud-init.instance-id', guestapi_uuid())
    ON CONFLICT DO UPDATE SET value = excluded.value, version = version + 1;
END;

CREATE TRIGGER config_cloud_init_updated AFTER UPDATE OF value ON config
WHEN OLD.value IS NOT NEW.value
 AND (NEW.key = 'cloud-init.user-data' OR NEW.key = 'cloud-init.vendor-data'
   OR NEW.key = 'cloud-init.network-config' OR NEW.key = 'user.user-data'
   OR NEW.key = 'user.vendor-data' OR NEW.key = 'user.network-config') BEGIN
    UPDATE config SET value = guestapi_uuid(), version = version + 1
    WHERE instance_id = NEW.instance_id AND key = 'volatile.cloud-init.instance-id';
END;

CREATE TRIGGER config_cloud_init_deleted AFTER DELETE ON config
WHEN (OLD.key = 'cloud-init.user-data' OR OLD.key = 'cloud-init.vendor-data'
   OR OLD.key = 'cloud-init.network-config' OR OLD.key = 'user.user-data'
   OR OLD.key = 'user.vendor-data' OR OLD.key = 'user.network-config')
 AND EXISTS (SELECT 1 FROM instances WHERE id = OLD.instance_id) BEGIN
    UPDATE config SET value = guestapi_uuid(), version = version + 1
    WHERE instance_id = OLD.instance_id AND key = 'volatile.cloud-init.instance-id';
END;

-- The triggers of other tables that write config, as v0002, v0001 and v0005 left them.
CREATE TRIGGER instances_created AFTER INSERT ON instances BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-created');
    INSERT INTO config (instance_id, key, value)
    VALUES (NEW.id, 'volatile.cloud-init.instance-id', guestapi_uuid())
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER devices_nic_hwaddr AFTER INSERT ON devices
WHEN json_extract(NEW.config, '$.type') = 'nic' AND json_extract(NEW.config, '$.hwaddr') IS NULL BEGIN
    INSERT INTO config (instance_id, key, value)
    VALUES (NEW.instance_id, 'volatile.' || NEW.name || '.hwaddr', guestapi_mac())
    ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER devices_deleted_volatile AFTER DELETE ON devices BEGIN
    DELETE FROM config
    WHERE instance_id = OLD.instance_id
      AND substr(key, 1, length('volatile.' || OLD.name || '.')) = 'volatile.' || OLD.name || '.'
      AND instr(substr(key, length('volatile.' || OLD.name || '.') + 1), '.') = 0
      AND key <> 'volatile.cloud-init.instance-id';
END;
