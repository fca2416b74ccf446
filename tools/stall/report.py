#!/usr/bin/python3
"""Prints tools/bench-stall.sh's tables from the JSON its clients wrote into DIR/LABEL.

usage: report.py DIR TITLE [name=value]... [LABEL=BIN_DIR]...

For each build (label), a table of every part, quiet beside under attack; then, with two
builds, one table of the targets, the builds side by side. A figure a client could not
finish within its budget is a lower bound, shown "> X".
"""
import json
import math
import os
import sys

root, title = sys.argv[1], sys.argv[2]
param, builds = {}, []
for arg in sys.argv[3:]:
    name, value = arg.split("=", 1)
    if name in ("baseline", "now"):
        builds.append((name, value))
    else:
        param[name] = value


def load(label, name):
    path = os.path.join(root, label, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        lines = f.read().splitlines()
    return json.loads(lines[-1]) if lines else None


def number(label, name):
    path = os.path.join(root, label, name)
    return int(open(path).read()) if os.path.exists(path) else 0


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


def within(quiet, attack, slack):
    """Whether attack p99 is at most quiet p99 + slack ms (a cut or timed-out one is not)."""
    q99, a99 = percentile(quiet, 99), percentile(attack, 99)
    return None if q99[0] is None or a99[0] is None else (not a99[1] and a99[0] <= q99[0] + slack)


def mb(kb):
    return "%.0f MB" % (kb / 1024)


def peak_of(watch):
    """(shown, kB or None): a watched daemon's peak RSS, VmHWM included."""
    if watch is None:
        return "n/a", None
    if watch["killed"]:
        return "> %d MB (killed after %s s)" % (watch["cap_mb"], watch["seconds"]), None
    if watch["gone"] and not watch["peak_kb"]:
        return "daemon gone", None
    top = max(watch["peak_kb"], watch["hwm_kb"] or 0)
    return mb(top), top


def churn_done(r):  # a victim answered anything but 200 was not served as itself
    if r is None:
        return "n/a"
    other = sum(n for status, n in r["statuses"].items() if status != "200") + r["errors"]
    return "%d/%d in %s s%s" % (r["done"], r["planned"], r["budget_s"] if r["cut_ms"] is not None else "<=%g" % r["budget_s"],
                                 ", %d not 200" % other if other else "")


def requests(r):
    return "n/a" if r is None else "%d requests%s%s%s" % (
        r["done"], " + 1 cut" if r["cut_ms"] is not None else "",
        ", %d reconnects" % r["reconnects"] if r["reconnects"] else "", ", %d not 200" % r["non_200"] if r["non_200"] else "")


def detail(label):
    """Every part's rows for one build: (figure, quiet, under attack, target, verdict)."""
    rows = []

    def row(figure, quiet, attack, target="-", ok=None):
        rows.append((figure, quiet, attack, target, "-" if target in ("-", "report only") else verdict(ok)))

    for run in range(1, int(param.get("deep_runs", "1")) + 1):
        quiet, attack = load(label, "deep%d-quiet.json" % run), load(label, "deep%d-attack.json" % run)
        if not (quiet or attack):
            continue
        row("deep %d: victim connect->first byte p50" % run, shown(percentile(quiet, 50)), shown(percentile(attack, 50)))
        row("deep %d: victim connect->first byte p99" % run, shown(percentile(quiet, 99)), shown(percentile(attack, 99)),
            "<= quiet + 5 ms", within(quiet, attack, 5))
        row("deep %d: victim connect->first byte max" % run, shown(slowest(quiet)), shown(slowest(attack)))
        row("deep %d: victim connections done" % run, churn_done(quiet), churn_done(attack))
        ready, attacker = load(label, "deep%d-ready.json" % run), load(label, "deep%d-attacker.jsonl" % run)
        depth = ready["depth"] if ready else param.get("depth", "?")
        row("deep %d: attacker, %s ancestors, %s conns/round" % (run, depth, param.get("conns", "?")), "-",
            "rounds: %d, the last %s s" % (attacker["round"], attacker["seconds"]) if attacker else "no round finished")

    quiet, attack, subs = load(label, "replay-quiet.json"), load(label, "replay-attack.json"), load(label, "replay-subs.json")
    if quiet or attack:
        row("replay: victim GET /1.0 p50", shown(percentile(quiet, 50)), shown(percentile(attack, 50)))
        a99 = percentile(attack, 99)
        row("replay: victim GET /1.0 p99", shown(percentile(quiet, 99)), shown(a99), "<= 50 ms",
            None if a99[0] is None else (not a99[1] and a99[0] <= 50))
        row("replay: victim GET /1.0 max", shown(slowest(quiet)), shown(slowest(attack)))
        row("replay: victim requests", requests(quiet), requests(attack))
        if subs:
            state = "%d/%d complete in %s s" % (subs["complete"], subs["subscribers"], subs["seconds"])
            if subs["timed_out"]:
                state = "timeout (%s s): %d/%d complete" % (subs["timeout_s"], subs["complete"], subs["subscribers"])
            if subs["closed_by_server"] or subs["eof"]:
                state += ", %d closed early" % (subs["closed_by_server"] + subs["eof"])
            row("replay: %d subscribers x %s events of %s MB" % (subs["subscribers"], param.get("changes", "?"),
                param.get("value_mb", "?")), "-", state)
        row("replay: daemon peak RSS during the replays", "-", peak_of(load(label, "replay-rss.json"))[0], "report only")

    peak = load(label, "rss-peak.json")
    if peak:
        value, top = peak_of(peak)
        row("rss: daemon peak RSS, %s never-reading subscribers" % param.get("stallers", "?"),
            mb(number(label, "rss-quiet-kb")), value, "<= 300 MB", top is not None and top <= 300 * 1024)
        after = load(label, "rss-after.json")
        row("rss: daemon RSS 10 s after they left", "-", mb(after["last_kb"]) if after and not after["gone"] else "n/a", "report only")

    quiet, attack, reads = load(label, "big-quiet.json"), load(label, "big-attack.json"), load(label, "big-reads.json")
    if quiet or attack:
        row("big: victim GET /1.0 p50", shown(percentile(quiet, 50)), shown(percentile(attack, 50)))
        row("big: victim GET /1.0 p99", shown(percentile(quiet, 99)), shown(percentile(attack, 99)), "<= quiet + 5 ms",
            within(quiet, attack, 5))
        row("big: victim GET /1.0 max", shown(slowest(quiet)), shown(slowest(attack)))
        row("big: victim requests", requests(quiet), requests(attack))
        row("big: 8 MiB reads on 2 connections", "-",
            "%d in %s s, %d errors" % (reads["answers"], reads["seconds"], reads["errors"]) if reads else "n/a")

    alone, beside = load(label, "lookup-victim.json"), load(label, "lookup-bigreader.json")
    if alone or beside:
        for p in (50, 99):
            a, b = percentile(alone, p), percentile(beside, p)
            ok = None if a[0] is None or b[0] is None else b[0] <= a[0] + 0.1
            row("lookup: small key p%d, alone / beside an 8 MiB value" % p, shown(a), shown(b), "<= alone + 0.1 ms", ok)

    peak = load(label, "hold-peak.json")
    if peak:
        value, top = peak_of(peak)
        held = load(label, "hold-held.json")
        row("hold: daemon peak RSS, %s connections never reading 8 MiB" % param.get("holders", "?"),
            mb(number(label, "hold-quiet-kb")), value, "<= 300 MB", top is not None and top <= 300 * 1024)
        row("hold: connections held", "-", "%d (%d failed)" % (held["held"], held["errors"]) if held else "n/a")

    for part, who in (("flood", "user nobody, one process"), ("floodin", "a process of an instance")):
        quiet, attack, flood = load(label, part + "-quiet.json"), load(label, part + "-attack.json"), load(label, part + "-flood.json")
        if not (quiet or attack):
            continue
        row("%s: victim connect->first byte p50" % part, shown(percentile(quiet, 50)), shown(percentile(attack, 50)))
        row("%s: victim connect->first byte p99" % part, shown(percentile(quiet, 99)), shown(percentile(attack, 99)),
            "<= quiet + 5 ms", within(quiet, attack, 5))
        row("%s: victim connections done" % part, churn_done(quiet), churn_done(attack))
        row("%s: flood by %s" % (part, who), "-", "%s connections/s (%s answered, %s failed)" % (
            flood["per_second"], flood["answered"], flood["failed"]) if flood else "n/a")
    return rows


def table(header, rows):
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(r, widths)).rstrip())


