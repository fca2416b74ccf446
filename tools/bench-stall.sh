#!/usr/bin/env bash
# What a hostile guest costs another instance: each part measures a victim instance
# quiet, then under the attack, on a guestapid of its own (fresh temp state), and the
# table puts both side by side.
#
#   deep    an unregistered caller 4,000 processes deep (tools/stall/chain.c, compiled
#           here) opens 300 connections at once, GET /1.0 on each, reads the answers,
#           again and again. Identity is matched on accept by walking the caller's
#           ancestry, so each of its connections costs a walk of 4,000 processes.
#           Victim: 300 new connections one after another, each timed from connect to
#           the answer's first byte. Target: p99 under attack within 5 ms of quiet p99.
#   replay  instance replayer has 40 journaled changes of a 1.6 MB value (events of
#           3.2 MB: old and new value); 30 of its processes subscribe with since=0 at
#           once and read everything. Victim: keep-alive GET /1.0 in a loop, each
#           request timed, quiet for 5 s, then for as long as the replays run.
#           Target: p99 <= 50 ms. A loop makes thousands of fast requests for each
#           slow one, so the table also gives the requests over 50 ms and the max.
#           The daemon's RSS is watched meanwhile (killed past 8 GB).
#   rss     the same journal; 60 subscribers with since=0 finish the handshake and
#           never read. The daemon's VmRSS is sampled every 100 ms for 20 s (and its
#           VmHWM read); then they all close, and RSS is read 10 s later.
#           Target: peak <= 300 MB.
#
# Every client has a budget, so a daemon that stalls for minutes gives "> N s" or
# "timeout", not a hung run; in the rss part a daemon whose RSS passes 4 GB is killed
# and reported as "> 4096 MB". A victim is a process registered as instance victim
# (`instance attach --pid`) that runs the client as its child; the attacker descends
# from this script, which no instance owns. Each client runs in a session of its own,
# so that the trap ends it with everything it started (the 4,000-process chain too).
# Progress goes to stderr, the table to stdout. Run as root: the daemon must read
# the clients' /proc entries, and the instances are registered by pid.
#
# usage: tools/bench-stall.sh [--only deep|replay|rss] [--no-build] [--bin-dir DIR]
#   --only     run one part (default: all three)
#   --no-build use the binaries as they are (default: swift build -c release first)
#   --bin-dir  where guestapid and guestapi-admin are (default: .build/release)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=$repo/.build/release
build=1
only=
python=/usr/bin/python3
clients=$repo/tools/stall/clients.py
depth=4000
attack_conns=300
victim_conns=300
budget=60          # s: each victim churn run
changes=40
value_bytes=1600000
readers=30
replay_timeout=120 # s: all replays, and the victim beside them
stallers=60
cap_mb=4096        # the rss part's daemon is killed past it
replay_cap_mb=8192 # the replay part's: only to protect the machine (an old daemon took 3.9 GB)

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --only) only=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-stall: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ -z $only || $only =~ ^(deep|replay|rss)$ ]] || { echo "bench-stall: --only takes deep, replay or rss" >&2; exit 2; }
want() { [[ -z $only || $only == "$1" ]]; }

log() { echo "bench-stall: $*" >&2; }

((EUID == 0)) || { log "run as root"; exit 1; }

tmp=$(mktemp -d /tmp/bench-stall.XXXXXX)
sessions=()   # process groups of the clients, each ended whole
daemon_pid=

end_session() { # pid: TERM its group (chain.c lets its levels exit in turn), KILL what is left after 10 s
    local i
    kill -TERM -- "-$1" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$1" 2>/dev/null || true
    { wait "$1"; } 2>/dev/null || true
}

stop_daemon() {
    [[ -n $daemon_pid ]] || return 0
    kill -TERM "$daemon_pid" 2>/dev/null || true
    # An old daemon may be stuck in a loop: it gets 10 s.
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
    daemon_pid=
}

