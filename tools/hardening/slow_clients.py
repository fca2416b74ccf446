#!/usr/bin/env python3
"""Slow and greedy clients of a guest API socket; stdlib only. Each mode prints one JSON
line when it is done. Run it as the process whose identity the mode needs (a registered
instance's descendant, or a stranger for unidentified connections).

usage:
  slow_clients.py slow-head SOCKET [SECONDS_PER_BYTE]
      Sends a request head one byte at a time; reports {"closed_after": s, "bytes_sent": n,
      "status": first status or null}. The daemon must close within its head deadline.
  slow_clients.py slow-body SOCKET
      Sends a whole head announcing a 100-byte body, then the body one byte per second;
      reports the same fields.
  slow_clients.py idle SOCKET
      Sends one request, reads the answer, then stays quiet; reports {"closed_after": s}.
  slow_clients.py hold SOCKET COUNT [--until FILE] [--request PATH]
      Opens COUNT connections one after the other and keeps them; reports {"opened": n,
      "refused": n, "first_refused": index or null, "served": n} where refused connections are
      those the daemon closed unasked, and served those of the others that answered a
      request for PATH (default /1.0) with 200. With --until, holds them (before asking
      anything) until FILE exists, printing {"holding": n} first.
  slow_clients.py pipeline SOCKET PATH COUNT [--rss-pid PID]
      Sends COUNT pipelined requests for PATH and never reads an answer; reports {"sent": n,
      "held": bool, "rss_kb": PID's VmRSS half a second after the last send, while the daemon still
      holds what it queued}. `held`: the daemon stopped reading (our sends blocked for a second).
  slow_clients.py probe SOCKET --until FILE [--expect TEXT]
      Asks GET /1.0 on a new connection after another until FILE exists; reports
      {"requests": n, "ok": n, "max_seconds": s, "median_seconds": s, "failures": {what: n}}, ok
      counting 200 answers (whose body holds TEXT, when given). Its connects block, as a patient
      client's do, so a full backlog shows as latency rather than EAGAIN.
"""
import json, os, resource, select, socket, sys, time

REQUEST = b"GET /1.0 HTTP/1.1\r\nHost: guest\r\n\r\n"


def emit(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def status_of(data):
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def trickle(path, head, body, seconds_per_byte, limit=30.0):
    """Sends `head` at once (if any) and then `body` byte by byte until the daemon closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    start, sent, received = time.monotonic(), 0, b""
    if head:
        s.sendall(head)
    for i in range(len(body)):
        try:
            s.send(body[i:i + 1])
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            break
        # Wait one step, watching for the daemon's close.
        poller = select.poll()
        poller.register(s, select.POLLIN)
        if poller.poll(seconds_per_byte * 1000):
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            received += chunk
            if not chunk:
                break
        if time.monotonic() - start > limit:
            break
    else:
        # Everything sent: wait for the close.
        s.settimeout(max(0.1, limit - (time.monotonic() - start)))
        try:
            while chunk := s.recv(65536):
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    elapsed = time.monotonic() - start
    s.close()
    return {"closed_after": round(elapsed, 2), "bytes_sent": sent, "status": status_of(received)}


def idle(path, limit=60.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(REQUEST)
    s.settimeout(limit)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    start = time.monotonic()
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        pass
    return {"status": status_of(data), "closed_after": round(time.monotonic() - start, 2)}


def is_closed(s):
    """The daemon closed it (EOF or reset) without being asked anything."""
    poller = select.poll()  # select() cannot watch descriptors above 1023
    poller.register(s, select.POLLIN)
    if not poller.poll(0):
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def hold(path, count, until=None, request_path="/1.0"):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sockets, failed_connects = [], 0
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            failed_connects += 1
            s.close()
            continue
        sockets.append(s)
    # Refusals come right after accept: wait until the daemon has caught up with the backlog
    # (no more closes for half a second).
    closes, settled_at = -1, time.monotonic() + 30
    while time.monotonic() < settled_at:
        time.sleep(0.5)
        now = sum(is_closed(s) for s in sockets)
        if now == closes:
            break
        closes = now
    if until:
        emit({"holding": len(sockets)})
        while not os.path.exists(until):
            time.sleep(0.05)
    closed = [is_closed(s) for s in sockets]
    served = 0
    request = b"GET " + request_path.encode() + b" HTTP/1.1\r\nHost: guest\r\n\r\n"
    for s, gone in zip(sockets, closed):
        if gone:
            continue
        s.settimeout(10)
        try:
            s.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            served += status_of(data) == 200
        except OSError:
            pass
    for s in sockets:
        s.close()
    return {"opened": len(sockets), "connect_failed": failed_connects, "refused": sum(closed),
            "first_refused": closed.index(True) if True in closed else None, "served": served}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def pipeline(path, request_path, count, rss_pid=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(1.0)
    request = b"GET " + request_path.encode() + b" HTTP/1.1\r\nHost: guest\r\n\r\n"
    sent, held = 0, False
    try:
        for _ in range(count):
            s.sendall(request)
            sent += 1
    except socket.timeout:
        held = True
    time.sleep(0.5)
    rss = rss_kb(rss_pid) if rss_pid else None
    s.close()
    return {"sent": sent, "held": held, "rss_kb": rss}


def probe(path, until, expect=None):
    times, ok, failures = [], 0, {}
    while not os.path.exists(until) or not times:
        start = time.monotonic()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        data = b""
        try:
            # A blocking connect waits its turn in a full backlog (one with a timeout is non-blocking
            # and would fail at once with EAGAIN): the probe measures how long a patient client waits.
            s.connect(path)
            s.settimeout(30)
            s.sendall(b"GET /1.0 HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n")
            while chunk := s.recv(65536):
                data += chunk
        except OSError as error:
            failures[str(error)] = failures.get(str(error), 0) + 1
        s.close()
        times.append(time.monotonic() - start)
        good = status_of(data) == 200 and (expect is None or expect.encode() in data)
        ok += good
        if not good:
            what = data[:40].decode("latin-1") or "closed without an answer"
            failures[what] = failures.get(what, 0) + 1
        time.sleep(0.01)
    times.sort()
    return {"requests": len(times), "ok": ok, "max_seconds": round(times[-1], 3),
            "median_seconds": round(times[len(times) // 2], 3), "failures": failures}


def main(argv):
    mode, path = argv[1], argv[2]
    if mode == "slow-head":
        per_byte = float(argv[3]) if len(argv) > 3 else 1.0
        emit(trickle(path, b"", REQUEST, per_byte))
    elif mode == "slow-body":
        head = b"PATCH /1.0 HTTP/1.1\r\nHost: guest\r\nContent-Length: 100\r\n\r\n"
        emit(trickle(path, head, b" " * 100, 1.0))
    elif mode == "idle":
        emit(idle(path))
    elif mode == "hold":
        count, until, request_path = int(argv[3]), None, "/1.0"
        rest = argv[4:]
        while rest:
            if rest[0] == "--until":
                until = rest[1]
            elif rest[0] == "--request":
                request_path = rest[1]
            rest = rest[2:]
        emit(hold(path, count, until, request_path))
    elif mode == "pipeline":
        options = dict(zip(argv[5::2], argv[6::2]))
        pid = int(options["--rss-pid"]) if "--rss-pid" in options else None
        emit(pipeline(path, argv[3], int(argv[4]), pid))
    elif mode == "probe":
        options = dict(zip(argv[3::2], argv[4::2]))
        emit(probe(path, options["--until"], options.get("--expect")))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
