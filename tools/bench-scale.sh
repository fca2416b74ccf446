#!/usr/bin/env bash
# Scale benchmark (issue 5): sets up each scale with the release binaries, runs the
# load, and prints one table: scale, figure, median of --runs runs with min and max,
# target, and the reference measured in the same run where one applies.
#
#   1. N instances (default 100,000; 10 config keys each) loaded with
#      `guestapi-admin apply`: the apply's wall time, and a re-apply of the same
#      file, which must change nothing (summary all unchanged, no journal entry).
#      Identity resolution for a new connection: the daemon times each resolution
#      (its debug log, `identity resolved ... resolve_ns=`), and the client
#      times connect -> first response of single-request connections, one at a
#      time, from a registered process (guestapi-load --mode churn --connections 1),
#      an upper bound that includes the whole request. Keep-alive GET throughput
#      with 64 connections. Reference for all three: the same measurements against
#      a 10-instance state, alternating with the big one.
#   2. Connection churn: one request per new connection, 64 clients, against
#      nginx serving the same value from a file on a Unix socket (as in
#      tools/bench-http.sh), alternating.
#   3. 10,000 concurrent connections over 1,000 instances: each instance is
#      registered by a cgroup of the unified hierarchy, and one forked client
#      process per instance joins it and holds 5 keep-alive connections and 5
#      WebSocket subscribers (tools/scale/hold_connections.py). With all open, the
#      daemon's RSS is read; then one key of every instance changes, and every
#      connection must be answered (a second GET, an event). Needs root (cgroups).
#   4. A journal of more than a million entries (the 100,000 instances' own plus
#      100,000 changes of the bench instance): `journal --instance bench --limit 100`
#      wall time; the replay of all the bench instance's events over one WebSocket
#      (`?since=0`, tools/scale/replay_events.py); `journal prune` of 900,000
#      entries while guestapi-load keeps requesting, none of which may fail.
#
# The benchmark shell is the registered init of instance `bench`; the load tools
# run as its descendants. Everything runs on one host and shares its cores with
# whatever else runs: the header gives the load average, and relative figures
# are judged against a reference measured in the same run. Everything started
# here is stopped on exit, temporary cgroups and files included.
#
# usage: tools/bench-scale.sh [--runs N] [--instances N] [--duration S]
#                             [--figures 1234] [--replay N] [--prune N]
#                             [--no-build] [--bin-dir DIR]
#   --runs       runs per figure (default 3; the median is reported)
#   --instances  instances of scale 1 (default 100000)
#   --replay     changes of instance bench added for scale 4 (default 100000)
#   --prune      journal entries pruned in scale 4 (default 900000)
#   --duration   seconds per throughput window (default 2; eight windows per run)
#   --figures    which scales to run (default 1234; 2 and 4 need 1's state)
#   --bin-dir    where the release binaries are (default: .build/release)
set -euo pipefail
. "$(dirname "$0")/lib/nginx.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=3
instances=100000
keys=10
duration=2
id_duration=3
figures=1234
hold_instances=1000
hold_keepalive=5
hold_websocket=5
replay_changes=100000
prune_count=900000
build=1
bin_dir=$repo/.build/release
python=/usr/bin/python3
config_path=/1.0/config/user.foo
config_value=bar

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --instances) instances=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --figures) figures=$2; shift 2 ;;
        --replay) replay_changes=$2; shift 2 ;;
        --prune) prune_count=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-scale: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$runs" "$instances" "$duration" "$replay_changes" "$prune_count"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench-scale: counts must be positive integers" >&2; exit 2; }
done
((instances >= 11)) || { echo "bench-scale: --instances must be at least 11" >&2; exit 2; }
[[ $figures =~ ^[1-4]+$ ]] || { echo "bench-scale: --figures takes digits 1-4" >&2; exit 2; }
[[ ($figures != *2* && $figures != *4*) || $figures == *1* ]] || { echo "bench-scale: figures 2 and 4 use figure 1's state" >&2; exit 2; }
want() { [[ $figures == *$1* ]]; }

log() { echo "bench-scale: $*" >&2; }

tmp=$(mktemp -d /tmp/bench-scale.XXXXXX)
# nginx's workers drop privileges and must reach their document root in here.
chmod 755 "$tmp"
results=$tmp/results.tsv
: >"$results"
declare -A daemon_pid=()
nginx_pid=
load_loop_pid=
cgroup_group=