cleanup() {
    local status=$? pid
    for pid in "${sessions[@]}"; do end_session "$pid"; done
    stop_daemon
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- binaries -----------------------------------------------------------------

if ((build)); then
    log "building release binaries"
    (cd "$repo" && swift build -c release --product guestapid && swift build -c release --product guestapi-admin) >&2
fi
for tool in guestapid guestapi-admin; do
    [[ -x $bin_dir/$tool ]] || { log "no $bin_dir/$tool (build it, or point --bin-dir at it)"; exit 1; }
done
admin=$bin_dir/guestapi-admin
[[ -x $python ]] || { log "needs $python"; exit 1; }

# --- helpers ------------------------------------------------------------------

start_daemon() { # name: serves $tmp/name, which must hold the state
    state=$tmp/$1
    socket=$state/guestapi/sock
    "$bin_dir/guestapid" --state-dir "$state" >"$tmp/$1.out" 2>"$tmp/$1.err" &
    daemon_pid=$!
    # The RSS cap may kill it: no "Killed" job notice in the middle of the output.
    disown "$daemon_pid"
    for ((i = 0; i < 300; i++)); do
        grep -qs serving "$tmp/$1.out" && return 0
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    log "guestapid ($1) did not start serving:"; cat "$tmp/$1.err" >&2
    exit 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon_pid/status"; }

# Runs a command as a child of a new process that is registered as instance NAME (the
# daemon then resolves the command's connections to NAME); sets $job to that process.
as_instance() { # name out-file command...
    local name=$1 out=$2 go=$tmp/go.$RANDOM
    shift 2
    # `exit $?` keeps bash from exec'ing the command: the registered pid stays its parent.
    setsid bash -c 'while [ ! -e "$0" ]; do sleep 0.02; done; "$@"; exit $?' "$go" "$@" \
        >"$out" 2>>"$tmp/clients.err" &
    job=$!
    sessions+=("$job")
    "$admin" instance attach "$name" --pid "$job" --state-dir "$state" >/dev/null
    touch "$go"
}

background() { # out-file command...: a session of its own, ended by the trap; sets $job
    local out=$1
    shift
    setsid "$@" >"$out" 2>>"$tmp/clients.err" &
    job=$!
    sessions+=("$job")
}

wait_job() { # pid seconds: waits at most that long, then ends its session
    local end=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
    kill -0 "$1" 2>/dev/null && log "pid $1 still running after $2 s: ending it"
    end_session "$1"
}

# --- deep: an unregistered caller 4,000 processes deep --------------------------

if want deep; then
    log "deep: compiling the process chain"
    # Static: 4,000 execs of it, and the fewer mappings each level has, the cheaper its fork.
    gcc -O2 -static -o "$tmp/chain" "$repo/tools/stall/chain.c"
    mkdir -p "$tmp/deep"
    state=$tmp/deep
    "$admin" instance create victim --state-dir "$state" >/dev/null
    start_daemon deep
    churn=("$python" "$clients" churn --socket "$socket" --count "$victim_conns" --budget "$budget")

    log "deep: victim quiet, $victim_conns connections one at a time"
    as_instance victim "$tmp/deep-quiet.json" "${churn[@]}"
    wait_job "$job" $((budget + 15))

    log "deep: starting the attacker under $depth levels of processes ($attack_conns connections a round)"
    background "$tmp/deep-attacker.jsonl" "$tmp/chain" "$depth" "$python" "$clients" attack --socket "$socket" \
        --conns "$attack_conns" --ready "$tmp/deep-ready.json"
    attacker=$job
    for ((i = 0; i < 600; i++)); do [[ -s $tmp/deep-ready.json ]] && break; sleep 0.1; done
    [[ -s $tmp/deep-ready.json ]] || log "deep: the attacker did not start within 60 s"
    sleep 1  # its first round is queued on the daemon by now
    log "deep: victim under attack (budget $budget s)"
    as_instance victim "$tmp/deep-attack.json" "${churn[@]}"
    wait_job "$job" $((budget + 15))
    log "deep: attacker rounds: $(wc -l <"$tmp/deep-attacker.jsonl"), last: $(tail -n 1 "$tmp/deep-attacker.jsonl")"
    end_session "$attacker"
    stop_daemon
fi

# --- the journal of replay and rss ----------------------------------------------

if want replay || want rss; then
    log "journal: $changes changes of a $value_bytes-byte value of instance replayer"
    journal=$tmp/journal
    mkdir -p "$journal" "$tmp/values"
    "$admin" instance create victim --state-dir "$journal" >/dev/null
    "$admin" instance create replayer --state-dir "$journal" >/dev/null
    # base64 of random bytes: printable, never escaped in JSON, different every time.
    "$python" - "$tmp/values" "$changes" "$value_bytes" <<'EOF'
import base64, os, sys
folder, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    with open(os.path.join(folder, "v%d" % i), "wb") as f:
        f.write(base64.b64encode(os.urandom(size * 3 // 4 + 3))[:size])
EOF
    for ((i = 0; i < changes; i++)); do
        "$admin" set user.big --file "$tmp/values/v$i" --instance replayer --state-dir "$journal" >/dev/null
    done
    rm -rf "$tmp/values"
    log "journal: $(du -sh "$journal" | cut -f1) of state"
fi

# --- replay: 30 subscribers replaying it ----------------------------------------

if want replay; then
    cp -a "$tmp/journal" "$tmp/replay"
    start_daemon replay
    log "replay: victim quiet, keep-alive GET /1.0 for 5 s"
    as_instance victim "$tmp/replay-quiet.json" "$python" "$clients" keepalive --socket "$socket" --seconds 5 --budget 20
    wait_job "$job" 25

    log "replay: $readers subscribers with since=0 (timeout $replay_timeout s), victim beside them"
    background "$tmp/replay-rss.json" "$python" "$clients" rss --pid "$daemon_pid" --seconds $((replay_timeout + 30)) \
        --cap-mb "$replay_cap_mb" --stop "$tmp/replay.stop"
    watcher=$job
    as_instance victim "$tmp/replay-attack.json" "$python" "$clients" keepalive --socket "$socket" \
        --stop "$tmp/replay.stop" --budget $((replay_timeout + 15))
    victim=$job
    sleep 0.5
    as_instance replayer "$tmp/replay-subs.json" "$python" "$clients" replay --socket "$socket" \
        --count "$readers" --expect "$changes" --timeout "$replay_timeout"
    wait_job "$job" $((replay_timeout + 10))
    touch "$tmp/replay.stop"
    wait_job "$victim" 20
    wait_job "$watcher" 5
    log "replay: subscribers $(cat "$tmp/replay-subs.json"); daemon RSS $(cat "$tmp/replay-rss.json")"
    stop_daemon
fi

# --- rss: 60 subscribers that never read ----------------------------------------

quiet_rss=0
if want rss; then
    cp -a "$tmp/journal" "$tmp/rss"
    start_daemon rss
    sleep 1
    quiet_rss=$(rss_kb)
    log "rss: quiet RSS $quiet_rss kB; $stallers subscribers with since=0 that never read, 20 s"
    background "$tmp/rss-peak.json" "$python" "$clients" rss --pid "$daemon_pid" --seconds 20 --cap-mb "$cap_mb"
    watcher=$job
    as_instance replayer "$tmp/rss-stall.json" "$python" "$clients" stall --socket "$socket" \
        --count "$stallers" --release "$tmp/rss.release" --timeout 30
    wait_job "$watcher" 25
    touch "$tmp/rss.release"
    wait_job "$job" 15
    log "rss: $(cat "$tmp/rss-peak.json"); held: $(cat "$tmp/rss-stall.json")"
    if kill -0 "$daemon_pid" 2>/dev/null; then
        log "rss: all closed; RSS again in 10 s"
        "$python" "$clients" rss --pid "$daemon_pid" --seconds 10 --cap-mb "$cap_mb" >"$tmp/rss-after.json"
    fi
    stop_daemon
fi

# --- report -------------------------------------------------------------------

"$python" "$repo/tools/stall/report.py" "$tmp" \
    "guestapid under a hostile guest: $bin_dir, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" \
    depth="$depth" conns="$attack_conns" changes="$changes" value_mb="$(awk -v b="$value_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" \
    stallers="$stallers" quiet_rss_kb="$quiet_rss"
