#!/usr/bin/env bash
# Benchmarks `guestapi-admin hook oci`, the OCI runtime hook, with runc and the release
# build: N containers (default 50) start at once, then stop at once, and every hook
# invocation is timed.
#
#   start   guestapid serves a fresh temp state; N runc containers, each a bundle of
#           its own (config.json as in the integration tests: the host's /usr bound
#           read-only, the daemon's socket folder at /dev/incus, `sleep 3600`) over one
#           shared read-only rootfs, are started with `runc run -d` all at once. Their
#           createRuntime and poststop hooks are tools/hooks/timed-hook.sh, which runs
#           `guestapi-admin hook oci --state-dir STATE` and logs how long it took (bash
#           $EPOCHREALTIME around the hook alone, not runc) and its exit status.
#           Target: createRuntime p99 <= 50 ms.
#   check   from inside each container, `curl --unix-socket /dev/incus/sock
#           http://guest/1.0` must answer 200 with "state":"Started" (the daemon
#           recognizes the container's processes), and `guestapi-admin instance list`
#           must list every container, Started, with its init's pid.
#   stop    `runc kill ID KILL` for all at once, then `runc delete ID` for all at once
#           (runc runs poststop hooks on delete); every instance must then be Stopped.
#
# The N hooks of a stage run at about the same time and all write the same SQLite
# database: each waits up to 5 s for the write lock, so the figures include that wait.
# A hook never fails its container: it reports an error as one line on stderr and exits
# 0, so a hook counts as failed if it exits non-zero or writes to stderr. p99 is by
# nearest rank: with 50 hooks it is the slowest one. Progress goes to stderr, the table
# to stdout. Exits 1 if a container does not start or stop, a hook fails, or a check
# is short of N/N (not for a missed latency target). Run as root (runc). Every
# container started here is deleted on exit (`runc delete --force`), guestapid is
# stopped, and the temp folder is removed.
#
# usage: tools/bench-hooks.sh [--containers N] [--no-build] [--bin-dir DIR]
#   --containers  how many containers start and stop at once (default 50)
#   --no-build    use the binaries as they are (default: swift build -c release
#                 --static-swift-stdlib first)
#   --bin-dir     where guestapid and guestapi-admin are (default: .build/release)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=$repo/.build/release
build=1
containers=50
runc=/usr/sbin/runc
wrapper=$repo/tools/hooks/timed-hook.sh
target_ms=50

usage() { sed -n '/^# usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case $1 in
        --containers) containers=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench-hooks: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $containers =~ ^[1-9][0-9]*$ ]] || { echo "bench-hooks: --containers takes a positive integer" >&2; exit 2; }

log() { echo "bench-hooks: $*" >&2; }

((EUID == 0)) || { log "run as root (runc)"; exit 1; }
[[ -x $runc ]] || { log "no $runc (apt-get install runc)"; exit 1; }
for tool in jq curl; do
    command -v "$tool" >/dev/null || { log "needs $tool"; exit 1; }
done
[[ -x $wrapper ]] || { log "no $wrapper, or it is not executable"; exit 1; }

tmp=$(mktemp -d /tmp/bench-hooks.XXXXXX)
daemon_pid=
ids=()        # every container id that `runc run` was started for: deleted on exit

