#!/usr/bin/env bash
# Benchmarks guestapid's guest API against nginx serving the same short value
# as a static file, both over a Unix socket, with tools/load (guestapi-load).
# nginx is the yardstick: the figure that matters is the guestapid/nginx ratio
# of median requests per second, which carries over between machines far
# better than raw numbers do.
#
# Fairness: guestapid runs one SwiftNIO event loop per core, so nginx gets
# `worker_processes auto` (one worker per core) under a master process, with
# its usual static-file tuning (open_file_cache, so it does not open the file
# per request). Both serve the path /1.0/config/user.foo with body "bar", and
# both share the machine's cores with the load tool, which is unavoidable on
# one host: read the ratio, not the absolute numbers.
#
# Runs alternate between targets (A B A B ...) so that drift on a shared
# machine hits both alike. Everything started here is stopped on exit.
#
# usage: tools/bench-http.sh [--connections N] [--duration S] [--warmup S]
#                            [--runs N] [--mode keepalive|churn]
#                            [--no-build] [--bin-dir DIR] [--only-nginx] [--baseline-bin-dir DIR]
#                            [--floor]
#   --only-nginx  benchmark nginx against itself (an A/A run, which also shows
#                 the run-to-run noise); needs only guestapi-load.
#   --bin-dir     where the release binaries are (default: .build/release).
#   --baseline-bin-dir DIR  also run the guestapid in DIR (an earlier build) in the same
#                 alternation, and print the ratio of this build to it.
#   --floor       also run guestapi-floor (tools/floor): SwiftNIO alone, one channel per
#                 connection answering canned bytes, with no identity, parsing or database.
#                 Its ratio to nginx is as far as any NIO server gets on this machine.
set -euo pipefail
. "$(dirname "$0")/lib/nginx.sh"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
connections=64
duration=10
warmup=1
runs=3
mode=keepalive
build=1
only_nginx=0
floor=0
baseline_dir=
bin_dir=$repo/.build/release
# guestapi-load and guestapi-floor: the tools package's own build.
tools_bin=$repo/tools/.build/release
config_path=/1.0/config/user.foo
config_value=bar

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --connections) connections=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --mode) mode=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        --only-nginx) only_nginx=1; shift ;;
        --baseline-bin-dir) baseline_dir=$(cd "$2" && pwd); shift 2 ;;
        --floor) floor=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-http: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case $mode in keepalive|churn) ;; *) echo "bench-http: --mode must be keepalive or churn" >&2; exit 2 ;; esac
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench-http: --runs must be a positive integer" >&2; exit 2; }

log() { echo "bench-http: $*" >&2; }

tmp=$(mktemp -d /tmp/bench-http.XXXXXX)
nginx_pid=
baseline_pid=
guestapid_pid=
floor_pid=

