-- v0003's trigger took every key under 'volatile.<name>.': removing device "a" took device
-- "a.b"'s keys too, and removing a device named "cloud-init" took
-- volatile.cloud-init.instance-id, which nothing makes again. A device's own keys are
-- volatile.<name>.<field>, one field with no dot; the instance id is never one of them.
DROP TRIGGER devices_deleted_volatile;

CREATE TRIGGER devices_deleted_volatile AFTER DELETE ON devices BEGIN
    DELETE FROM config
    WHERE instance_id = OLD.instance_id
      AND substr(key, 1, length('volatile.' || OLD.name || '.')) = 'volatile.' || OLD.name || '.'
      AND instr(substr(key, length('volatile.' || OLD.name || '.') + 1), '.') = 0
      AND key <> 'volatile.cloud-init.instance-id';
END;
