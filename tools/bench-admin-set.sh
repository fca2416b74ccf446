#!/bin/sh
# Wall time of `guestapi-admin set user.foo <i>` on a one-instance state: a table of
# runs, median, p90, min and max in milliseconds. Target: median under 30 ms.
#
#   tools/bench-admin-set.sh [--no-build] [-n RUNS] [--scratch-path DIR]
#
# Builds the release CLI first unless --no-build (--scratch-path is passed to swift build);
# GUESTAPI_BIN_DIR overrides where the binary is.
set -eu

runs=200
build=1
scratch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    -n) runs="$2"; shift ;;
    --scratch-path) scratch="--scratch-path $2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "bench-admin-set: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "$0")/.."
if [ "$build" = 1 ]; then
  swift build -c release $scratch --product guestapi-admin >&2
fi
bin="${GUESTAPI_BIN_DIR:-$(swift build -c release $scratch --show-bin-path)}/guestapi-admin"
[ -x "$bin" ] || { echo "bench-admin-set: no $bin (build it, or drop --no-build)" >&2; exit 1; }

state=$(mktemp -d "${TMPDIR:-/tmp}/guestapi-bench-XXXXXX")
trap 'rm -rf "$state"' EXIT INT TERM
"$bin" instance create bench --state-dir "$state" >/dev/null

# Warm-up: page cache, dynamic loader, the database's first WAL.
i=0
while [ $i -lt 10 ]; do "$bin" set user.foo "warm$i" --state-dir "$state"; i=$((i + 1)); done

times="$state/times"
i=1
while [ $i -le "$runs" ]; do
  start=$(date +%s%N)
  "$bin" set user.foo "$i" --state-dir "$state"
  end=$(date +%s%N)
  echo $((end - start)) >> "$times"
  i=$((i + 1))
done

# The last value must be the last run's: every run really wrote.
[ "$("$bin" get user.foo --state-dir "$state")" = "$runs" ] || { echo "bench-admin-set: writes were lost" >&2; exit 1; }

sort -n "$times" | awk -v runs="$runs" '
  { t[NR] = $1 / 1e6 }
  END {
    median = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
    p90 = t[int(NR * 0.9 + 0.999999)]
    printf "%-30s %6s %10s %10s %10s %10s\n", "command", "runs", "median ms", "p90 ms", "min ms", "max ms"
    printf "%-30s %6d %10.2f %10.2f %10.2f %10.2f\n", "guestapi-admin set user.foo I", runs, median, p90, t[1], t[NR]
  }'
