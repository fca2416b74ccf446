#!/usr/bin/env bash
# Checks the daemon's two slow timers, too slow for the test suite (about 30 s each, run side
# by side): an idle keep-alive connection is closed after 30 s (README, "Limits a guest cannot pass"), and a
# WebSocket event stream whose client never answers a ping is closed after more than two
# missed pongs, pings being 10 s apart (section 4).
#
# On a temporary state it registers this very shell as instance c1 (so that the clients,
# its children, resolve to c1 by ancestry), starts guestapid, runs
# `slow_clients.py idle` and `ws_abuse.py never-pongs` at once, and prints PASS or FAIL
# with what was measured. The daemon and the temporary folder go away on exit.
#
# usage: tools/hardening/slow-timeouts.sh [--release] [--no-build] [--bin-dir DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
configuration=debug
build=1
bin_dir=
python=/usr/bin/python3

while (($#)); do
    case $1 in
        --release) configuration=release; shift ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); build=0; shift 2 ;;
        *) echo "slow-timeouts: unknown option $1" >&2; exit 2 ;;
    esac
done

if ((build)); then
    (cd "$repo" && swift build -c "$configuration" --product guestapid >&2 && swift build -c "$configuration" --product guestapi-admin >&2)
fi
bin_dir=${bin_dir:-$repo/.build/$configuration}

tmp=$(mktemp -d /tmp/slow-timeouts.XXXXXX)
state=$tmp/state
socket=$state/guestapi/sock
daemon_pid=
cleanup() {
    local status=$?
    if [[ -n $daemon_pid ]]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin_dir/guestapi-admin" instance create c1 --pid $$ --root-uid "$(id -u)" --state-dir "$state" >/dev/null
"$bin_dir/guestapid" --state-dir "$state" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon_pid=$!
for _ in $(seq 200); do [[ -S $socket ]] && break; sleep 0.05; done
[[ -S $socket ]] || { echo "FAIL: guestapid did not start: $(cat "$tmp/daemon.err")"; exit 1; }

echo "slow-timeouts: waiting about 30 s for both timers" >&2
"$python" "$here/slow_clients.py" idle "$socket" >"$tmp/idle.json" &
idle_pid=$!
"$python" "$here/ws_abuse.py" "$socket" never-pongs >"$tmp/pongs.json" || true
wait "$idle_pid"

idle=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["closed_after"])' "$tmp/idle.json")
pongs=$("$python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["seconds"] if r["ended"] else "never")' "$tmp/pongs.json")
echo "idle keep-alive connection closed after $idle s (want 30)"
echo "WebSocket stream without pongs closed after $pongs s (want about 30: pings at 10, 20, 30 s)"
"$python" - "$idle" "$pongs" <<'EOF'
import sys
idle, pongs = float(sys.argv[1]), sys.argv[2]
ok = 29.5 <= idle <= 33 and pongs != "never" and 29 <= float(pongs) <= 36
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
