#!/usr/bin/env bash
# Workload identity tokens (README, "Workload identity"), on a guestapid of its own:
#
#   rate    tokens/s minted on keep-alive connections (GET /1.0/identity?audience=bench)
#           against GET /1.0 in the same run, alternating, --runs times each, with
#           tools/load (guestapi-load). Target: >= 10,000 tokens/s.
#   fair    instance victim asks GET /1.0 on one keep-alive connection for 5 s, quiet, then
#           while instance minter mints in a loop on 64 connections. Target: victim p99
#           <= quiet p99 + 5 ms.
#
# usage: tools/bench-identity.sh [--no-build] [--bin-dir DIR] [--duration S] [--runs N]
#   --bin-dir   where the release binaries are (default: .build/release)
# Progress goes to stderr, the tables to stdout. Run as root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=$repo/.build/release
tools_bin=$repo/tools/.build/release
build=1
duration=5
runs=3
while (($#)); do
    case $1 in
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "bench-identity: unknown option $1" >&2; exit 2 ;;
    esac
done
log() { echo "bench-identity: $*" >&2; }

if ((build)); then
    log "building release binaries"
    (cd "$repo" && swift build -c release && swift build -c release --package-path tools --product guestapi-load) >&2
fi
load=$tools_bin/guestapi-load
for tool in "$bin_dir/guestapid" "$bin_dir/guestapi-admin" "$load"; do
    [[ -x $tool ]] || { log "no $tool (build it, or drop --no-build)"; exit 1; }
done
admin=$bin_dir/guestapi-admin

tmp=$(mktemp -d /tmp/guestapi-bench-identity-XXXXXX)
state=$tmp/state
socket=$state/guestapi/sock
cleanup() {
    [[ -n ${daemon_pid:-} ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$admin" instance create bench --state-dir "$state" >&2
log "starting guestapid"
"$bin_dir/guestapid" --state-dir "$state" >"$tmp/guestapid.log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 200; i++)); do [[ -S $socket ]] && break; sleep 0.05; done
[[ -S $socket ]] || { cat "$tmp/guestapid.log" >&2; exit 1; }

json_field() { sed -E "s/.*\"$2\":\"?([^,\"}]*).*/\1/" <<<"$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# `as INSTANCE COMMAND...`: COMMAND as the init of INSTANCE (attached to this very process).
as() {
    local instance=$1
    shift
    sh -c '"$0" instance attach "$1" --pid $$ --state-dir "$2" >/dev/null && shift 2 && exec "$@"' \
        "$admin" "$instance" "$state" "$@"
}

# One run of the load tool: PATH, connections, seconds, as INSTANCE.
run() { # instance path connections seconds
    as "$1" "$load" --socket "$socket" --path "$2" --connections "$3" --duration "$4" --warmup 1 --json
}

token=/1.0/identity?audience=bench
smoke=$(run bench "$token" 1 0.3)
if [[ $(json_field "$smoke" requests) == 0 || $(json_field "$smoke" errors) != 0 || $(json_field "$smoke" non2xx) != 0 ]]; then
    log "minting failed the smoke run: $smoke"
    exit 1
fi

# --- rate ---
log "rate: 64 keep-alive connections, ${duration}s x $runs runs, GET /1.0 and tokens alternating"
for ((r = 1; r <= runs; r++)); do
    for path in /1.0 "$token"; do
        out=$(run bench "$path" 64 "$duration")
        log "run $r $path: $out"
        echo "$out" >>"$tmp/$( [[ $path == /1.0 ]] && echo info || echo token ).jsonl"
    done
done
column() { while read -r line; do json_field "$line" "$2"; done <"$tmp/$1.jsonl"; }
info_rps=$(column info rps | median)
token_rps=$(column token rps | median)
token_bad=$(column token non2xx | paste -sd+ | bc)

# --- fair ---
"$admin" instance create victim --state-dir "$state" >&2
"$admin" instance create minter --state-dir "$state" >&2
log "fair: victim alone for 5 s"
quiet=$(run victim /1.0 1 5)
log "fair: victim beside a minter on 64 connections"
run minter "$token" 64 7 >"$tmp/minter.json" &
minter=$!
sleep 1
busy=$(run victim /1.0 1 5)
wait "$minter"
minted=$(cat "$tmp/minter.json")

echo
echo "workload identity tokens, $(nproc) cores"
printf '%-58s %-22s %-22s %s\n' figure value reference target
printf '%-58s %-22s %-22s %s\n' "tokens/s, 64 keep-alive connections (median of $runs)" "$token_rps" "GET /1.0: $info_rps" ">= 10000"
printf '%-58s %-22s %-22s %s\n' "tokens that were not 200" "$token_bad" "-" "0"
quiet_p99=$(json_field "$quiet" p99_us)
busy_p99=$(json_field "$busy" p99_us)
printf '%-58s %-22s %-22s %s\n' "victim GET /1.0 p99 beside a minter (us)" "$busy_p99" "quiet: $quiet_p99" "<= quiet + 5000"
printf '%-58s %-22s %-22s %s\n' "minter meanwhile (tokens/s)" "$(json_field "$minted" rps)" "-" "-"
verdict=PASS
awk -v t="$token_rps" 'BEGIN { exit !(t >= 10000) }' || verdict=FAIL
awk -v b="$busy_p99" -v q="$quiet_p99" 'BEGIN { exit !(b <= q + 5000) }' || verdict=FAIL
[[ $token_bad == 0 ]] || verdict=FAIL
echo "verdict: $verdict"
