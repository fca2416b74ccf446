#!/usr/bin/env bash
# Crash recovery (issue 6, hardening item 5): kill -9 guestapid at random points while
# the admin CLI commits changes, a guest marks itself Ready through the daemon and
# subscribers follow the events with replay; restart it after each kill. After every
# restart, and once more at the end, tools/crash/crash_test.py checks:
#
#   - the database passes `PRAGMA integrity_check` and journal ids are gap-free;
#   - every CLI invocation that exited 0 is journaled exactly once, none that failed
#     is, and every acknowledged `PATCH /1.0 {"state":"Ready"}` is journaled;
#   - each subscriber, resuming with `since=<last id it saw>`, got its guest-visible
#     journal entries once each, in id order (no duplicate, no gap);
#   - at the end, the config and devices are exactly what the committed changes made.
#
# It prints a table, one row per round, and exits 1 when anything failed. The binaries
# are copied first, so a rebuild during the run does not change them. Slow (a CLI
# process per change): about a minute for the defaults with the debug build.
#
# usage: tools/crash-test.sh [--rounds N] [--changes N] [--writers N] [--seed N]
#                            [--no-build] [--release] [--bin-dir DIR] [--keep]
#   --bin-dir  where guestapid and guestapi-admin are (default: .build/debug, or
#              .build/release with --release).
#   --keep     keep the state folder and the daemon's logs, and print where they are.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=20
changes=2000
writers=2
seed=
build=1
configuration=debug
bin_dir=
keep=0
# Debian's python3 has websocket-client (python3-websocket); another on PATH may not.
python=/usr/bin/python3

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --changes) changes=$2; shift 2 ;;
        --writers) writers=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --release) configuration=release; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); build=0; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "crash-test: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$rounds" "$changes" "$writers" ${seed:+"$seed"}; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "crash-test: counts must be non-negative integers" >&2; exit 2; }
done
((changes >= 4 * rounds)) || { echo "crash-test: give at least 4 changes per round" >&2; exit 2; }

log() { echo "crash-test: $*" >&2; }

"$python" -c 'import websocket, sqlite3' 2>/dev/null || { log "$python lacks websocket-client (apt-get install python3-websocket)"; exit 1; }

tmp=$(mktemp -d /tmp/crash-test.XXXXXX)
driver_pid=

cleanup() {
    local status=$?
    if [[ -n $driver_pid ]]; then kill -TERM "$driver_pid" 2>/dev/null || true; fi
    # The driver's daemon, if it is still running (the driver died first).
    if [[ -f $tmp/state/guestapid.lock ]]; then
        local pid
        pid=$(cat "$tmp/state/guestapid.lock" 2>/dev/null || true)
        if [[ $pid =~ ^[0-9]+$ ]] && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$tmp/bin/guestapid" ]]; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    if ((keep)); then log "state and logs kept in $tmp"; else rm -rf "$tmp"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z $bin_dir ]]; then
    bin_dir=$repo/.build/$configuration
    if ((build)); then
        log "building guestapid and guestapi-admin ($configuration)"
        for product in guestapid guestapi-admin; do
            (cd "$repo" && swift build -c "$configuration" --product "$product") >&2
        done
    fi
fi
mkdir -p "$tmp/bin" "$tmp/state"
for tool in guestapid guestapi-admin; do
    [[ -x $bin_dir/$tool ]] || { log "no $bin_dir/$tool (build it, or point --bin-dir at it)"; exit 1; }
    cp "$bin_dir/$tool" "$tmp/bin/$tool"
done

"$python" "$repo/tools/crash/crash_test.py" --bin-dir "$tmp/bin" --state "$tmp/state" \
    --rounds "$rounds" --changes "$changes" --writers "$writers" ${seed:+--seed "$seed"} &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=
exit "$status"