cleanup() {
    local status=$? pid
    [[ -n $load_loop_pid ]] && { kill "$load_loop_pid" 2>/dev/null || true; wait "$load_loop_pid" 2>/dev/null || true; }
    for pid in "${daemon_pid[@]}" $nginx_pid; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${daemon_pid[@]}" $nginx_pid; do wait "$pid" 2>/dev/null || true; done
    if [[ -n $cgroup_group && -d $cgroup_group ]]; then
        local dir member
        for dir in "$cgroup_group"/*/; do
            [[ -d $dir ]] || continue
            while read -r member; do echo "$member" >"$cgroup_root/cgroup.procs" 2>/dev/null || true; done <"$dir/cgroup.procs"
            rmdir "$dir" 2>/dev/null || true
        done
        rmdir "$cgroup_group" 2>/dev/null || log "could not remove $cgroup_group"
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

record() { printf '%s\t%s\n' "$1" "$2" >>"$results"; }
now_ns() { date +%s%N; }
seconds_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
json_field() { sed -E "s/.*\"$2\": ?\"?([^,\"}]*).*/\1/" <<<"$1"; }
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

wait_for_socket() { # path pid name
    local i
    for ((i = 0; i < 600; i++)); do
        [[ -S $1 ]] && return 0
        kill -0 "$2" 2>/dev/null || { log "$3 exited before creating $1"; return 1; }
        sleep 0.05
    done
    log "$3 did not create $1 within 30 s"
    return 1
}

start_daemon() { # name state [guestapid options...]; $soft_nofile: start with this fd limit
    local name=$1 state=$2
    shift 2
    (
        [[ -z ${soft_nofile:-} ]] || ulimit -Sn "$soft_nofile"
        exec "$bin_dir/guestapid" --state-dir "$state" "$@"
    ) >"$tmp/$name.log" 2>&1 &
    daemon_pid[$name]=$!
    wait_for_socket "$state/guestapi/sock" "${daemon_pid[$name]}" "guestapid ($name)" || { cat "$tmp/$name.log" >&2; exit 1; }
}

stop_daemon() { # name
    local pid=${daemon_pid[$1]}
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "daemon_pid[$1]"
}

run_load() { # socket mode connections duration [warmup]
    "$load" --socket "$1" --path "$config_path" --mode "$2" --connections "$3" --duration "$4" --warmup "${5:-0}" --json
}

smoke() { # socket name: one request must succeed, or the figures would time error responses
    local out
    out=$(run_load "$1" keepalive 1 0.2)
    if [[ $(json_field "$out" requests) == 0 || $(json_field "$out" errors) != 0 ]]; then
        log "$2 failed the smoke run: $out"
        exit 1
    fi
}

percentile_us() { # p: nanosecond values on stdin -> microseconds
    sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } i = int(p * NR + 0.999999); if (i < 1) i = 1; printf "%.1f", v[i] / 1000 }'
}

last_journal_id() { # state
    local line
    line=$("$admin" journal --state-dir "$1" --limit 1 --json)
    [[ -n $line ]] && json_field "$line" id || echo 0
}

# --- binaries and helpers ---------------------------------------------------

if ((build)); then
    log "building release binaries"
    (cd "$repo" && swift build -c release && swift build -c release --package-path tools --product guestapi-load) >&2
fi
load=$repo/tools/.build/release/guestapi-load
for tool in "$bin_dir/guestapid" "$bin_dir/guestapi-admin" "$load"; do
    [[ -x $tool ]] || { log "no $tool (build it, or point --bin-dir at it)"; exit 1; }
done
admin=$bin_dir/guestapi-admin
make_state=("$python" "$repo/tools/scale/make_state.py")
[[ -x $python ]] || { log "needs $python (Debian's python3)"; exit 1; }

# Connections are file descriptors, ours and the daemon's (which raises its own limit).
ulimit -n "$(ulimit -Hn)"
record load "load average at start: $(load_average) ($(nproc) cores)"
record instances "$instances"
record keys "$keys"
record hold_total $((hold_instances * (hold_keepalive + hold_websocket)))
record hold_instances "$hold_instances"
record pruned "$prune_count"

# --- nginx (the churn reference) --------------------------------------------

start_nginx() {
    if ! command -v nginx >/dev/null; then
        log "installing nginx"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq nginx-light >&2 || apt-get install -y -qq nginx >&2
    fi
    mkdir -p "$tmp/nginx/root${config_path%/*}" "$tmp/nginx/temp"
    printf '%s' "$config_value" >"$tmp/nginx/root$config_path"
    chmod -R a+rX "$tmp/nginx/root"
    nginx_socket=$tmp/nginx/nginx.sock
    write_nginx_conf "$tmp/nginx" "$nginx_socket"
    nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
    nginx_pid=$!
    wait_for_socket "$nginx_socket" "$nginx_pid" nginx || { cat "$tmp/nginx/error.log" >&2; exit 1; }
    smoke "$nginx_socket" nginx
}

