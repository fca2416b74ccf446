#!/usr/bin/env bash
# Fuzzes what a guest's bytes reach before any handler, with libFuzzer: request framing
# (RequestParser with HeadParser, HTTPGrammar and ChunkedBody), the path and query split
# (GuestRequest), routing (Route), percent-decoding, the Range header (ByteRange) and the
# events query (EventQuery); the CLI's --older-than (Age), the other parser of numbers from
# text someone else wrote; and the JSON reader of `apply` (JSONText), against Foundation's
# JSONSerialization. The harness, fuzz/Sources/guestapi-fuzz/*.swift, checks
# properties and traps when one breaks; libFuzzer then saves the input as crash-* (one that
# runs 10 s as timeout-*). For the parser: it never crashes; its events (each request by its
# fields and body, the failure by its case) are the same whether the input arrives whole, cut
# in two where its first byte says, or byte by byte; no request comes from a head or with a
# body over the limits (small ones, from the input's last two bytes, so that a few KiB reach
# them).
# For the values (the input as sent and as the query decodes it): a range part lies inside
# the file (so never for size 0) and never comes from a list; `since` and `--older-than`
# accept exactly digits (and `now`, or one unit letter) whose value fits an Int, as a
# reference through UInt64 says, and give that value; the error message that echoes `since`
# is short, printable ASCII, and shows a plain value as sent. For JSON: JSONText never traps,
# its errors name a line and column inside the input, and it reads what Foundation reads, with
# the same value, but for the differences fuzz/Sources/guestapi-fuzz/JSONChecks.swift lists and checks (Foundation
# reads UTF-16/32, a byte order mark, trailing commas, a name given twice and nesting up to 512
# deep; JSONText reads numbers past Double's range).
#
# Seeds: the malformed-HTTP corpus
# (http_corpus.py --seeds), the request targets in it, and JSON documents at the edges.
#
# usage: tools/hardening/fuzz.sh [--no-build] [SECONDS]     (default 60 seconds)
#   --no-build  use the fuzzer's build as it is
# Prints libFuzzer's log tail and a summary line:
#   fuzz: N executions in S s, 0 findings        (exit 0)
#   fuzz: N executions in S s, K findings: DIR   (exit 1; the crash-* files are the inputs)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=1
seconds=60
for argument in "$@"; do
    case $argument in
        --no-build) build=0 ;;
        *) seconds=$argument ;;
    esac
done

cd "$repo"
# The fuzzer's own package (tools/hardening/fuzz): the daemon package's GuestParsers (ASCIINumbers,
# GuestHTTP, GuestJSON, GuestRoutes) built whole with libFuzzer's and AddressSanitizer's
# instrumentation, NIO too. Optimized (twenty times the executions of a debug build), with
# testing on (for @testable import GuestHTTP) and failed preconditions printing their message.
package=tools/hardening/fuzz
if [ "$build" = 1 ]; then
    swift build --package-path "$package" -c release -Xswiftc -enable-testing -Xswiftc -sanitize=fuzzer,address \
        -Xswiftc -assert-config -Xswiftc Debug 2> >(grep -v "Cannot export local symbol" >&2) >/dev/null
fi
fuzzer=$package/.build/release/guestapi-fuzz
[ -x "$fuzzer" ] || { echo "fuzz: no $fuzzer (run without --no-build)" >&2; exit 1; }
work=$(mktemp -d /tmp/guestapi-fuzz-XXXXXX)

mkdir -p "$work/seeds" "$work/corpus" "$work/findings"
/usr/bin/python3 tools/hardening/http_corpus.py --seeds "$work/seeds"
# Each case's request target (the second word of its first line) as a seed of its own.
/usr/bin/python3 - "$work/seeds" <<'EOF'
import os, sys
folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    words = open(os.path.join(folder, name), "rb").read().split(b"\r\n", 1)[0].split(b" ")
    if len(words) > 1:
        open(os.path.join(folder, "target__" + name), "wb").write(words[1])
