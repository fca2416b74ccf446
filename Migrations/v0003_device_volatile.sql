-- A removed device takes its volatile keys with it (volatile.<name>.hwaddr and any other
-- volatile.<name>.*), journaled like any config change: a nic added again under the same
-- name gets a new address, and nothing of the old one lingers. The prefix is compared as
-- bytes, not with GLOB: a device name may hold GLOB's special characters.
CREATE TRIGGER devices_deleted_volatile AFTER DELETE ON devices BEGIN
    DELETE FROM config
    WHERE instance_id = OLD.instance_id
      AND substr(key, 1, length('volatile.' || OLD.name || '.')) = 'volatile.' || OLD.name || '.';
END;