stop_nginx() {
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
}

# --- 1 and 2: N instances ---------------------------------------------------

big=$tmp/big
small=$tmp/small
if want 1; then
    log "scale 1: writing the desired state of $instances instances"
    # The others get unique cgroups that no process is in, so that index is as full as on a real host.
    "${make_state[@]}" --instances $((instances - 1)) --keys "$keys" --cgroup-prefix /guestapi-bench-absent \
        --pid-instance "bench=$$" --out "$tmp/big.json"
    "${make_state[@]}" --instances 9 --keys "$keys" --cgroup-prefix /guestapi-bench-absent \
        --pid-instance "bench=$$" --out "$tmp/small.json"
    "$admin" apply --state-dir "$small" "$tmp/small.json" >/dev/null

    for ((run = 1; run <= runs; run++)); do
        rm -rf "$big"
        started=$(now_ns)
        "$admin" apply --state-dir "$big" --format json "$tmp/big.json" >"$tmp/apply.out"
        record apply_s "$(seconds_since "$started")"
        before=$(last_journal_id "$big")
        started=$(now_ns)
        summary=$("$admin" apply --state-dir "$big" --format json "$tmp/big.json")
        record reapply_s "$(seconds_since "$started")"
        after=$(last_journal_id "$big")
        if [[ $summary == "{\"created\":0,\"deleted\":0,\"unchanged\":$instances,\"updated\":0}" && $before == "$after" ]]; then
            record reapply "changed nothing"
        else
            record reapply "changed: $summary, journal $before -> $after"
        fi
        log "apply run $run/$runs: $(cat "$tmp/apply.out"), re-apply $summary, last journal id $before -> $after"
    done

    # Identity: the daemons log each resolution's time at debug level; only here, as logging costs.
    for ((run = 1; run <= runs; run++)); do
        for target in small big; do
            state=${!target}
            start_daemon "$target" "$state" --log-level debug
            smoke "$state/guestapi/sock" "$target"
            skip=$(wc -l <"$tmp/$target.log")  # the figure counts only the measured connections
            out=$(run_load "$state/guestapi/sock" churn 1 "$id_duration")
            stop_daemon "$target"
            tail -n +$((skip + 1)) "$tmp/$target.log" | grep -a -o 'resolve_ns=[0-9]*' | cut -d= -f2 >"$tmp/resolve.ns" || true
            resolved=$(wc -l <"$tmp/resolve.ns")
            ((resolved > 0)) || { log "no identity timings in the $target daemon's debug log"; exit 1; }
            record "id_daemon_p99_us.$target" "$(percentile_us 0.99 <"$tmp/resolve.ns")"
            record "id_daemon_p50_us.$target" "$(percentile_us 0.50 <"$tmp/resolve.ns")"
            record "id_client_p99_us.$target" "$(json_field "$out" p99_us)"
            log "identity run $run/$runs $target: $resolved resolutions, client $out"
        done
    done

    start_daemon big "$big"
    start_daemon small "$small"
    smoke "$big/guestapi/sock" big
    smoke "$small/guestapi/sock" small
    if want 2; then start_nginx; fi
    read -r load_1m _ </proc/loadavg
    log "throughput: load average $load_1m, $(nproc) cores, 8 windows of ${duration}s per run"
    # Each run measures A B B A A B B A, so that drift on a shared machine hits both alike.
    # The run's ratio is the median of its four neighbouring A/B pairs' ratios: a burst of
    # other work that halves one window moves it little. The servers' own CPU time is read
    # too: requests per CPU-second say what the work costs, whatever share of the cores it got.
    cpu_ticks() { # pids...: user + system clock ticks
        local pid total=0
        for pid in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
        echo "$total"
    }
    paired() { # mode key socket-a "pids-a" socket-b "pids-b"
        local mode=$1 key=$2 target out before window=0
        local -A socket=([a]=$3 [b]=$5) pids=([a]=$4 [b]=$6) requests=([a]=0 [b]=0) ticks=([a]=0 [b]=0)
        local -a counts=()
        for target in a b b a a b b a; do
            # shellcheck disable=SC2086 # pid lists
            before=$(cpu_ticks ${pids[$target]})
            out=$(run_load "${socket[$target]}" "$mode" 64 "$duration")
            # shellcheck disable=SC2086
            ticks[$target]=$((ticks[$target] + $(cpu_ticks ${pids[$target]}) - before))
            counts[window]=$(json_field "$out" requests)
            requests[$target]=$((requests[$target] + counts[window]))
            window=$((window + 1))
            log "$mode run $run/$runs $key $target: $out"
        done
        local hz
        hz=$(getconf CLK_TCK)
        record "$key.a" "$(awk -v n="${requests[a]}" -v d="$duration" 'BEGIN { printf "%.0f", n / (4 * d) }')"
        record "$key.b" "$(awk -v n="${requests[b]}" -v d="$duration" 'BEGIN { printf "%.0f", n / (4 * d) }')"
        # Pairs (a,b) (b,a) (a,b) (b,a): windows 0-1, 2-3, 4-5, 6-7.
        record "$key.ratio" "$(printf '%s %s\n%s %s\n%s %s\n%s %s\n' "${counts[0]}" "${counts[1]}" "${counts[3]}" "${counts[2]}" \
            "${counts[4]}" "${counts[5]}" "${counts[7]}" "${counts[6]}" |
            awk '{ print ($1 > 0 ? $2 / $1 : 0) }' | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", (v[2] + v[3]) / 2 }')"
        record "$key.cpu_a" "$(awk -v n="${requests[a]}" -v t="${ticks[a]}" -v hz="$hz" 'BEGIN { printf "%.0f", (t > 0 ? n * hz / t : 0) }')"
        record "$key.cpu_b" "$(awk -v n="${requests[b]}" -v t="${ticks[b]}" -v hz="$hz" 'BEGIN { printf "%.0f", (t > 0 ? n * hz / t : 0) }')"
        record "$key.cpu_ratio" "$(awk -v na="${requests[a]}" -v ta="${ticks[a]}" -v nb="${requests[b]}" -v tb="${ticks[b]}" \
            'BEGIN { printf "%.3f", (na > 0 && tb > 0 ? (nb / tb) / (na / ta) : 0) }')"
    }
    for ((run = 1; run <= runs; run++)); do
        paired keepalive keepalive_rps "$small/guestapi/sock" "${daemon_pid[small]}" "$big/guestapi/sock" "${daemon_pid[big]}"
        if want 2; then
            paired churn churn_cps "$nginx_socket" "$(pgrep -P "$nginx_pid" | tr '\n' ' ')" "$big/guestapi/sock" "${daemon_pid[big]}"
        fi
    done
    [[ -n $nginx_pid ]] && stop_nginx
    stop_daemon small
    stop_daemon big