for i, seed in enumerate([b"bytes=0-5", b"bytes=-3", b"bytes=995-", b"bytes=5-1", b"/1.0/events?since=%31&type=config,device",
                          b"/1.0/config/user.a%2Fb", b"http://guest/1.0/config?x=1"]):
    open(os.path.join(folder, "extra-%d" % i), "wb").write(seed)
# The edges of the number parsers: Int.max and one past it, signs (sent and escaped), a NUL,
# leading zeros, the largest --older-than in days and one past it, lists and zero-length ranges.
for i, seed in enumerate([b"9223372036854775807", b"9223372036854775808", b"18446744073709551616", b"-1", b"+5", b"%2B5",
                          b"5%00", b"0005", b"now", b"%6Eow", b"106751d", b"106752d", b"99999999999d", b"0s", b"9223372036s",
                          b"bytes=0-0,5-9", b"bytes=-0", b"bytes=9223372036854775807-", b"bytes=0-9223372036854775808",
                          b"bytes= 1 - 2 ", b"config,device,lifecycle"]):
    open(os.path.join(folder, "edge-%d" % i), "wb").write(seed)
# JSON: an apply document, every kind of value and escape, numbers past Int and Double, and
# what one reader takes and the other does not: depth 64 and 65, a name given twice, names
# that are canonically equivalent, trailing commas, byte order marks, UTF-16, bad UTF-8.
deep = lambda n, inner=b"1": b"[" * n + inner + b"]" * n
for i, seed in enumerate([
        b'{"instances": [{"name": "c1", "type": "container", "config": {"user.a": "1", "user.b": {"base64": "AP8="}},\n'
        b' "devices": {"eth0": {"type": "nic", "hwaddr": "00:16:3e:00:00:01"}}, "pid": 42, "cgroup": null}]}\n',
        b'[null, true, false, 0, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1e3, -0.5, 1E+2]',
        rb'"\" \\ \/ \b \f \n \r \t \u0000 \u00e9 \uD83D\uDE00"', rb'"\uDFFF"', rb'"\uD800\u0041"',
        b'1e400', b'-1e400', b'123456789012345678901234567890', b'1e-400', b'0.1e-1', b'01', b'-', b'1.', b'1e+',
        deep(64), deep(65), deep(64, b""), b'{"a":' * 64 + b'1' + b'}' * 64, deep(600, b""),
        b'{"a": 1, "a": 2}', rb'{"a": 1, "\u0061": 2}', '{"\u00e9": 1, "e\u0301": 2}'.encode(),
        '{"K": 1, "\u212a": 2}'.encode(), b'[1,]', b'{"a": [1, 2, ], }', b'[1,,]',
        b'\xef\xbb\xbf{}', b'\xfe\xff\x00[\x00]', b'[\x00]\x00', b'1\x00', b'"\xc3\x28"', b'"\xed\xa0\x80"', b'"\x7f"',
        b'{"a"\n:\r\n1\t}', b'\x0c1', b'nul', b'[1] //', b'',
    ]):
    open(os.path.join(folder, "json-%d" % i), "wb").write(seed)
EOF

start=$(date +%s)
set +e
# Swift's backtracer off: libFuzzer's handler saves the input, and ASan mistakes the
# backtracer's reads of the dying process for use-after-free.
SWIFT_BACKTRACE=enable=no "$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/findings/" "$work/corpus" "$work/seeds" >"$work/log" 2>&1
status=$?
set -e
tail -n 20 "$work/log"
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
findings=$(find "$work/findings" -type f | wc -l)
elapsed=$(( $(date +%s) - start ))
if [ "$findings" -eq 0 ] && [ "$status" -eq 0 ]; then
    echo "fuzz: ${executions:-0} executions in $elapsed s, 0 findings"
    rm -rf "$work"
else
    echo "fuzz: ${executions:-0} executions in $elapsed s, $findings findings: $work/findings (libFuzzer exit $status)"
    exit 1
fi