print()
print(title)
for label, bin_dir in builds:
    print()
    print("%s: %s" % (label, bin_dir))
    table(("figure", "quiet", "under attack", "target", "verdict"), detail(label))


def summary(label):
    """The targets of issue 20, one value a build: {figure: (shown, ok)}."""
    out = {}
    runs = []
    for run in range(1, int(param.get("deep_runs", "1")) + 1):
        quiet, attack = load(label, "deep%d-quiet.json" % run), load(label, "deep%d-attack.json" % run)
        if quiet or attack:
            runs.append(("%s / quiet %s" % (shown(percentile(attack, 99)), shown(percentile(quiet, 99))), within(quiet, attack, 5)))
    if runs:
        oks = [ok for _, ok in runs]
        out["deep: victim connect p99 beside a 4,000-deep caller (every run)"] = (
            "; ".join(text for text, _ in runs), None if None in oks else all(oks))
    quiet, attack = load(label, "big-quiet.json"), load(label, "big-attack.json")
    if quiet or attack:
        out["big: victim keep-alive p99 while 8 MiB is read on 2 connections"] = (
            "%s / quiet %s" % (shown(percentile(attack, 99)), shown(percentile(quiet, 99))), within(quiet, attack, 5))
    alone, beside = load(label, "lookup-victim.json"), load(label, "lookup-bigreader.json")
    if alone or beside:
        a, b = percentile(alone, 99), percentile(beside, 99)
        out["lookup: small-key p99 beside an 8 MiB value"] = (
            "%s / alone %s" % (shown(b), shown(a)), None if a[0] is None or b[0] is None else b[0] <= a[0] + 0.1)
    peak = load(label, "hold-peak.json")
    if peak:
        value, top = peak_of(peak)
        out["hold: daemon peak RSS, 250 connections never reading 8 MiB"] = (value, top is not None and top <= 300 * 1024)
    for part, what in (("flood", "nobody floods connections from one process"), ("floodin", "a guest floods from inside an instance")):
        quiet, attack = load(label, part + "-quiet.json"), load(label, part + "-attack.json")
        if quiet or attack:
            out["%s: victim connect p99 while %s" % (part, what)] = (
                "%s / quiet %s" % (shown(percentile(attack, 99)), shown(percentile(quiet, 99))), within(quiet, attack, 5))
    peak = load(label, "rss-peak.json")
    if peak:
        value, top = peak_of(peak)
        out["rss: daemon peak RSS, 60 never-reading replays"] = (value, top is not None and top <= 300 * 1024)
    return out


if len(builds) == 2:
    before, after = summary(builds[0][0]), summary(builds[1][0])
    targets = {"deep": "<= quiet + 5 ms", "big": "<= quiet + 5 ms", "hold": "<= 300 MB", "flood": "<= quiet + 5 ms",
               "floodin": "<= quiet + 5 ms", "rss": "<= 300 MB", "lookup": "<= alone + 0.1 ms"}
    rows = []
    for figure in after:
        b, a = before.get(figure, ("n/a", None)), after[figure]
        rows.append((figure, b[0], a[0], targets[figure.split(":")[0]], verdict(a[1])))
    print()
    print("baseline against now (p99 under attack / quiet p99)")
    table(("figure", "baseline", "now", "target", "now's verdict"), rows)