cleanup() {
    local status=$?
    # TERM, then wait: guestapid removes its socket on the way out and nginx
    # reaps its workers, so nothing outlives the script.
    for pid in $guestapid_pid $nginx_pid $baseline_pid $floor_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $guestapid_pid $nginx_pid $baseline_pid $floor_pid; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for_socket() { # path pid name
    local i
    for ((i = 0; i < 200; i++)); do
        [[ -S $1 ]] && return 0
        kill -0 "$2" 2>/dev/null || { log "$3 exited before creating $1"; return 1; }
        sleep 0.05
    done
    log "$3 did not create $1 within 10 s"
    return 1
}

# --- binaries ---------------------------------------------------------------

if ((build)); then
    if ! ((only_nginx)); then
        log "building release binaries"
        (cd "$repo" && swift build -c release) >&2
    fi
    log "building guestapi-load and guestapi-floor (release, tools/Package.swift)"
    (cd "$repo" && swift build -c release --package-path tools) >&2
fi
load=$tools_bin/guestapi-load
[[ -x $load ]] || { log "no $load (build it, or point --bin-dir at it)"; exit 1; }

# --- nginx ------------------------------------------------------------------

if ! command -v nginx >/dev/null; then
    log "installing nginx"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq nginx-light >&2 || apt-get install -y -qq nginx >&2
fi

# The workers drop to an unprivileged user when started as root, so they must
# be able to reach the document root inside our private temp folder.
chmod 755 "$tmp"
mkdir -p "$tmp/nginx/root${config_path%/*}" "$tmp/nginx/temp"
printf '%s' "$config_value" >"$tmp/nginx/root$config_path"
chmod -R a+rX "$tmp/nginx/root"
nginx_socket=$tmp/nginx/nginx.sock

write_nginx_conf "$tmp/nginx" "$nginx_socket"

log "starting nginx on $nginx_socket"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
wait_for_socket "$nginx_socket" "$nginx_pid" nginx || { cat "$tmp/nginx/error.log" >&2; exit 1; }

# --- guestapid --------------------------------------------------------------

targets=(nginx)
declare -A socket_of=([nginx]=$nginx_socket)

if ((only_nginx)); then
    # A/A: the same server twice shows how much of any difference is noise.
    targets+=(nginx-again)
    socket_of[nginx-again]=$nginx_socket
else
    for tool in guestapid guestapi-admin; do
        [[ -x $bin_dir/$tool ]] || { log "no $bin_dir/$tool (build it, or use --only-nginx)"; exit 1; }
    done
    state=$tmp/state
    # The benchmark shell is the instance's init; guestapi-load runs as its
    # descendant, so the daemon resolves every connection to this instance.
    "$bin_dir/guestapi-admin" instance create bench --state-dir "$state" --pid $$ --config "user.foo=$config_value" >&2
    log "starting guestapid"
    "$bin_dir/guestapid" --state-dir "$state" >"$tmp/guestapid.log" 2>&1 &
    guestapid_pid=$!
    wait_for_socket "$state/guestapi/sock" "$guestapid_pid" guestapid || { cat "$tmp/guestapid.log" >&2; exit 1; }
    targets+=(guestapid)
    socket_of[guestapid]=$state/guestapi/sock
    if [[ -n $baseline_dir ]]; then
        "$baseline_dir/guestapi-admin" instance create bench --state-dir "$tmp/baseline" --pid $$ --config "user.foo=$config_value" >&2
        log "starting the baseline guestapid from $baseline_dir"
        "$baseline_dir/guestapid" --state-dir "$tmp/baseline" >"$tmp/baseline.log" 2>&1 &
        baseline_pid=$!
        wait_for_socket "$tmp/baseline/guestapi/sock" "$baseline_pid" baseline || { cat "$tmp/baseline.log" >&2; exit 1; }
        targets+=(baseline)
        socket_of[baseline]=$tmp/baseline/guestapi/sock
    fi
    if ((floor)); then
        [[ -x $tools_bin/guestapi-floor ]] || { log "no $tools_bin/guestapi-floor (build it, or drop --floor)"; exit 1; }
        log "starting guestapi-floor"
        "$tools_bin/guestapi-floor" "$tmp/floor.sock" "$config_value" >"$tmp/floor.log" 2>&1 &
        floor_pid=$!
        wait_for_socket "$tmp/floor.sock" "$floor_pid" guestapi-floor || { cat "$tmp/floor.log" >&2; exit 1; }
        targets+=(nio-floor)
        socket_of[nio-floor]=$tmp/floor.sock
    fi
fi

# --- runs -------------------------------------------------------------------

json_field() { # json key
    sed -E "s/.*\"$2\":\"?([^,\"}]*).*/\1/" <<<"$1"
}

# A one-connection smoke run first: a wrong path or a refused caller would
# otherwise show up as a fast benchmark of error responses.
for target in "${targets[@]}"; do
    out=$("$load" --socket "${socket_of[$target]}" --path "$config_path" --connections 1 --duration 0.2 --json)
    if [[ $(json_field "$out" requests) == 0 || $(json_field "$out" errors) != 0 ]]; then
        log "$target failed the smoke run: $out"
        exit 1
    fi
done

# Both servers and the load tool share the cores: anything else running skews
# the figures. Sampled over a second rather than read off the load average,
# which a previous benchmark keeps high for minutes.
cpu_busy_percent() {
    local before after
    before=$(head -1 /proc/stat)
    sleep 1
    after=$(head -1 /proc/stat)
    # Fields after "cpu": user nice system idle iowait irq softirq steal.
    awk -v a="$before" -v b="$after" 'BEGIN {
        split(a, x); split(b, y)
        for (i = 2; i <= 9; i++) total += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%d", (total > 0 ? 100 * (total - idle) / total : 0)
    }'
}
busy=$(cpu_busy_percent)
if ((busy > 10)); then
    log "warning: the CPUs were $busy% busy before starting; figures will be noisy"
fi
log "$(nproc) cores, mode $mode, $connections connections, ${warmup}s warm-up + ${duration}s x $runs runs per target"
for ((run = 1; run <= runs; run++)); do
    for target in "${targets[@]}"; do
        out=$("$load" --socket "${socket_of[$target]}" --path "$config_path" --mode "$mode" \
            --connections "$connections" --duration "$duration" --warmup "$warmup" --json)
        log "run $run/$runs $target: $out"
        echo "$out" >>"$tmp/$target.jsonl"
    done
done

# --- report -----------------------------------------------------------------

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_of() { # target key
    while read -r line; do json_field "$line" "$2"; done <"$tmp/$1.jsonl"
}

echo
echo "mode $mode, $connections connections, ${duration}s x $runs runs, $(nproc) cores"
printf '%-12s %10s %10s %10s %10s %10s %8s\n' target rps_median rps_min rps_max p50_us p99_us errors
declare -A median_rps
for target in "${targets[@]}"; do
    median_rps[$target]=$(column_of "$target" rps | median)
    printf '%-12s %10.0f %10.0f %10.0f %10.1f %10.1f %8d\n' "$target" \
        "${median_rps[$target]}" \
        "$(column_of "$target" rps | sort -g | head -1)" \
        "$(column_of "$target" rps | sort -g | tail -1)" \
        "$(column_of "$target" p50_us | median)" \
        "$(column_of "$target" p99_us | median)" \
        "$(column_of "$target" errors | awk '{ s += $1 } END { print s }')"
done
# Latency columns are medians over runs; errors are summed over runs.
challenger=${targets[1]}
awk -v a="${median_rps[$challenger]}" -v b="${median_rps[nginx]}" -v name="$challenger" \
    'BEGIN { printf "ratio %s/nginx (median rps): %.3f\n", name, (b > 0 ? a / b : 0) }'
if [[ -n $baseline_dir ]]; then
    awk -v a="${median_rps[guestapid]}" -v b="${median_rps[baseline]}" \
        'BEGIN { printf "ratio guestapid/baseline (median rps): %.3f\n", (b > 0 ? a / b : 0) }'
fi
if ((floor)); then
    awk -v a="${median_rps[nio-floor]}" -v b="${median_rps[nginx]}" \
        'BEGIN { printf "ratio nio-floor/nginx (median rps): %.3f\n", (b > 0 ? a / b : 0) }'
fi
