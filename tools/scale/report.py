"""Prints tools/bench-scale.sh's table from the measurements it recorded.

Input: lines `KEY<TAB>VALUE`, one per run and measurement (keys below). Each figure
is the median of its runs, with min and max; a reference measured in the same run
(10 instances, nginx) is shown beside it, and relative targets are judged against
the reference's median.
"""
import statistics
import sys


def main():
    results_path, header = sys.argv[1], sys.argv[2]
    values, notes = {}, {}
    with open(results_path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            notes.setdefault(key, []).append(value)
            try:
                values.setdefault(key, []).append(float(value))
            except ValueError:
                pass

    def spread(key):
        v = values.get(key)
        if not v:
            return None
        return statistics.median(v), min(v), max(v), len(v)

    rows = []

    def row(scale, figure, key, unit, target, check, reference_key=None, reference_label="", digits=0):
        measured = spread(key)
        reference = spread(reference_key) if reference_key else None
        if measured is None:
            rows.append((scale, figure, "not run", "", "", "", target, "", "-"))
            return
        median, low, high, runs = measured
        fmt = "%%.%df" % digits
        ref_text = ""
        if reference:
            ref_text = "%s %s%s" % (reference_label, fmt % reference[0], unit)
        ok = check(median, reference[0] if reference else None) if check else None
        rows.append((scale, figure, fmt % median + unit, fmt % low, fmt % high, str(runs), target, ref_text,
                     "-" if ok is None else "yes" if ok else "NO"))

    def text_row(scale, figure, key, target, ok_value):
        got = notes.get(key, [])
        if not got:
            rows.append((scale, figure, "not run", "", "", "", target, "", "-"))
            return
        ok = all(g == ok_value for g in got)
        shown = got[0] if len(set(got)) == 1 else " / ".join(got)
        rows.append((scale, figure, shown, "", "", str(len(got)), target, "", "yes" if ok else "NO"))

    n = notes.get("instances", ["?"])[0]
    s1 = "%s instances" % n
    row(s1, "apply (%s keys each), wall" % notes.get("keys", ["?"])[0], "apply_s", " s", "< 30 s",
        lambda m, r: m < 30, digits=2)
    text_row(s1, "re-apply the same file", "reapply", "changes nothing", "changed nothing")
    row(s1, "re-apply, wall", "reapply_s", " s", "-", None, digits=2)
    row(s1, "identity resolution p99 (daemon-side)", "id_daemon_p99_us.big", " us", "<= 1000 us",
        lambda m, r: m <= 1000, "id_daemon_p99_us.small", "10 inst:", digits=1)
    row(s1, "identity resolution p50 (daemon-side)", "id_daemon_p50_us.big", " us", "-",
        None, "id_daemon_p50_us.small", "10 inst:", digits=1)
    row(s1, "  connect -> 1st response p99 (client)", "id_client_p99_us.big", " us", "(upper bound)",
        None, "id_client_p99_us.small", "10 inst:", digits=1)
    row(s1, "keep-alive GET req/s, 64 conns", "keepalive_rps.b", "", "-",
        None, "keepalive_rps.a", "10 inst:")
    row(s1, "  ratio to 10 instances, paired", "keepalive_rps.ratio", "", ">= 0.90", lambda m, r: m >= 0.9, digits=3)
    row(s1, "  requests per daemon CPU-second", "keepalive_rps.cpu_b", "", "-", None, "keepalive_rps.cpu_a", "10 inst:")
    row(s1, "  ratio of those, paired", "keepalive_rps.cpu_ratio", "", "-", None, digits=3)
    row(s1, "churn conn/s, 64 clients (1 req/conn)", "churn_cps.b", "", "-",
        None, "churn_cps.a", "nginx:")
    row(s1, "  ratio to nginx, paired", "churn_cps.ratio", "", ">= 0.50", lambda m, r: m >= 0.5, digits=3)
    row(s1, "  connections per server CPU-second", "churn_cps.cpu_b", "", "-", None, "churn_cps.cpu_a", "nginx:")

    s3 = "%s conns / %s inst" % (notes.get("hold_total", ["?"])[0], notes.get("hold_instances", ["?"])[0])
    row(s3, "connections served (open + answered)", "hold_served", "", "all (%s)" % notes.get("hold_total", ["?"])[0],
        lambda m, r: spread("hold_served")[1] >= float(notes.get("hold_total", ["0"])[0]))
    row(s3, "daemon RSS, all held", "hold_rss_mb", " MB", "<= 200 MB", lambda m, r: m <= 200, digits=1)
    row(s3, "bytes per connection (RSS delta)", "hold_bytes_per_conn", " B", "-", None)
    row(s3, "time to open all", "hold_open_s", " s", "-", None, digits=2)

    s4 = "journal %s entries" % notes.get("journal_entries", ["?"])[0]
    row(s4, "journal --instance X --limit 100, wall", "journal_limit_ms", " ms", "<= 100 ms", lambda m, r: m <= 100, digits=1)
    row(s4, "replay of %s events, one WebSocket" % notes.get("replay_events", ["?"])[0], "replay_eps", " ev/s",
        ">= 100000 ev/s", lambda m, r: m >= 100000)
    row(s4, "prune %s while serving: failed req" % notes.get("pruned", ["?"])[0], "prune_errors", "", "0", lambda m, r: spread("prune_errors")[2] == 0)
    row(s4, "  requests served during the prune", "prune_requests", "", "-", None)
    row(s4, "  prune wall", "prune_s", " s", "-", None, digits=2)

    print()
    print(header)
    for key in ("fd_limit", "load"):
        for note in dict.fromkeys(notes.get(key, [])):
            print(note)
    columns = ("scale", "figure", "median", "min", "max", "runs", "target", "reference (same run)", "met")
    widths = [max(len(str(r[i])) for r in rows + [columns]) for i in range(len(columns))]
    line = "  ".join("%%-%ds" % w for w in widths)
    print(line % columns)
    print(line % tuple("-" * w for w in widths))
    for r in rows:
        print(line % r)


if __name__ == "__main__":
    sys.exit(main())