cleanup() {
    local status=$? id pid deleting=()
    trap - INT TERM
    # In parallel: a container's delete --force kills it and runs its poststop hook.
    for id in "${ids[@]}"; do
        "$runc" delete --force "$id" >/dev/null 2>&1 &
        deleting+=($!)
    done
    for pid in "${deleting[@]}"; do wait "$pid" || true; done
    if [[ -n $daemon_pid ]]; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- binaries -------------------------------------------------------------------

if ((build)); then
    log "building release binaries"
    (cd "$repo" && swift build -c release --static-swift-stdlib) >&2
fi
for tool in guestapid guestapi-admin; do
    [[ -x $bin_dir/$tool ]] || { log "no $bin_dir/$tool (build it, or point --bin-dir at it)"; exit 1; }
done
admin=$bin_dir/guestapi-admin

# --- guestapid ------------------------------------------------------------------

state=$tmp/state
mkdir -p "$state"
"$bin_dir/guestapid" --state-dir "$state" >"$tmp/guestapid.out" 2>"$tmp/guestapid.err" &
daemon_pid=$!
for ((i = 0; i < 300; i++)); do
    grep -qs serving "$tmp/guestapid.out" && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
grep -qs serving "$tmp/guestapid.out" || { log "guestapid did not start serving:"; cat "$tmp/guestapid.err" >&2; exit 1; }
log "guestapid serving $state/guestapi/sock"

# --- bundles --------------------------------------------------------------------

# One rootfs for all, read-only: every mount point is made here beforehand (/dev is a
# tmpfs of each container's own, so /dev/incus is made in it), and nothing inside writes.
rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{usr,proc,dev,sys,tmp,etc,root}
for link in bin lib lib64 sbin; do ln -s "usr/$link" "$rootfs/$link"; done
"$runc" spec --bundle "$tmp"
mv "$tmp/config.json" "$tmp/spec.json"

hook_log=$tmp/hooks.log
hook_err=$tmp/hook-stderr
mkdir -p "$hook_err" "$tmp/bundles"
: >"$hook_log"
run_id=bh-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
names=()
for ((i = 1; i <= containers; i++)); do
    id=$run_id-$i
    names+=("$id")
    mkdir -p "$tmp/bundles/$id"
    jq --arg rootfs "$rootfs" --arg socket_dir "$state/guestapi" --arg wrapper "$wrapper" --arg log "$hook_log" \
       --arg err "$hook_err" --arg id "$id" --arg admin "$admin" --arg state "$state" '
        def hook($stage): {path: $wrapper,
                           args: ["timed-hook", $log, $err, $stage, $id, $admin, "hook", "oci", "--state-dir", $state]};
        .process.terminal = false
        | .process.args = ["/bin/sh", "-c", "exec sleep 3600"]
        | .root = {path: $rootfs, readonly: true}
        | .mounts += [{destination: "/usr", type: "bind", source: "/usr", options: ["rbind", "ro"]},
                      {destination: "/dev/incus", type: "bind", source: $socket_dir, options: ["bind"]}]
        | .hooks = {createRuntime: [hook("createRuntime")], poststop: [hook("poststop")]}
    ' "$tmp/spec.json" >"$tmp/bundles/$id/config.json"
done

# --- start: all at once ---------------------------------------------------------

log "starting $containers containers at once ($run_id-1 .. $run_id-$containers)"
ids=("${names[@]}")
started_at=$EPOCHREALTIME
pids=()
for id in "${names[@]}"; do
    # stdio to a file: a detached container's init keeps what it inherits open.
    "$runc" run -d --bundle "$tmp/bundles/$id" "$id" >"$tmp/bundles/$id/run.log" 2>&1 </dev/null &
    pids+=($!)
done
run_failed=0
for ((i = 0; i < containers; i++)); do
    if ! wait "${pids[i]}"; then
        run_failed=$((run_failed + 1))
        log "runc run ${names[i]} failed: $(tr '\n' ' ' <"$tmp/bundles/${names[i]}/run.log")"
    fi
done
start_s=$(awk -v a="$started_at" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
log "all runc run returned in $start_s s ($run_failed failed)"

# --- check: recognized from inside, listed --------------------------------------

recognized=0
for id in "${names[@]}"; do
    answer=$("$runc" exec "$id" /bin/sh -c \
        'curl -s --max-time 10 -w "\n%{http_code}" --unix-socket /dev/incus/sock http://guest/1.0' 2>&1) || true
    code=${answer##*$'\n'}
    if [[ $code == 200 && $answer == *'"state":"Started"'* ]]; then
        recognized=$((recognized + 1))
    else
        log "$id from inside: $(tr '\n' ' ' <<<"$answer")"
    fi
done
log "recognized from inside: $recognized/$containers"

"$admin" instance list --format json --state-dir "$state" >"$tmp/list-started.json"
listed=0
for id in "${names[@]}"; do
    pid=$("$runc" state "$id" 2>/dev/null | jq -r '.pid // empty') || pid=
    if jq -e --arg id "$id" --arg pid "${pid:--1}" \
          'any(.[]; .name == $id and .state == "Started" and (.pid | tostring) == $pid)' \
          "$tmp/list-started.json" >/dev/null; then
        listed=$((listed + 1))
    else
        log "$id: not listed Started with its init's pid ${pid:-?}"
    fi
done
log "listed Started with their init's pid: $listed/$containers"

# --- stop: all at once ------------------------------------------------------------

log "stopping $containers containers at once (runc kill KILL, then runc delete)"
pids=()
for id in "${names[@]}"; do
    "$runc" kill "$id" KILL >/dev/null 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done   # (not a bare wait: guestapid is a job too)
for id in "${names[@]}"; do
    for ((i = 0; i < 200; i++)); do
        [[ $("$runc" state "$id" 2>/dev/null | jq -r .status) == running ]] || break
        sleep 0.05
    done
done
stopped_at=$EPOCHREALTIME
pids=()
for id in "${names[@]}"; do
    "$runc" delete "$id" >"$tmp/bundles/$id/delete.log" 2>&1 &
    pids+=($!)
done
delete_failed=0
remaining=()
for ((i = 0; i < containers; i++)); do
    if ! wait "${pids[i]}"; then
        delete_failed=$((delete_failed + 1))
        remaining+=("${names[i]}")
        log "runc delete ${names[i]} failed: $(tr '\n' ' ' <"$tmp/bundles/${names[i]}/delete.log")"
    fi
done
ids=("${remaining[@]}")
delete_s=$(awk -v a="$stopped_at" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
log "all runc delete returned in $delete_s s ($delete_failed failed)"

"$admin" instance list --format json --state-dir "$state" >"$tmp/list-stopped.json"
stopped=0
for id in "${names[@]}"; do
    if jq -e --arg id "$id" 'any(.[]; .name == $id and .state == "Stopped")' "$tmp/list-stopped.json" >/dev/null; then
        stopped=$((stopped + 1))
    else
        log "$id: not Stopped: $(jq -c --arg id "$id" '[.[] | select(.name == $id) | .state]' "$tmp/list-stopped.json")"
    fi
done
log "Stopped after poststop: $stopped/$containers"

# --- report -----------------------------------------------------------------------

# A hook failed if it exited non-zero or wrote to stderr (its errors are exit 0).
hook_failed=0
for file in "$hook_err"/*; do
    [[ -s $file ]] || continue
    hook_failed=$((hook_failed + 1))
    log "$(basename "$file"): $(head -c 300 "$file" | tr '\n' ' ')"
done
error_count() { # stage: how many of its hooks wrote to stderr
    local file count=0
    for file in "$hook_err/$1".*; do [[ -s $file ]] && count=$((count + 1)); done
    echo "$count"
}
status_failed=$(awk '$5 != 0' "$hook_log" | wc -l)

echo
echo "guestapi-admin hook oci under runc: $containers containers at once, $bin_dir, $(nproc) cores, $("$runc" --version | head -n 1)"
awk -v n="$containers" -v target="$target_ms" -v err_create="$(error_count createRuntime)" \
    -v err_poststop="$(error_count poststop)" '
    { ms = ($4 - $3) * 1000; d[$1, ++count[$1]] = ms; if ($5 != 0) bad[$1]++
      # For the overlap: +1 at a start, -1 at an end (an end first at equal times).
      ev[++e] = sprintf("%s %.6f %d", $1, $3, 1); ev[++e] = sprintf("%s %.6f %d", $1, $4, -1) }
    function sort(stage, k,   i, j, t) {
        for (i = 1; i <= k; i++) s[i] = d[stage, i]
        for (i = 2; i <= k; i++) { t = s[i]; for (j = i - 1; j >= 1 && s[j] > t; j--) s[j + 1] = s[j]; s[j + 1] = t }
    }
    function rank(q, k,   r) { r = int(q * k); if (r < q * k) r++; if (r < 1) r = 1; return s[r] }
    function overlap(stage,   i, j, t, u, f, cur, best) {
        # events of this stage, sorted by time (ends before starts at a tie)
        k2 = 0
        for (i = 1; i <= e; i++) { split(ev[i], f, " "); if (f[1] == stage) { k2++; tt[k2] = f[2]; dd[k2] = f[3] } }
        for (i = 2; i <= k2; i++) {
            t = tt[i]; u = dd[i]
            for (j = i - 1; j >= 1 && (tt[j] > t || (tt[j] == t && dd[j] > u)); j--) { tt[j + 1] = tt[j]; dd[j + 1] = dd[j] }
            tt[j + 1] = t; dd[j + 1] = u
        }
        cur = 0; best = 0
        for (i = 1; i <= k2; i++) { cur += dd[i]; if (cur > best) best = cur }
        return best
    }
    END {
        printf "%-14s %6s %9s %9s %9s  %-11s %s\n", "hook stage", "count", "p50 ms", "p99 ms", "max ms", "target", "verdict"
        split("createRuntime poststop", stages, " ")
        for (x = 1; x <= 2; x++) {
            stage = stages[x]; k = count[stage] + 0
            # a hook that wrote to stderr failed too (its errors exit 0)
            failed = bad[stage] + 0; erred = (stage == "createRuntime") ? err_create : err_poststop
            if (k == 0) { printf "%-14s %6d %9s %9s %9s  %-11s %s\n", stage, 0, "-", "-", "-", "", "FAIL (no hook ran)"; continue }
            sort(stage, k)
            p50 = rank(0.50, k); p99 = rank(0.99, k); mx = s[k]
            # createRuntime: the latency target; both: every hook ran, and none failed
            tgt = (stage == "createRuntime") ? "p99 <= " target : "-"
            why = ""
            if (stage == "createRuntime" && p99 > target) why = why ", p99 over target"
            if (k != n) why = why ", " k "/" n " hooks ran"
            if (failed) why = why ", " failed " exited non-zero"
            if (erred) why = why ", " erred " wrote an error"
            verdict = (why == "") ? "PASS" : "FAIL (" substr(why, 3) ")"
            printf "%-14s %6d %9.1f %9.1f %9.1f  %-11s %s\n", stage, k, p50, p99, mx, tgt, verdict
            peak[stage] = overlap(stage)
        }
        printf "most hooks running at once: createRuntime %d, poststop %d\n", peak["createRuntime"], peak["poststop"]
    }' "$hook_log"
printf '%s\n' \
    "hooks that exited non-zero: $status_failed; hooks that wrote an error on stderr: $hook_failed" \
    "containers started (runc run): $((containers - run_failed))/$containers in $start_s s" \
    "containers recognized from inside: $recognized/$containers" \
    "instances listed Started with their init's pid: $listed/$containers" \
    "containers deleted (runc delete): $((containers - delete_failed))/$containers in $delete_s s" \
    "instances Stopped after poststop: $stopped/$containers"

created=$(awk '$1 == "createRuntime"' "$hook_log" | wc -l)
poststops=$(awk '$1 == "poststop"' "$hook_log" | wc -l)
if ((run_failed || delete_failed || hook_failed || status_failed || recognized != containers || listed != containers \
     || stopped != containers || created != containers || poststops != containers)); then
    log "some checks failed"
    exit 1
fi
