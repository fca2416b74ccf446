#!/usr/bin/env bash
# What a hostile guest costs another instance: each part measures a victim instance
# quiet, then under the attack, on a guestapid of its own (fresh temp state), and the
# table puts both side by side. With --baseline-bin-dir, every part runs against that
# build too, in the same run, and a last table puts the two builds side by side.
#
#   deep    an unregistered caller 4,000 processes deep (tools/stall/chain.c, compiled
#           here) opens 300 connections at once, GET /1.0 on each, reads the answers,
#           again and again. Identity is matched on accept by walking the caller's
#           ancestry, so each of its connections costs a walk of 4,000 processes.
#           Victim: 300 new connections one after another, each timed from connect to
#           the answer's first byte. Target: p99 under attack within 5 ms of quiet p99,
#           in every one of --deep-runs runs.
#   replay  instance replayer has 40 journaled changes of a 1.6 MB value (events of
#           3.2 MB: old and new value); 30 of its processes subscribe with since=0 at
#           once and read everything. Victim: keep-alive GET /1.0 in a loop, each
#           request timed, quiet for 5 s, then for as long as the replays run.
#           Target: p99 <= 50 ms. The daemon's RSS is watched meanwhile (killed past 8 GB).
#   rss     the same journal; 60 subscribers with since=0 finish the handshake and
#           never read. The daemon's VmRSS is sampled every 100 ms for 20 s (and its
#           VmHWM read); then they all close, and RSS is read 10 s later.
#           Target: peak <= 300 MB.
#   big     instance bigreader has an 8 MiB user.big, and reads it again and again on 2
#           keep-alive connections for 10 s. Victim: keep-alive GET /1.0, quiet for 5 s,
#           then beside the reads. Target: p99 <= quiet p99 + 5 ms.
#   lookup  instance bigreader (its 8 MiB user.big beside) and instance victim (none) each
#           look up their small user.small 2,000 times on a keep-alive connection, each
#           request a target of its own (so none is answered from what the daemon kept).
#           Target: bigreader's p50 and p99 within 0.1 ms of the victim's.
#   hold    the same value; 250 of bigreader's connections ask for it and never read.
#           The daemon's peak RSS over 15 s. Target: <= 300 MB.
#   flood   user nobody on the host floods connections from one process (tools/stall/
#           flood.c, 64 in flight: connect, GET /1.0, read until closed) for 15 s. Victim:
#           300 new connections one after another (connect -> first byte), quiet, then
#           beside the flood. Target: p99 <= quiet p99 + 5 ms.
#   floodin the same flood from a process of instance flooder. Same victim and target.
#
# Every client has a budget, so a daemon that stalls for minutes gives "> N s" or
# "timeout", not a hung run; a daemon whose RSS passes its cap is killed and reported as
# "> N MB". A victim is a process registered as instance victim (`instance attach --pid`)
# that runs the client as its child; the deep attacker descends from this script, which no
# instance owns. Each client runs in a session of its own, so that the trap ends it with
# everything it started (the 4,000-process chain too). Progress goes to stderr, the
# tables to stdout. Run as root: the daemon must read the clients' /proc entries, and the
# instances are registered by pid.
#
# usage: tools/bench-stall.sh [--only PART,...] [--no-build] [--bin-dir DIR] [--baseline-bin-dir DIR] [--deep-runs N]
#   --only              run these parts (default: all): deep replay rss big lookup hold flood floodin
#   --no-build          use the binaries as they are (default: swift build -c release first)
#   --bin-dir           where guestapid and guestapi-admin are (default: .build/release)
#   --baseline-bin-dir  another build to run every part against too, first (the release before)
#   --deep-runs         how many times the deep part runs (default 3)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=$repo/.build/release
baseline_dir=
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
cap_mb=4096        # the rss parts' daemon is killed past it
replay_cap_mb=8192 # the replay part's: only to protect the machine (an old daemon took 3.9 GB)
deep_runs=3
big_bytes=$((8 << 20))
holders=250
flood_seconds=15
all_parts="deep replay rss big lookup hold flood floodin"

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --only) only=${2//,/ }; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        --baseline-bin-dir) baseline_dir=$(cd "$2" && pwd); shift 2 ;;
        --deep-runs) deep_runs=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-stall: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for part in $only; do
    [[ " $all_parts " == *" $part "* ]] || { echo "bench-stall: --only takes parts among: $all_parts" >&2; exit 2; }
