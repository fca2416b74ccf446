-- guestapi schema, version 1. Shipped migrations are never edited: add a new file.
--
-- The journal is written by triggers in the same transaction as the change,
-- so no writer can forget it. guestapi_now_ns() is registered by every
-- guestapi connection; a writer without it cannot change journaled tables.

CREATE TABLE instances (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL DEFAULT 'container'
                            CHECK (type IN ('container', 'virtual-machine')),
    init_pid        INTEGER,
    init_start_time INTEGER,
    pidns_inode     INTEGER UNIQUE,
    cgroup          TEXT    UNIQUE,
    root_uid        INTEGER NOT NULL DEFAULT 0,
    ready           INTEGER NOT NULL DEFAULT 0,
    generation      INTEGER NOT NULL DEFAULT 0,  -- bumped by attach: open connections re-resolve
    created_ns      INTEGER NOT NULL
);
-- Not unique: a dead instance's pid number may come back as another's init;
-- the start time tells them apart.
CREATE INDEX instances_by_init_pid ON instances (init_pid);

CREATE TABLE config (
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    value       BLOB    NOT NULL,
    PRIMARY KEY (instance_id, key)
) WITHOUT ROWID;

-- A device's config is a JSON object of strings, "type" included.
CREATE TABLE devices (
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    config      TEXT    NOT NULL CHECK (json_valid(config) AND json_type(config) = 'object'),
    PRIMARY KEY (instance_id, name)
) WITHOUT ROWID;

CREATE TABLE images (
    fingerprint TEXT    PRIMARY KEY CHECK (length(fingerprint) = 64),
    size        INTEGER NOT NULL,
    extension   TEXT    NOT NULL DEFAULT '',
    public      INTEGER NOT NULL DEFAULT 0,
    created_ns  INTEGER NOT NULL
);

-- Append-only change capture. AUTOINCREMENT: ids never come back after a prune,
-- and a rolled-back transaction takes its ids with it, so ids are gap-free in
-- commit order (SQLite has one writer at a time).
--   kind 'config':    name = key,    old_value/value = the values (NULL when absent)
--   kind 'device':    name = device, action = added|updated|removed, value = config JSON
--   kind 'lifecycle': action = instance-created|instance-deleted|instance-attached|instance-updated|instance-ready
CREATE TABLE journal (
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
CREATE INDEX journal_by_instance ON journal (instance_id, id);

-- Lifecycle.
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

-- Every Ready is journaled, even a repeated one; Started is not an event.
CREATE TRIGGER instances_ready AFTER UPDATE OF ready ON instances WHEN NEW.ready = 1 BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-ready');
END;

-- Config. Rows removed by an instance's deletion (cascade) are not journaled:
-- the instance's own lifecycle entry says it.
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

-- volatile.cloud-init.instance-id is made anew when cloud-init's inputs change.
-- (`=` joined by OR, not `IN (…)`: with three or more constants SQLite builds an ephemeral
-- index each time the expression runs, which was more than half of a bulk apply's time.)
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

-- Devices.
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

-- A nic added without hwaddr gets volatile.<name>.hwaddr, once.
CREATE TRIGGER devices_nic_hwaddr AFTER INSERT ON devices
WHEN json_extract(NEW.config, '$.type') = 'nic' AND json_extract(NEW.config, '$.hwaddr') IS NULL BEGIN
    INSERT INTO config (instance_id, key, value)
    VALUES (NEW.instance_id, 'volatile.' || NEW.name || '.hwaddr', guestapi_mac())
    ON CONFLICT DO NOTHING;
END;
