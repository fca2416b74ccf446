-- One meaning per name: an instance's count of identities attached was called "generation",
-- the word the store uses for the database file's reopenings. The column is renamed (the
-- instances_attached trigger follows it, as SQLite rewrites triggers on a rename).
ALTER TABLE instances RENAME COLUMN generation TO attach_count;