done
[[ $deep_runs =~ ^[1-9][0-9]?$ ]] || { echo "bench-stall: --deep-runs takes 1 to 99" >&2; exit 2; }
want() { [[ -z $only || " $only " == *" $1 "* ]]; }

log() { echo "bench-stall: $*" >&2; }

((EUID == 0)) || { log "run as root"; exit 1; }

tmp=$(mktemp -d /tmp/bench-stall.XXXXXX)
chmod 755 "$tmp"   # user nobody reaches the sockets below it (flood)
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
for dir in "$bin_dir" ${baseline_dir:+"$baseline_dir"}; do
    for tool in guestapid guestapi-admin; do
        [[ -x $dir/$tool ]] || { log "no $dir/$tool (build it, or point --bin-dir at it)"; exit 1; }
    done
done
[[ -x $python ]] || { log "needs $python"; exit 1; }
# Static: 4,000 execs of it, and the fewer mappings each level has, the cheaper its fork.
gcc -O2 -static -o "$tmp/chain" "$repo/tools/stall/chain.c"
gcc -O2 -o "$tmp/flood" "$repo/tools/stall/flood.c"

# --- helpers ------------------------------------------------------------------
# A part runs with $out (its label's folder of results), $bin (its build), $admin.

start_daemon() { # name: serves $out/name, which must hold the state
    state=$out/$1
    socket=$state/guestapi/sock
    "$bin/guestapid" --state-dir "$state" >"$out/$1.out" 2>"$out/$1.err" &
    daemon_pid=$!
    # The RSS cap may kill it: no "Killed" job notice in the middle of the output.
    disown "$daemon_pid"
    for ((i = 0; i < 300; i++)); do
        grep -qs serving "$out/$1.out" && return 0
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
    done
    log "guestapid ($1) did not start serving:"; cat "$out/$1.err" >&2
    exit 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$daemon_pid/status"; }

# Runs a command as a child of a new process that is registered as instance NAME (the
# daemon then resolves the command's connections to NAME); sets $job to that process.
as_instance() { # name out-file command...
    local name=$1 result=$2 go=$tmp/go.$RANDOM
    shift 2
    # `exit $?` keeps bash from exec'ing the command: the registered pid stays its parent.
    setsid bash -c 'while [ ! -e "$0" ]; do sleep 0.02; done; "$@"; exit $?' "$go" "$@" \
        >"$result" 2>>"$tmp/clients.err" &
    job=$!
    sessions+=("$job")
    "$admin" instance attach "$name" --pid "$job" --state-dir "$state" >/dev/null
    touch "$go"
}

background() { # out-file command...: a session of its own, ended by the trap; sets $job
    local result=$1
    shift
    setsid "$@" >"$result" 2>>"$tmp/clients.err" &
    job=$!
    sessions+=("$job")
}

wait_job() { # pid seconds: waits at most that long, then ends its session
    local end=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
    kill -0 "$1" 2>/dev/null && log "pid $1 still running after $2 s: ending it"
    end_session "$1"
}

victim_churn() { # out-file: 300 new connections of instance victim, one after another
    as_instance victim "$1" "$python" "$clients" churn --socket "$socket" --count "$victim_conns" --budget "$budget"
    wait_job "$job" $((budget + 15))
}

# --- deep: an unregistered caller 4,000 processes deep --------------------------

part_deep() { # run number
    local run=$1 ready=$out/deep$1-ready.json
    mkdir -p "$out/deep$run"
    state=$out/deep$run
    "$admin" instance create victim --state-dir "$state" >/dev/null
    start_daemon "deep$run"
    log "$label deep $run: victim quiet, $victim_conns connections one at a time"
    victim_churn "$out/deep$run-quiet.json"
    log "$label deep $run: starting the attacker under $depth levels of processes ($attack_conns connections a round)"
    background "$out/deep$run-attacker.jsonl" "$tmp/chain" "$depth" "$python" "$clients" attack --socket "$socket" \
        --conns "$attack_conns" --ready "$ready"
    local attacker=$job
    for ((i = 0; i < 600; i++)); do [[ -s $ready ]] && break; sleep 0.1; done
    [[ -s $ready ]] || log "deep: the attacker did not start within 60 s"
    sleep 1  # its first round is queued on the daemon by now
    log "$label deep $run: victim under attack (budget $budget s)"
    victim_churn "$out/deep$run-attack.json"
    log "$label deep $run: attacker rounds: $(wc -l <"$out/deep$run-attacker.jsonl")"
    end_session "$attacker"
    stop_daemon
}

# --- the journal of replay and rss ----------------------------------------------

make_journal() {
    log "journal: $changes changes of a $value_bytes-byte value of instance replayer"
    local journal=$out/journal
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
}

part_replay() {
    cp -a "$out/journal" "$out/replay"
    start_daemon replay
    log "$label replay: victim quiet, keep-alive GET /1.0 for 5 s"
    as_instance victim "$out/replay-quiet.json" "$python" "$clients" keepalive --socket "$socket" --seconds 5 --budget 20
    wait_job "$job" 25
    log "$label replay: $readers subscribers with since=0 (timeout $replay_timeout s), victim beside them"
    background "$out/replay-rss.json" "$python" "$clients" rss --pid "$daemon_pid" --seconds $((replay_timeout + 30)) \
        --cap-mb "$replay_cap_mb" --stop "$out/replay.stop"
    local watcher=$job
    as_instance victim "$out/replay-attack.json" "$python" "$clients" keepalive --socket "$socket" \
        --stop "$out/replay.stop" --budget $((replay_timeout + 15))
    local victim=$job
    sleep 0.5
    as_instance replayer "$out/replay-subs.json" "$python" "$clients" replay --socket "$socket" \
        --count "$readers" --expect "$changes" --timeout "$replay_timeout"
    wait_job "$job" $((replay_timeout + 10))
    touch "$out/replay.stop"
    wait_job "$victim" 20
    wait_job "$watcher" 5
    stop_daemon
}

part_rss() {
    cp -a "$out/journal" "$out/rss"
    start_daemon rss
    sleep 1
    rss_kb >"$out/rss-quiet-kb"
    log "$label rss: quiet RSS $(cat "$out/rss-quiet-kb") kB; $stallers subscribers with since=0 that never read, 20 s"
    background "$out/rss-peak.json" "$python" "$clients" rss --pid "$daemon_pid" --seconds 20 --cap-mb "$cap_mb"
    local watcher=$job
    as_instance replayer "$out/rss-stall.json" "$python" "$clients" stall --socket "$socket" \
        --count "$stallers" --release "$out/rss.release" --timeout 30
    wait_job "$watcher" 25
    touch "$out/rss.release"
    wait_job "$job" 15
    if kill -0 "$daemon_pid" 2>/dev/null; then
        "$python" "$clients" rss --pid "$daemon_pid" --seconds 10 --cap-mb "$cap_mb" >"$out/rss-after.json"
    fi
    stop_daemon
}

# --- big and hold: an 8 MiB value -----------------------------------------------

make_big() { # folder: a state with instances victim and bigreader, bigreader's user.big of 8 MiB
    mkdir -p "$1"
    "$admin" instance create victim --state-dir "$1" >/dev/null
    "$admin" instance create bigreader --state-dir "$1" >/dev/null
    head -c "$big_bytes" /dev/urandom >"$tmp/big"
    "$admin" set user.big --file "$tmp/big" --instance bigreader --state-dir "$1" >/dev/null
}

part_big() {
    make_big "$out/big"
    state=$out/big
    start_daemon big
    log "$label big: victim quiet, keep-alive GET /1.0 for 5 s"
    as_instance victim "$out/big-quiet.json" "$python" "$clients" keepalive --socket "$socket" --seconds 5 --budget 20
    wait_job "$job" 25
    log "$label big: bigreader reads its 8 MiB user.big on 2 connections, victim beside it for 10 s"
    as_instance bigreader "$out/big-reads.json" "$python" "$clients" read --socket "$socket" --path /1.0/config/user.big \
        --conns 2 --stop "$out/big.stop" --budget 60
    local reader=$job
    sleep 0.5
    as_instance victim "$out/big-attack.json" "$python" "$clients" keepalive --socket "$socket" --seconds 10 --budget 40
    wait_job "$job" 45
    touch "$out/big.stop"
    wait_job "$reader" 20
    stop_daemon
}

part_lookup() {
    make_big "$out/lookup"
    state=$out/lookup
    for name in victim bigreader; do
        "$admin" set user.small small --instance "$name" --state-dir "$state" >/dev/null
    done
    start_daemon lookup
    for name in victim bigreader; do
        log "$label lookup: $name looks up user.small 2,000 times"
        as_instance "$name" "$out/lookup-$name.json" "$python" "$clients" lookups --socket "$socket" --path /1.0/config/user.small --count 2000
        wait_job "$job" 60
    done
    stop_daemon
}

part_hold() {
    make_big "$out/hold"
    state=$out/hold
    start_daemon hold
    sleep 1
    rss_kb >"$out/hold-quiet-kb"
    log "$label hold: $holders connections ask for the 8 MiB value and never read, 15 s"
    background "$out/hold-peak.json" "$python" "$clients" rss --pid "$daemon_pid" --seconds 15 --cap-mb "$cap_mb"
    local watcher=$job
    as_instance bigreader "$out/hold-held.json" "$python" "$clients" hold --socket "$socket" --path /1.0/config/user.big \
        --count "$holders" --release "$out/hold.release" --timeout 40
    wait_job "$watcher" 25
    touch "$out/hold.release"
    wait_job "$job" 15
    stop_daemon
}

# --- flood: connections as fast as one process can open them ----------------------

part_flood() { # flood | floodin
    local part=$1
    mkdir -p "$out/$part"
    state=$out/$part
    "$admin" instance create victim --state-dir "$state" >/dev/null
    "$admin" instance create flooder --state-dir "$state" >/dev/null
    start_daemon "$part"
    log "$label $part: victim quiet, $victim_conns connections one at a time"
    victim_churn "$out/$part-quiet.json"
    if [[ $part == flood ]]; then
        log "$label flood: user nobody floods from one process for $flood_seconds s, victim beside it"
        background "$out/$part-flood.json" setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/flood" "$socket" "$flood_seconds" 64
    else
        log "$label floodin: a process of instance flooder floods for $flood_seconds s, victim beside it"
        as_instance flooder "$out/$part-flood.json" "$tmp/flood" "$socket" "$flood_seconds" 64
    fi
    local flooder=$job
    sleep 1
    victim_churn "$out/$part-attack.json"
    wait_job "$flooder" $((flood_seconds + 10))
    stop_daemon
}

# --- the runs -------------------------------------------------------------------

run_all() { # label bin-dir
    label=$1 bin=$2 out=$tmp/$1 admin=$2/guestapi-admin
    mkdir -p "$out"
    if want deep; then for ((run = 1; run <= deep_runs; run++)); do part_deep "$run"; done; fi
    if want replay || want rss; then make_journal; fi
    if want replay; then part_replay; fi
    if want rss; then part_rss; fi
    if want big; then part_big; fi
    if want lookup; then part_lookup; fi
    if want hold; then part_hold; fi
    if want flood; then part_flood flood; fi
    if want floodin; then part_flood floodin; fi
}

labels=()
if [[ -n $baseline_dir ]]; then run_all baseline "$baseline_dir"; labels+=("baseline=$baseline_dir"); fi
run_all now "$bin_dir"
labels+=("now=$bin_dir")

# --- report -------------------------------------------------------------------

"$python" "$repo/tools/stall/report.py" "$tmp" \
    "guestapid under a hostile guest: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" \
    depth="$depth" conns="$attack_conns" changes="$changes" value_mb="$(awk -v b="$value_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" \
    stallers="$stallers" holders="$holders" deep_runs="$deep_runs" "${labels[@]}"
