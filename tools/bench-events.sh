#!/usr/bin/env bash
# Benchmarks guestapid's event delivery (README, "Events and replay") with the release build
# and tools/events/bench_events.py, a WebSocket client over the guest socket:
#
#   latency  200 `guestapi-admin set user.k vN` commands, one at a time; for each,
#            the time from the command's exit to the event's arrival at a
#            subscriber. Targets: p50 <= 2 ms, p99 <= 10 ms.
#   fan-out  1,000 WebSocket subscribers of one instance; one change per round;
#            for each subscriber, the time from the commit to the event's arrival.
#            Target: p99 <= 100 ms. The commit's time is the journal entry's
#            timestamp, carried by the event: taken inside the transaction, so
#            "commit -> event" figures include the COMMIT (its fsync) itself.
#
# The benchmark shell is the instance's init; the client runs as its descendant,
# so the daemon resolves every connection to that instance. The client, the
# daemon and the CLI share the machine's cores: on a small machine the fan-out
# figure includes the client's own time to read 1,000 sockets. Everything
# started here is stopped on exit.
#
# usage: tools/bench-events.sh [--sets N] [--subscribers N] [--rounds N]
#                              [--no-build] [--bin-dir DIR]
#   --bin-dir  where the release binaries are (default: .build/release).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sets=200
subscribers=1000
rounds=5
build=1
bin_dir=$repo/.build/release
# Debian's python3 has websocket-client (python3-websocket); another on PATH may not.
python=/usr/bin/python3

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --sets) sets=$2; shift 2 ;;
        --subscribers) subscribers=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-events: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$sets" "$subscribers" "$rounds"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench-events: counts must be positive integers" >&2; exit 2; }
done

log() { echo "bench-events: $*" >&2; }

"$python" -c 'import websocket' 2>/dev/null || { log "$python lacks websocket-client (apt-get install python3-websocket)"; exit 1; }

tmp=$(mktemp -d /tmp/bench-events.XXXXXX)
guestapid_pid=

cleanup() {
    local status=$?
    # TERM, then wait: guestapid closes the streams and removes its socket.
    if [[ -n $guestapid_pid ]]; then
        kill -TERM "$guestapid_pid" 2>/dev/null || true
        wait "$guestapid_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- binaries ---------------------------------------------------------------

if ((build)); then
    log "building guestapid and guestapi-admin (release)"
    for product in guestapid guestapi-admin; do
        (cd "$repo" && swift build -c release --product "$product") >&2
    done
fi
for tool in guestapid guestapi-admin; do
    [[ -x $bin_dir/$tool ]] || { log "no $bin_dir/$tool (build it, or point --bin-dir at it)"; exit 1; }
done
admin=$bin_dir/guestapi-admin

# --- guestapid --------------------------------------------------------------

state=$tmp/state
instance=bench
"$admin" instance create "$instance" --pid $$ --state-dir "$state" >/dev/null
# 1,000 subscribers are 1,000 connections of one instance (and file descriptors).
ulimit -n "$(ulimit -Hn)"
log "starting guestapid"
"$bin_dir/guestapid" --state-dir "$state" --max-conns-per-instance $((subscribers + 1000)) >"$tmp/guestapid.log" 2>&1 &
guestapid_pid=$!
for ((i = 0; i < 200; i++)); do
    [[ -S $state/guestapi/sock ]] && break
    kill -0 "$guestapid_pid" 2>/dev/null || { log "guestapid exited"; cat "$tmp/guestapid.log" >&2; exit 1; }
    sleep 0.05
done
[[ -S $state/guestapi/sock ]] || { log "guestapid did not create its socket within 10 s"; exit 1; }

# --- runs -------------------------------------------------------------------

client=("$python" "$repo/tools/events/bench_events.py" --socket "$state/guestapi/sock" --admin "$admin"
        --state-dir "$state" --instance "$instance")
log "latency: $sets sets, one at a time"
latency=$("${client[@]}" latency --sets "$sets")
log "$latency"
log "fan-out: $subscribers subscribers, $rounds rounds of one change"
fanout=$("${client[@]}" fanout --subscribers "$subscribers" --rounds "$rounds")
log "$fanout"

# --- report -----------------------------------------------------------------

"$python" - "$latency" "$fanout" "$(nproc)" <<'EOF'
import json, sys
latency, fanout, cores = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
rows = [
    ("latency p50, command exit -> event (%d sets)" % latency["exit_to_event"]["count"],
     latency["exit_to_event"]["p50_ms"], "<= 2 ms"),
    ("latency p99, command exit -> event", latency["exit_to_event"]["p99_ms"], "<= 10 ms"),
    ("latency max, command exit -> event", latency["exit_to_event"]["max_ms"], "-"),
    ("latency p50, signed (negative: came before the exit)", latency["exit_to_event_signed"]["p50_ms"], "-"),
    ("latency p50, commit -> event", latency["commit_to_event"]["p50_ms"], "-"),
    ("latency p99, commit -> event", latency["commit_to_event"]["p99_ms"], "-"),
    ("fan-out p50, commit -> event (%d subscribers x %d)" % (fanout["subscribers"], fanout["rounds"]),
     fanout["commit_to_event"]["p50_ms"], "-"),
    ("fan-out p99, commit -> event", fanout["commit_to_event"]["p99_ms"], "<= 100 ms"),
    ("fan-out max, commit -> event", fanout["commit_to_event"]["max_ms"], "-"),
    ("fan-out p99, command exit -> event", fanout["exit_to_event"]["p99_ms"], "-"),
]
print()
print("guestapid events, release build, %s cores" % cores)
print("%-52s %10s  %s" % ("figure", "value (ms)", "target"))
for figure, value, target in rows:
    print("%-52s %10.3f  %s" % (figure, value, target))
print("%-52s %10s  %s" % ("fan-out events delivered", "%d/%d" % (fanout["delivered"], fanout["expected"]), "all"))
print("%-52s %10d  %s" % ("latency events that came before their command exited", latency["before_exit"], "(counted as 0)"))
EOF
