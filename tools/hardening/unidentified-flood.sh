#!/usr/bin/env bash
# 10,000 unidentified connections (README, "Limits a guest cannot pass") at full size; the test suite runs the
# same check with 2,000 (HostileClientsTests), since a debug daemon takes about 1 ms to resolve
# and refuse each one.
#
# On a temporary state it starts guestapid and registers one process as instance c1: a
# patient client (`slow_clients.py probe`) that asks GET /1.0 again and again. Meanwhile this
# shell, which no instance owns, opens COUNT connections and holds them
# (`slow_clients.py hold`). Unidentified callers share one allowance of 256, so the daemon
# keeps at most that many and its descriptors stay few; c1 must be served all along.
# Prints the numbers, then PASS or FAIL.
#
# usage: tools/hardening/unidentified-flood.sh [--release] [--no-build] [--bin-dir DIR] [COUNT]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
configuration=debug
build=1
bin_dir=
count=10000
python=/usr/bin/python3

while (($#)); do
    case $1 in
        --release) configuration=release; shift ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); build=0; shift 2 ;;
        [0-9]*) count=$1; shift ;;
        *) echo "unidentified-flood: unknown option $1" >&2; exit 2 ;;
    esac
done

if ((build)); then
    (cd "$repo" && swift build -c "$configuration" --product guestapid >&2 && swift build -c "$configuration" --product guestapi-admin >&2)
fi
bin_dir=${bin_dir:-$repo/.build/$configuration}

tmp=$(mktemp -d /tmp/unidentified-flood.XXXXXX)
state=$tmp/state
socket=$state/guestapi/sock
daemon_pid= prober=
cleanup() {
    local status=$?
    [[ -n $prober ]] && kill "$prober" 2>/dev/null || true
    if [[ -n $daemon_pid ]]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin_dir/guestapid" --state-dir "$state" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon_pid=$!
for _ in $(seq 200); do [[ -S $socket ]] && break; sleep 0.05; done
[[ -S $socket ]] || { echo "FAIL: guestapid did not start: $(cat "$tmp/daemon.err")"; exit 1; }

# The prober becomes c1's init before it asks anything: it waits for its registration.
bash -c 'while [ ! -e "$0/registered" ]; do sleep 0.05; done; exec "$1" "$2/slow_clients.py" probe "$3" --until "$0/stop-probe" --expect container' \
    "$tmp" "$python" "$here" "$socket" >"$tmp/probe.json" &
prober=$!
"$bin_dir/guestapi-admin" instance create c1 --pid "$prober" --root-uid "$(id -u)" --state-dir "$state" >/dev/null
touch "$tmp/registered"

echo "unidentified-flood: opening $count connections" >&2
"$python" "$here/slow_clients.py" hold "$socket" "$count" --until "$tmp/release" >"$tmp/hold.json" &
flooder=$!
for _ in $(seq 1200); do grep -q holding "$tmp/hold.json" 2>/dev/null && break; sleep 0.1; done
descriptors=$(ls "/proc/$daemon_pid/fd" | wc -l)
touch "$tmp/release"
wait "$flooder"
touch "$tmp/stop-probe"
wait "$prober"
prober=

"$python" - "$tmp/hold.json" "$tmp/probe.json" "$descriptors" "$count" <<'EOF'
import json, sys
hold = [json.loads(line) for line in open(sys.argv[1]) if "opened" in line][0]
probe = json.load(open(sys.argv[2]))
descriptors, count = int(sys.argv[3]), int(sys.argv[4])
kept = hold["opened"] - hold["refused"]
print("%d unidentified connections: %d kept, %d refused; the daemon held %d descriptors meanwhile"
      % (hold["opened"], kept, hold["refused"], descriptors))
print("c1 meanwhile: %d/%d requests served, median %.3f s, max %.3f s%s"
      % (probe["ok"], probe["requests"], probe["median_seconds"], probe["max_seconds"],
         ", failures %s" % probe["failures"] if probe["failures"] else ""))
ok = hold["opened"] == count and kept <= 256 and descriptors < 1000 and probe["requests"] > 0 and probe["ok"] == probe["requests"]
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
