-- An instance belongs to the host, or to the container whose runtime hook registered it.
--
-- `container` is 'oci:<the OCI state id>' or 'lxc:<lxcpath>/<name>'; NULL is the host's (made
-- by `instance create` or `apply`). A hook may start, re-attach or stop only an instance of
-- its own container: annotations are the tenant's words, never the host's.
ALTER TABLE instances ADD COLUMN container TEXT;
CREATE INDEX instances_by_container ON instances (container);

-- Instances earlier hooks registered did not say so. Bound only where the registration can
-- have come from nothing but a hook: a host-made instance must never become a container's,
-- whose runtime could then re-attach it. The others stay the host's, which no hook may take
-- (the host hands them over with `instance attach NAME --container ID`).
--
-- LXC's hook named the instance after the container and recorded its payload cgroup,
-- /lxc.payload.<name> (LXC 4 and later); LXC's default lxcpath is /var/lib/lxc.
UPDATE instances SET container = 'lxc:/var/lib/lxc/' || name
WHERE cgroup = '/lxc.payload.' || name;

-- An OCI hook without a naming annotation named the instance by the container's id: podman
-- and CRI-O make 64 hex digits, which end the cgroup they give it (/libpod_parent/libpod-<id>,
-- .../crio-<id>.scope, .../libpod-<id>.scope, or /<id>). (Compared as text, not with LIKE or
-- GLOB patterns built from the name.)
UPDATE instances SET container = 'oci:' || name
WHERE container IS NULL AND cgroup IS NOT NULL
  AND length(name) = 64 AND NOT name GLOB '*[^0-9a-f]*'
  AND (substr(cgroup, -65) = '/' || name
    OR substr(cgroup, -65) = '-' || name
    OR substr(cgroup, -71) = '-' || name || '.scope');