fi

# --- 3: 10,000 connections over 1,000 instances -----------------------------

if want 3; then
    cgroup_root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
    [[ -n $cgroup_root ]] || { log "scale 3 needs a cgroup v2 (unified) hierarchy"; exit 1; }
    group=/guestapi-bench-$$
    cgroup_group=$cgroup_root$group
    mkdir "$cgroup_group"
    for ((i = 0; i < hold_instances; i++)); do mkdir "$cgroup_group/i$i"; done
    hold=$tmp/hold
    "${make_state[@]}" --instances "$hold_instances" --keys 2 --cgroup-prefix "$group" --out "$tmp/hold.json"
    "$admin" apply --state-dir "$hold" "$tmp/hold.json" >/dev/null
    for ((run = 1; run <= runs; run++)); do
        # A fresh daemon each run, so the idle RSS is a fresh daemon's.
        # Started with the usual soft limit of 1,024 descriptors: the daemon must raise it.
        soft_nofile=1024 start_daemon hold "$hold" --log-level debug --max-conns-per-instance 256
        sleep 0.5
        # Changing user.k1 of every instance (a new salt each run) sends every subscriber an event.
        "${make_state[@]}" --instances "$hold_instances" --keys 2 --cgroup-prefix "$group" --salt="-run$run" --out "$tmp/hold-next.json"
        out=$("$python" "$repo/tools/scale/hold_connections.py" --socket "$hold/guestapi/sock" \
            --cgroup-root "$cgroup_root" --group "$group" --instances "$hold_instances" \
            --keepalive "$hold_keepalive" --websocket "$hold_websocket" --daemon-pid "${daemon_pid[hold]}" \
            --trigger "'$admin' apply --state-dir '$hold' '$tmp/hold-next.json'" --timeout 25)
        log "hold run $run/$runs: $out"
        record hold_served "$(json_field "$out" served)"
        record hold_rss_mb "$(awk -v b="$(json_field "$out" rss_held)" 'BEGIN { printf "%.1f", b / 1048576 }')"
        record hold_bytes_per_conn "$(json_field "$out" bytes_per_connection)"
        record hold_open_s "$(json_field "$out" open_s)"
        limit=$(grep -o 'file descriptor limit.*' "$tmp/hold.log" | head -1 || true)
        record fd_limit "guestapid log, started with a soft fd limit of 1024: ${limit:-no file descriptor limit line}"
        stop_daemon hold
    done
