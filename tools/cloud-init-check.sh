#!/usr/bin/env bash
# Proves that cloud-init's own LXD datasource (Debian package cloud-init,
# cloudinit/sources/DataSourceLXD.py: a client nobody here wrote) reads its
# meta-data, user-data, vendor-data, network-config, config keys and devices
# from guestapid.
#
# On a temporary state it registers this very shell as instance c1 (so every
# child of it, the python check included, resolves to c1 by ancestry), with
# cloud-init.* and user.* keys, a key the guest must not see, a nic (its hwaddr
# left to the daemon) and a disk; starts guestapid; runs
# tools/cloud_init_check.py with Debian's /usr/bin/python3, which points
# DataSourceLXD.LXD_SOCKET_PATH at the socket and runs read_metadata() and
# DataSourceLXD.get_data(); then prints PASS or FAIL with what was read.
# The daemon and the temporary folder go away on exit, whatever happens.
#
# usage: tools/cloud-init-check.sh [--release] [--no-build] [--bin-dir DIR] [--keep]
#   --release   build and use the release binaries (default: debug)
#   --no-build  use the binaries as they are
#   --bin-dir   where guestapid and guestapi-admin are (implies --no-build)
#   --keep      keep the temporary state folder (its path is printed)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
configuration=debug
build=1
bin_dir=
keep=0
python=/usr/bin/python3   # Debian's, where the cloud-init package lives (not a pyenv one)

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --release) configuration=release; shift ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); build=0; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "cloud-init-check: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { echo "cloud-init-check: $*" >&2; }
fail() { echo "FAIL: $*"; exit 1; }

if ! "$python" -c 'import cloudinit.sources.DataSourceLXD' 2>/dev/null; then
    fail "$python cannot import cloudinit.sources.DataSourceLXD: install the Debian package cloud-init"
fi

if ((build)); then
    log "swift build -c $configuration"
    (cd "$repo" && swift build -c "$configuration" --product guestapid >&2 && swift build -c "$configuration" --product guestapi-admin >&2)
fi
bin_dir=${bin_dir:-$repo/.build/$configuration}
admin=$bin_dir/guestapi-admin
daemon=$bin_dir/guestapid
[[ -x $admin && -x $daemon ]] || fail "no guestapid/guestapi-admin in $bin_dir (build first)"

tmp=$(mktemp -d /tmp/cloud-init-check.XXXXXX)
state=$tmp/state
socket=$state/guestapi/sock
daemon_pid=

cleanup() {
    local status=$?
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    if ((keep)); then log "state kept in $tmp"; else rm -rf "$tmp"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What the instance carries. cloud-init reads these through the socket only.
user_data='#cloud-config
hostname: c1
packages:
  - hello
runcmd:
  - [echo, "written by guestapi-admin, read by cloud-init"]
'
vendor_data='#cloud-config
bootcmd:
  - echo vendor
'
network_config='version: 2
ethernets:
  eth0:
    dhcp4: true
'
meta_data='availability-zone: guestapi-zone
public-keys:
  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@guestapi
'
printf '%s' "$user_data" >"$tmp/user-data"
printf '%s' "$vendor_data" >"$tmp/vendor-data"
printf '%s' "$network_config" >"$tmp/network-config"

a() { "$admin" "$@" --state-dir "$state"; }

a instance create c1 --pid $$ --root-uid "$(id -u)" \
    --config "cloud-init.user-data=$user_data" \
    --config "cloud-init.vendor-data=$vendor_data" \
    --config "cloud-init.network-config=$network_config" \
    --config "user.meta-data=$meta_data" \
    --config user.foo=bar \
    --config limits.cpu=2 >/dev/null
a device add eth0 nic nictype=bridged parent=incusbr0 name=eth0 >/dev/null
a device add root disk path=/ pool=default >/dev/null
instance_id=$(a get volatile.cloud-init.instance-id)
hwaddr=$(a get volatile.eth0.hwaddr)
[[ -n $instance_id && -n $hwaddr ]] || fail "no volatile.cloud-init.instance-id or volatile.eth0.hwaddr"
log "instance c1 = this shell (pid $$), instance-id $instance_id, eth0 hwaddr $hwaddr"

"$daemon" --state-dir "$state" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon_pid=$!
for _ in $(seq 200); do
    [[ -S $socket ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || fail "guestapid exited: $(cat "$tmp/daemon.err")"
    sleep 0.05
done
[[ -S $socket ]] || fail "no socket at $socket after 10 s: $(cat "$tmp/daemon.err")"
log "$(head -n 1 "$tmp/daemon.out")"

# A child of this shell: guestapid resolves it to c1.
set +e
"$python" "$repo/tools/cloud_init_check.py" "$socket" \
    --instance-id "$instance_id" \
    --hostname c1 \
    --user-data-file "$tmp/user-data" \
    --vendor-data-file "$tmp/vendor-data" \
    --network-config-file "$tmp/network-config" \
    --meta availability-zone=guestapi-zone \
    --config user.foo=bar \
    --absent-config limits.cpu \
    --device eth0:type=nic --device eth0:parent=incusbr0 --device "eth0:hwaddr=$hwaddr" \
    --device root:type=disk --device root:path=/ --devices 2 \
    --cloud-config hostname=c1 \
    >"$tmp/check.json" 2>"$tmp/check.err"
status=$?
set -e

cat "$tmp/check.json"
cat "$tmp/check.err" >&2
if ((status == 0)); then
    echo "PASS: cloud-init $("$python" -c 'from cloudinit.version import version_string as v; print(v())') DataSourceLXD read instance-id $instance_id, hostname c1, user-data, vendor-data, network-config, 2 devices from $socket"
else
    echo "FAIL: cloud-init's DataSourceLXD against guestapid (exit $status), see above"
    exit 1
fi
