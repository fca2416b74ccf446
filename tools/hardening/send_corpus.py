#!/usr/bin/env python3
"""Sends the malformed-HTTP corpus to a guest API socket, one connection per case, and
judges each answer. Run it as a registered instance's process (its descendant), so that
the daemon knows who is calling; stdlib only.

usage: send_corpus.py SOCKET CORPUS.jsonl [--forbid TEXT]... [--parallel N] [--timeout SECONDS]

Prints one JSON line per case, in corpus order:
  {"name", "statuses": [..], "closed": bool, "timed_out": bool, "leaked": [TEXT..], "ok": bool, "why": str}
then a summary line: {"summary": {"cases", "ok", "4xx", "closes", "failures": [names]}}.

A case passes when the daemon
  - answers its `good` requests with 2xx,
  - then answers every other request with a 4xx (never 2xx/3xx/5xx),
  - for "malformed" cases also closes the connection (with or without a 4xx first),
    for "refused" cases answers a 4xx or closes,
  - and no --forbid text (another instance's secret) appears in anything it sent.
Exit status 0 when every case passes.
"""
import concurrent.futures, json, os, socket, sys, time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_corpus  # noqa: E402


class Responses:
    """HTTP/1.1 responses parsed from the bytes received so far."""

    def __init__(self):
        self.data = b""
        self.statuses = []
        self.offset = 0

    def feed(self, chunk):
        self.data += chunk
        while self._parse_one():
            pass

    def _parse_one(self):
        end = self.data.find(b"\r\n\r\n", self.offset)
        if end < 0:
            return False
        head = self.data[self.offset:end].split(b"\r\n")
        parts = head[0].split(b" ")
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        body_start = end + 4
        if b"content-length" in headers:
            body_end = body_start + int(headers[b"content-length"])
            if len(self.data) < body_end:
                return False
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            return False  # a stream (events): counted once its head is here
        else:
            body_end = body_start
        self.statuses.append(status)
        self.offset = body_end
        return True

    def pending_stream(self):
        """A chunked response whose head came: it counts as an answer."""
        end = self.data.find(b"\r\n\r\n", self.offset)
        return end >= 0 and b"chunked" in self.data[self.offset:end].lower()


def run_case(path, case, forbid, timeout):
    responses = Responses()
    closed = timed_out = False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        s.connect(path)
        try:
            s.sendall(case["bytes"])
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the daemon closed while we were still sending: read what it said
        wanted = case["good"] + 1
        while True:
            if case["expect"] == "refused" and len(responses.statuses) >= wanted:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            s.settimeout(remaining)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                timed_out = True
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            responses.feed(chunk)
    finally:
        s.close()
    statuses = list(responses.statuses)
    if responses.pending_stream():
        statuses.append(200)
    leaked = [text for text in forbid if text.encode() in responses.data]
    ok, why = judge(case, statuses, closed, leaked)
    return {"name": case["name"], "statuses": statuses, "closed": closed, "timed_out": timed_out and not closed,
            "leaked": leaked, "ok": ok, "why": why}


def judge(case, statuses, closed, leaked):
    if leaked:
        return False, "leaked " + ", ".join(leaked)
    good, rest = statuses[:case["good"]], statuses[case["good"]:]
    if len(good) < case["good"] or any(not 200 <= s < 300 for s in good):
        return False, "the good requests were not answered 2xx"
    bad = [s for s in rest if not 400 <= s < 500]
    if bad:
        return False, "answered %s" % bad
    if case["expect"] == "malformed" and not closed:
        return False, "connection left open"
    if case["expect"] == "refused" and not rest and not closed:
        return False, "neither a 4xx nor a close"
    return True, ""


def main(argv):
    args = argv[1:]
    path, corpus = args[0], args[1]
    forbid, parallel, timeout = [], 16, 6.0
    i = 2
    while i < len(args):
        if args[i] == "--forbid":
            forbid.append(args[i + 1])
        elif args[i] == "--parallel":
            parallel = int(args[i + 1])
        elif args[i] == "--timeout":
            timeout = float(args[i + 1])
        i += 2
    with open(corpus) as f:
        cases = [http_corpus.decode(line) for line in f if line.strip()]
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(lambda c: run_case(path, c, forbid, timeout), cases))
    for result in results:
        print(json.dumps(result))
    summary = {
        "cases": len(results),
        "ok": sum(r["ok"] for r in results),
        "4xx": sum(any(400 <= s < 500 for s in r["statuses"]) for r in results),
        "closes": sum(r["closed"] for r in results),
        "failures": [r["name"] for r in results if not r["ok"]],
    }
    print(json.dumps({"summary": summary}))
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
