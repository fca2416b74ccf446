-- Each config value's digest, kept beside it: what a guest's answer names it by (its `ETag`,
-- README, "Watching for changes"). The first 16 bytes of the value's SHA-256
-- (`guestapi_digest`), so the same value has the same digest whoever wrote it, in any file, and
-- after any restart; reading it costs a guest's answer one small row, never a pass over a
-- large value.
--
-- Apart from `config`: a digest written into the value's own row would rewrite the value
-- (SQLite writes a row whole), and a large value's pages would be written twice.

CREATE TABLE config_digests (
    config_id INTEGER PRIMARY KEY REFERENCES config(id) ON DELETE CASCADE,
    digest    BLOB    NOT NULL
);
INSERT INTO config_digests (config_id, digest) SELECT id, guestapi_digest(value) FROM config;

CREATE TRIGGER config_digest_inserted AFTER INSERT ON config BEGIN
    INSERT OR REPLACE INTO config_digests (config_id, digest) VALUES (NEW.id, guestapi_digest(NEW.value));
END;

CREATE TRIGGER config_digest_updated AFTER UPDATE OF value ON config
WHEN OLD.value IS NOT NEW.value BEGIN
    UPDATE config_digests SET digest = guestapi_digest(NEW.value) WHERE config_id = NEW.id;
END;
