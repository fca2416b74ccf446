-- A stopped instance (its container stopped: a runtime's post-stop hook said so) keeps its
-- config and devices, but no process is recognized as it and its Ready state is cleared, as
-- Incus does. Stopping and starting are journaled for the host.
ALTER TABLE instances ADD COLUMN stopped INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER instances_stopped AFTER UPDATE OF stopped ON instances WHEN NEW.stopped = 1 AND OLD.stopped = 0 BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-stopped');
END;

CREATE TRIGGER instances_started AFTER UPDATE OF stopped ON instances WHEN NEW.stopped = 0 AND OLD.stopped = 1 BEGIN
    INSERT INTO journal (ts_ns, instance_id, instance, kind, action)
    VALUES (guestapi_now_ns(), NEW.id, NEW.name, 'lifecycle', 'instance-started');
END;
