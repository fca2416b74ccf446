-- An instance belongs to the host, or to the container whose runtime hook registered it.
--
-- `container` is 'oci:<the OCI state id>' or 'lxc:<lxcpath>/<name>'; NULL is the host's (made
-- by `instance create` or `apply`). A hook may start, re-attach or stop only an instance of
-- its own container: annotations are the tenant's words, never the host's.
ALTER TABLE instances ADD COLUMN container TEXT;
CREATE INDEX instances_by_container ON instances (container);

-- Instances earlier hooks registered did not say so. Bound where the registration shows its
-- container; the others stay the host's, which no hook may take (the host hands them over
-- with `instance attach NAME --container ID`).
--
-- LXC's hook named the instance after the container and recorded its payload cgroup,
-- /lxc.payload.<name>; LXC's default lxcpath is /var/lib/lxc.
UPDATE instances SET container = 'lxc:/var/lib/lxc/' || name
WHERE cgroup = '/lxc.payload.' || name;

-- An OCI hook without a naming annotation named the instance by the container's id, which
-- the runtimes put at the end of its cgroup: runc /<id>, podman /libpod_parent/libpod-<id>,
-- CRI-O and systemd-managed runtimes <runtime>-<id>.scope. (Compared as text, not with LIKE
-- or GLOB: an id may hold their special characters.)
UPDATE instances SET container = 'oci:' || name
WHERE container IS NULL AND cgroup IS NOT NULL
  AND (substr(cgroup, -length(name) - 1) = '/' || name
    OR substr(cgroup, -length(name) - 1) = '-' || name
    OR substr(cgroup, -length(name) - 7) = '-' || name || '.scope');
