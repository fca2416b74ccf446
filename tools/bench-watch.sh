#!/usr/bin/env bash
# Watching without a WebSocket (README, "Watching for changes"), on a guestapid of its own:
# held-request latency after a CLI change against an event stream's, across a daemon restart,
# 1,000 held requests over 100 instances, timeouts, and memory per held request. See
# tools/watch/bench_watch.py for the figures and targets.
#
# usage: tools/bench-watch.sh [--no-build] [--bin-dir DIR] [bench_watch.py options]
#   --bin-dir   where the release binaries are (default: .build/release)
# Progress goes to stderr, the table to stdout. Run as root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=$repo/.build/release
build=1
rest=()
while (($#)); do
    case $1 in
        --no-build) build=0; shift ;;
        --bin-dir) bin_dir=$(cd "$2" && pwd); shift 2 ;;
        *) rest+=("$1"); shift ;;
    esac
done
if ((build)); then
    echo "bench-watch: building release binaries" >&2
    (cd "$repo" && swift build -c release) >&2
fi
exec python3 "$repo/tools/watch/bench_watch.py" --bin-dir "$bin_dir" "${rest[@]}"