fi

# --- 4: a journal of more than a million entries ----------------------------

if want 4; then
    log "scale 4: $replay_changes changes of instance bench"
    # bench keeps its keys and gains replay_changes more: that many more events to replay.
    "$python" - "$$" "$keys" "$replay_changes" "$tmp/replay.json" <<'EOF'
import json, sys
pid, keys, changes, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
config = {"user.foo": "bar"}
config.update({"user.k%d" % k: "value--1-%d" % k for k in range(1, keys)})
config.update({"user.r%07d" % i: "replayed-%d" % i for i in range(changes)})
json.dump({"instances": [{"name": "bench", "pid": pid, "config": config}]}, open(out, "w"))
EOF
    "$admin" apply --state-dir "$big" "$tmp/replay.json" >/dev/null
    entries=$(last_journal_id "$big")  # ids are gap-free and nothing was pruned yet
    ((entries > prune_count)) || { log "the journal has only $entries entries"; exit 1; }
    record journal_entries "$(awk -v n="$entries" 'BEGIN { printf "%.2fM", n / 1e6 }')"
    expected=$((keys + replay_changes))  # every user.* entry of bench is guest-visible
    record replay_events "$expected"
    last_id=$("$admin" journal --state-dir "$big" --instance bench --limit 1 --json)
    last_id=$(json_field "$last_id" id)
    cp "$big/guestapi.db" "$tmp/journal-snapshot.db"
    for ((run = 1; run <= runs; run++)); do
        cp "$tmp/journal-snapshot.db" "$big/guestapi.db"
        rm -f "$big/guestapi.db-wal" "$big/guestapi.db-shm"
        start_daemon big "$big"
        smoke "$big/guestapi/sock" big
        started=$(now_ns)
        "$admin" journal --state-dir "$big" --instance bench --limit 100 >"$tmp/journal.out"
        record journal_limit_ms "$(awk -v s="$(seconds_since "$started")" 'BEGIN { printf "%.1f", s * 1000 }')"
        [[ $(wc -l <"$tmp/journal.out") == 101 ]] || { log "journal --limit 100 printed $(wc -l <"$tmp/journal.out") lines"; exit 1; }
        out=$("$python" "$repo/tools/scale/replay_events.py" --socket "$big/guestapi/sock" --since 0 \
            --last-id "$last_id" --expect "$expected" --timeout 120)
        log "replay run $run/$runs: $out"
        [[ $(json_field "$out" ok) == true ]] || { log "replay incomplete or out of order"; exit 1; }
        record replay_eps "$(json_field "$out" events_per_s)"

        # Requests keep coming, in back-to-back one-second windows, until the prune is done.
        : >"$tmp/prune-load.jsonl"
        rm -f "$tmp/prune.done"
        (
            while [[ ! -e $tmp/prune.done ]]; do
                run_load "$big/guestapi/sock" keepalive 8 1 >>"$tmp/prune-load.jsonl" || echo '{"requests":0,"errors":1}' >>"$tmp/prune-load.jsonl"
            done
        ) &
        load_loop_pid=$!
        sleep 1
        started=$(now_ns)
        pruned=$("$admin" journal prune --state-dir "$big" --keep $((entries - prune_count)) --format json)
        record prune_s "$(seconds_since "$started")"
        sleep 1
        touch "$tmp/prune.done"
        wait "$load_loop_pid"
        load_loop_pid=
        [[ $(json_field "$pruned" deleted) == "$prune_count" ]] || { log "prune deleted $pruned, not $prune_count"; exit 1; }
        record prune_errors "$(awk -F'"errors":' '{ split($2, a, ","); s += a[1] } END { print s + 0 }' "$tmp/prune-load.jsonl")"
        record prune_requests "$(awk -F'"requests":' '{ split($2, a, ","); s += a[1] } END { print s + 0 }' "$tmp/prune-load.jsonl")"
        log "prune run $run/$runs: $pruned, load windows: $(wc -l <"$tmp/prune-load.jsonl")"
        stop_daemon big
    done
fi

# --- report -----------------------------------------------------------------

record load "load average at end:   $(load_average)"
"$python" "$repo/tools/scale/report.py" "$results" \
    "guestapid at scale: release build, $(nproc) cores, median of $runs runs (min, max)"
