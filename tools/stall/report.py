#!/usr/bin/python3
"""Prints tools/bench-stall.sh's table from the JSON its clients wrote into DIR.

usage: report.py DIR TITLE [name=value]...   (the bench's parameters, for the labels)

A figure a client could not finish within its budget is a lower bound, shown "> X".
"""
import json
import math
import os
import sys

out_dir, title = sys.argv[1], sys.argv[2]
param = dict(arg.split("=", 1) for arg in sys.argv[3:])
rows = []


def load(name):
    path = os.path.join(out_dir, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        lines = f.read().splitlines()
    return json.loads(lines[-1]) if lines else None


def ms(value):
    return "%.1f s" % (value / 1000) if value >= 1000 else "%.2f ms" % value


def percentile(run, p):
    """(ms, how): nearest rank over the run's samples. how is "" for a measured value,
    ">" for a request cut by the budget (it took at least that long), "timeout" when
    the budget ran out before the rank was reached (those requests were never made)."""
    if run is None:
        return None, ""
    samples = sorted(run["samples_ms"])
    if run["cut_ms"] is not None and "planned" not in run:  # keepalive: the cut one is one more
        samples = sorted(samples + [run["cut_ms"]])
        cut_rank = samples.index(run["cut_ms"]) + 1
    else:
        cut_rank = None
    total = run["planned"] if run["cut_ms"] is not None and "planned" in run else len(samples)
    if total == 0:
        return None, ""
    rank = max(1, math.ceil(p * total / 100))
    if rank > len(samples):
        return run["budget_s"] * 1000, "timeout"
    return samples[rank - 1], ">" if rank == cut_rank else ""


def shown(value):
    ms_value, how = value
    if ms_value is None:
        return "n/a"
    if how == "timeout":
        return "timeout (> %s)" % ms(ms_value)
    return (how + " " if how else "") + ms(ms_value)


def slowest(run):
    """The slowest request, a cut one included (as a lower bound)."""
    if run is None or not (run["samples_ms"] or run["cut_ms"] is not None):
        return None, ""
    top = max(run["samples_ms"] or [0])
    if run["cut_ms"] is not None and run["cut_ms"] >= top:
        return run["cut_ms"], ">"
    return top, ""


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def row(figure, quiet, attack, target="-", ok=None):
    rows.append((figure, quiet, attack, target, "-" if target in ("-", "report only") else verdict(ok)))


# --- deep ---------------------------------------------------------------------
quiet, attack = load("deep-quiet.json"), load("deep-attack.json")
if quiet or attack:
    ready, attacker = load("deep-ready.json"), load("deep-attacker.jsonl")
    depth = ready["depth"] if ready else param.get("depth", "?")
    row("deep: victim connect->first byte p50", shown(percentile(quiet, 50)), shown(percentile(attack, 50)))
    q99, a99 = percentile(quiet, 99), percentile(attack, 99)
    ok = None if q99[0] is None or a99[0] is None else (not a99[1] and a99[0] <= q99[0] + 5)
    row("deep: victim connect->first byte p99", shown(q99), shown(a99), "<= quiet + 5 ms", ok)
    row("deep: victim connect->first byte max", shown(slowest(quiet)), shown(slowest(attack)))
    def done(r):  # a victim answered anything but 200 was not served as itself
        if r is None:
            return "n/a"
        other = sum(n for status, n in r["statuses"].items() if status != "200") + r["errors"]
        return "%d/%d in %s s%s" % (r["done"], r["planned"],
                                     r["budget_s"] if r["cut_ms"] is not None else "<=%g" % r["budget_s"],
                                     ", %d not 200" % other if other else "")
    row("deep: victim connections done", done(quiet), done(attack))
    if attacker:
        rounds = attacker["round"]
        row("deep: attacker, %s ancestors, %s conns/round" % (depth, param.get("conns", "?")), "-",
            "rounds: %d, the last %s s" % (rounds, attacker["seconds"]))
    else:
        row("deep: attacker, %s ancestors" % depth, "-", "no round finished")

# --- replay -------------------------------------------------------------------
quiet, attack, subs = load("replay-quiet.json"), load("replay-attack.json"), load("replay-subs.json")
if quiet or attack:
    row("replay: victim GET /1.0 p50", shown(percentile(quiet, 50)), shown(percentile(attack, 50)))
    q99, a99 = percentile(quiet, 99), percentile(attack, 99)
    row("replay: victim GET /1.0 p99", shown(q99), shown(a99), "<= 50 ms",
        None if a99[0] is None else (not a99[1] and a99[0] <= 50))
    row("replay: victim GET /1.0 max", shown(slowest(quiet)), shown(slowest(attack)))
    count = lambda r: "n/a" if r is None else "%d requests%s%s" % (
        r["done"], " + 1 cut" if r["cut_ms"] is not None else "",
        ", %d reconnects" % r["reconnects"] if r["reconnects"] else "") + (
        ", %d not 200" % r["non_200"] if r["non_200"] else "")
    row("replay: victim requests", count(quiet), count(attack))
    # A loop makes thousands of fast requests for each slow one: p99 hides a stall, this shows it.
    def slow(r):
        if r is None:
            return "n/a"
        over = [v for v in r["samples_ms"] + ([r["cut_ms"]] if r["cut_ms"] is not None else []) if v > 50]
        return "%d: %s of the %.1f s" % (len(over), ms(sum(over)), r["seconds"]) if over else "0"
    row("replay: victim requests over 50 ms", slow(quiet), slow(attack))
    if subs:
        state = "%d/%d complete in %s s" % (subs["complete"], subs["subscribers"], subs["seconds"])
        if subs["timed_out"]:
            state = "timeout (%s s): %d/%d complete" % (subs["timeout_s"], subs["complete"], subs["subscribers"])
        if subs["closed_by_server"] or subs["eof"]:
            state += ", %d closed early" % (subs["closed_by_server"] + subs["eof"])
        row("replay: %d subscribers x %s events of %s MB" % (subs["subscribers"], param.get("changes", "?"),
            param.get("value_mb", "?")), "-", state)

    watch = load("replay-rss.json")
    if watch:
        value = "> %d MB (killed)" % watch["cap_mb"] if watch["killed"] else "%.0f MB" % (watch["peak_kb"] / 1024)
        row("replay: daemon peak RSS during the replays", "-", value, "report only")

# --- rss ----------------------------------------------------------------------
peak, after = load("rss-peak.json"), load("rss-after.json")
if peak:
    quiet_kb = int(param.get("quiet_rss_kb", "0"))
    mb = lambda kb: "%.0f MB" % (kb / 1024)
    if peak["killed"]:
        value, ok = "> %d MB (killed after %s s)" % (peak["cap_mb"], peak["seconds"]), False
    elif peak["gone"] and not peak["peak_kb"]:
        value, ok = "daemon gone", False
    else:
        top = max(peak["peak_kb"], peak["hwm_kb"] or 0)
        value, ok = mb(top), top <= 300 * 1024
    row("rss: daemon peak RSS, %s never-reading subscribers" % param.get("stallers", "?"), mb(quiet_kb), value, "<= 300 MB", ok)
    stall = load("rss-stall.json")
    row("rss: subscribers that got their 101", "-", "%d/%s" % (stall["statuses"].get("101", 0), param.get("stallers", "?"))
        if stall else "n/a")
    if not peak["killed"] and peak["hwm_kb"]:
        row("rss: daemon VmHWM after the 20 s", "-", mb(peak["hwm_kb"]))
    if after and not after["gone"] and not after["killed"]:
        row("rss: daemon RSS 10 s after they left", mb(quiet_kb), mb(after["last_kb"]), "report only")
    elif after and after["killed"]:
        row("rss: daemon RSS 10 s after they left", mb(quiet_kb), "> %d MB (killed)" % after["cap_mb"], "report only")
    else:
        row("rss: daemon RSS 10 s after they left", mb(quiet_kb), "n/a (daemon killed)", "report only")

print()
print(title)
widths = [max(len(r[i]) for r in rows + [("figure", "quiet", "under attack", "target", "verdict")]) for i in range(5)]
for r in [("figure", "quiet", "under attack", "target", "verdict")] + rows:
    print("  ".join(cell.ljust(width) for cell, width in zip(r, widths)).rstrip())
