/// The schema migrations, in order. Append-only: a shipped entry is never edited or removed.
public let schemaMigrations: [(version: Int, name: String, sql: [UInt8])] = [
    (1, "schema", PackageResources.v0001_schema_sql),
    (2, "stable-ids", PackageResources.v0002_stable_ids_sql),
    (3, "device-volatile", PackageResources.v0003_device_volatile_sql),
    (4, "stopped", PackageResources.v0004_stopped_sql),
    (5, "device-volatile-exact", PackageResources.v0005_device_volatile_exact_sql),
    (6, "container-owner", PackageResources.v0006_container_owner_sql),
    (7, "config-values", PackageResources.v0007_config_values_sql),
    (8, "config-digests", PackageResources.v0008_config_digests_sql),
]
