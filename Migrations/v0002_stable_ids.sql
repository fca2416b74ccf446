-- Instance ids are never reused, and a repeated Ready is not journaled.
--
-- v0001's `id INTEGER PRIMARY KEY` handed the id of the newest instance, once deleted, to the
-- next one created: connections, event streams, the journal and connection limits keyed by
-- id then reached another tenant. AUTOINCREMENT never gives an id twice; SQLite cannot add
-- it in place, so the table is rebuilt, every row keeping its id, and the sequence starts
-- above every id ever used, a deleted instance's that only the journal remembers included.
--
-- The migrator runs this with foreign keys off (dropping the table would cascade to config
-- and devices) and checks them before it commits.

CREATE TEMP TABLE instances_v1 AS SELECT * FROM instances;
DROP TABLE instances;

CREATE TABLE instances (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL DEFAULT 'container'
                            CHECK (type IN ('container', 'virtual-machine')),
    init_pid        INTEGER,
    init_start_time INTEGER,
    pidns_inode     INTEGER UNIQUE,
    cgroup          TEXT    UNIQUE,
    root_uid        INTEGER NOT NULL DEFAULT 0,
    ready           INTEGER NOT NULL DEFAULT 0,
    generation      INTEGER NOT NULL DEFAULT 0,  -- bumped by attach: open connections re-check
    created_ns      INTEGER NOT NULL
);
CREATE INDEX instances_by_init_pid ON instances (init_pid);

-- Before the triggers exist: copying is not creating.
INSERT INTO instances (id, name, type, init_pid, init_start_time, pidns_inode, cgroup, root_uid, ready, generation, created_ns)
SELECT id, name, type, init_pid, init_start_time, pidns_inode, cgroup, root_uid, ready, generation, created_ns
FROM instances_v1;
DROP TABLE instances_v1;

-- (sqlite_sequence has no key on name: one row, replaced by hand.)
DELETE FROM sqlite_sequence WHERE name = 'instances';
INSERT INTO sqlite_sequence (name, seq)
VALUES ('instances', max(coalesce((SELECT max(id) FROM instances), 0),
                         coalesce((SELECT max(instance_id) FROM journal), 0)));

-- The lifecycle triggers went with the old table.
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

-- Only a change to Ready is journaled: a guest repeating it cannot flood the journal.
CREATE TRIGGER instances_ready AFTER UPDATE OF ready ON instances WHEN NEW.ready = 1 AND OLD.ready = 0 BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-ready');
END;
