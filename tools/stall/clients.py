#!/usr/bin/python3
"""Guest-socket clients for tools/bench-stall.sh, one per subcommand. Each prints one
JSON object on stdout (attack: one per round) and is bounded in time, so that a daemon
that stalls for minutes makes a figure "> N s", never a hung benchmark.

  attack     loops: N connections at once, GET /1.0 on each, read every answer, close
  churn      M new connections one after another, each timed connect -> first byte
  keepalive  GET /1.0 on one keep-alive connection in a loop, each request timed
  replay     N WebSocket subscribers of /1.0/events?since=0 reading every event
  stall      N WebSocket subscribers of /1.0/events?since=0 that never read
  read       N keep-alive connections each reading PATH (a large value) again and again
  lookups    PATH?n=I for I in 1..N on one keep-alive connection (each target new: never a kept answer), each timed
  hold       N connections that ask for PATH and never read the answer
  rss        samples a process's VmRSS, kills it past a cap (a machine has no GBs to spare)

Who the daemon thinks a client is depends only on its ancestry: the shell script runs
these as descendants of a registered init (or, for attack, of nothing registered).
"""
import argparse
import json
import os
import selectors
import signal
import socket
import sys
import time

GET = b"GET /1.0 HTTP/1.1\r\nHost: x\r\n\r\n"
UPGRADE = (b"GET /1.0/events?since=0 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
           b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


class Deadline(Exception):
    pass


def _alarm(signum, frame):
    raise Deadline()


signal.signal(signal.SIGALRM, _alarm)


def arm(seconds):
    """Blocking calls (connect included: a Unix connect can wait on a full backlog) are
    cut by SIGALRM rather than by socket timeouts."""
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def disarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def emit(obj):
    print(json.dumps(obj), flush=True)


def read_response(sock, first_byte=None):
    """Reads one HTTP response (Content-Length framed, or until EOF without one).
    Returns the status; calls first_byte() when its first byte arrives."""
    data = sock.recv(65536)
    if first_byte:
        first_byte()
    if not data:
        raise ConnectionError("closed before an answer")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside a head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            if length is None:
                break
            raise ConnectionError("closed inside a body")
        body += chunk
    return int(head.split(b" ", 2)[1])


def depth():
    """How many ancestors this process has, up to pid 1."""
    pid, count = os.getpid(), 0
    while pid > 1:
        with open("/proc/%d/stat" % pid) as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        count += 1
    return count


def attack(args):
    ready = False
    for round_number in range(1, 1 << 30):
        started = time.monotonic()
        answered, failed, seen, sel = 0, 0, set(), None
        socks = []
        arm(args.round_timeout)
        try:
            for _ in range(args.conns):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(args.socket)
                except OSError:
                    s.close()
                    failed += 1
                    continue
                socks.append(s)
            for s in socks:
                try:
                    s.sendall(GET)
                except OSError:
                    failed += 1
            if not ready:
                with open(args.ready, "w") as f:
                    json.dump({"depth": depth()}, f)
                ready = True
            # Every answer at once: the daemon answers in whatever order it resolves.
            sel = selectors.DefaultSelector()
            for s in socks:
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ)
            open_socks = len(socks)
            while open_socks:
                for key, _ in sel.select():
                    try:
                        chunk = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    if chunk and key.fd not in seen:
                        seen.add(key.fd)
                        answered += 1
                    if not chunk:  # unidentified callers are closed after their answer
                        sel.unregister(key.fileobj)
                        open_socks -= 1
            disarm()
        except Deadline:
            pass
        if sel:
            sel.close()
        for s in socks:
            s.close()
        if not socks:
            time.sleep(0.1)  # the daemon is gone: no busy loop
        emit({"round": round_number, "conns": len(socks), "answered": answered,
              "failed": failed, "seconds": round(time.monotonic() - started, 3)})


def churn(args):
    """Connect-to-first-byte of one new connection at a time, within --budget seconds."""
    end = time.monotonic() + args.budget
    samples, cut, statuses, errors = [], None, {}, 0
    for _ in range(args.count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        started = time.perf_counter()
        first = []
        arm(end - time.monotonic())
        try:
            s.connect(args.socket)
            s.sendall(GET)
            status = read_response(s, lambda: first.append(time.perf_counter()))
            disarm()
            samples.append((first[0] - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
        except (ConnectionError, OSError):
            disarm()
            errors += 1
        except Deadline:
            # The connection in flight when the budget ran out took at least this long.
            cut = ((first[0] if first else time.perf_counter()) - started) * 1000
            break
        finally:
            s.close()
    emit({"planned": args.count, "done": len(samples), "samples_ms": samples,
          "cut_ms": cut, "budget_s": args.budget, "statuses": statuses,
          "errors": errors})


def keepalive(args):
    """Requests on one connection until --stop appears (or --seconds pass); a request in
    flight at --budget is recorded as cut."""
    started_all = time.monotonic()
    end = started_all + args.budget
    samples, cut, reconnects, errors = [], None, 0, 0
    s = started = None
    arm(end - time.monotonic())
    try:
        while not (args.stop and os.path.exists(args.stop)) and \
                not (args.seconds and time.monotonic() - started_all >= args.seconds):
            # A request that needs a new connection (the daemon closed the last) counts its connect.
            started = time.perf_counter()
            try:
                if s is None:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(args.socket)
                s.sendall(GET)
                status = read_response(s)
            except (ConnectionError, OSError):
                s.close()
                s, reconnects = None, reconnects + 1
                time.sleep(0.01)
                continue
            samples.append((time.perf_counter() - started) * 1000)
            started = None
            errors += status != 200
        disarm()
    except Deadline:
        cut = (time.perf_counter() - started) * 1000 if started is not None else None
    emit({"done": len(samples), "samples_ms": samples, "cut_ms": cut, "budget_s": args.budget,
          "reconnects": reconnects, "non_200": errors,
          "seconds": round(time.monotonic() - started_all, 3)})


def subscribe(path):
    """One WebSocket subscriber; returns (socket, status of the upgrade answer). Reads
    the head a byte at a time so that nothing after it is taken off the socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(UPGRADE)
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = s.recv(1)
        if not byte:
            raise ConnectionError("closed before the upgrade answer")
        head += byte
    return s, int(head.split(b" ", 2)[1])


class Frames:
    """Counts a server's WebSocket messages without keeping their payloads (events here
    are megabytes); answers pings with a masked pong."""

    def __init__(self, sock):
        self.sock, self.buf, self.skip, self.skip_fin = sock, bytearray(), 0, False
        self.messages, self.closed = 0, False

    def feed(self, chunk):
        if self.skip:
            take = min(self.skip, len(chunk))
            self.skip -= take
            chunk = chunk[take:]
            if self.skip == 0 and self.skip_fin:
                self.messages += 1
        self.buf += chunk
        buf = self.buf
        while len(buf) >= 2 and not self.skip:
            fin, opcode, length, header = buf[0] & 0x80, buf[0] & 0x0F, buf[1] & 0x7F, 2
            if length == 126:
                header = 4
            elif length == 127:
                header = 10
            if len(buf) < header:
                break
            if header > 2:
                length = int.from_bytes(buf[2:header], "big")
            if opcode >= 8:  # control frames are small: wait for them whole
                if len(buf) < header + length:
                    break
                payload = bytes(buf[header:header + length])
                del buf[:header + length]
                if opcode == 9:
                    self.sock.sendall(bytes([0x8A, 0x80 | len(payload), 0, 0, 0, 0]) + payload)
                elif opcode == 8:
                    self.closed = True
                continue
            available = len(buf) - header
            if available >= length:
                del buf[:header + length]
                self.messages += bool(fin)
            else:
                self.skip, self.skip_fin = length - available, bool(fin)
                del buf[:]


def replay(args):
    started = time.monotonic()
    arm(args.timeout)
    subscribers, statuses, done, early, eof = [], {}, 0, 0, 0
    try:
        for _ in range(args.count):
            try:
                s, status = subscribe(args.socket)
            except (ConnectionError, OSError):
                statuses["error"] = statuses.get("error", 0) + 1
                continue
            statuses[status] = statuses.get(status, 0) + 1
            if status == 101:
                subscribers.append(Frames(s))
            else:
                s.close()
        sel = selectors.DefaultSelector()
        for frames in subscribers:
            frames.sock.setblocking(False)
            sel.register(frames.sock, selectors.EVENT_READ, frames)
        view = memoryview(bytearray(1 << 20))
        while sel.get_map():
            for key, _ in sel.select():
                frames = key.data
                try:
                    n = key.fileobj.recv_into(view)
                except BlockingIOError:
                    continue
                except OSError:
                    n = 0
                if n:
                    frames.feed(view[:n])
                finished = frames.messages >= args.expect
                if finished or frames.closed or not n:
                    done += finished
                    early += frames.closed and not finished
                    eof += not n and not finished
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
        disarm()
        timed_out = False
    except Deadline:
        timed_out = True
    emit({"subscribers": args.count, "statuses": statuses, "complete": done,
          "closed_by_server": early, "eof": eof, "timed_out": timed_out,
          "events": sum(f.messages for f in subscribers),
          "seconds": round(time.monotonic() - started, 3), "timeout_s": args.timeout})


def stall(args):
    held, statuses = [], {}
    arm(args.timeout)
    try:
        for _ in range(args.count):
            if os.path.exists(args.release):
                break
            try:
                s, status = subscribe(args.socket)
            except (ConnectionError, OSError):
                statuses["error"] = statuses.get("error", 0) + 1
                continue
            statuses[status] = statuses.get(status, 0) + 1
            held.append(s)
        while not os.path.exists(args.release):
            time.sleep(0.05)
        disarm()
    except Deadline:
        pass
    for s in held:
        s.close()
    emit({"subscribers": len(held), "statuses": statuses})


def read(args):
    """--conns connections, each asking for --path and reading the whole answer, again and
    again until --stop appears; non-blocking, in one process."""
    request = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % args.path.encode()
    started = time.monotonic()
    sel = selectors.DefaultSelector()
    answers, bytes_read, errors = 0, 0, 0
    view = memoryview(bytearray(1 << 20))

    def start(state):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(args.socket)
        s.sendall(request)
        s.setblocking(False)
        state.update(sock=s, head=b"", left=None)
        sel.register(s, selectors.EVENT_READ, state)

    for _ in range(args.conns):
        start({})
    while not os.path.exists(args.stop) and time.monotonic() - started < args.budget:
        for key, _ in sel.select(0.1):
            state = key.data
            try:
                n = state["sock"].recv_into(view)
            except BlockingIOError:
                continue
            except OSError:
                n = 0
            if not n:
                sel.unregister(state["sock"])
                state["sock"].close()
                errors += 1
                start(state)
                continue
            bytes_read += n
            chunk = view[:n]
            if state["left"] is None:
                state["head"] += bytes(chunk)
                if b"\r\n\r\n" not in state["head"]:
                    continue
                head, body = state["head"].split(b"\r\n\r\n", 1)
                length = [int(v) for k, _, v in (l.partition(b":") for l in head.split(b"\r\n")[1:])
                          if k.strip().lower() == b"content-length"][0]
                state["left"] = length - len(body)
            else:
                state["left"] -= n
            if state["left"] <= 0:
                answers += 1
                state.update(head=b"", left=None)
                state["sock"].sendall(request)
    emit({"answers": answers, "bytes": bytes_read, "errors": errors, "seconds": round(time.monotonic() - started, 3)})


def lookups(args):
    """--count requests of --path, each with a query string of its own, so that the daemon
    looks the key up every time rather than answering from what it kept."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    samples, statuses = [], {}
    for i in range(args.count):
        started = time.perf_counter()
        s.sendall(b"GET %s?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % (args.path.encode(), i))
        status = read_response(s)
        samples.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    s.close()
    emit({"done": len(samples), "samples_ms": samples, "cut_ms": None, "budget_s": 0, "reconnects": 0,
          "non_200": sum(n for st, n in statuses.items() if st != 200), "seconds": round(sum(samples) / 1000, 3)})


def hold(args):
    """--count connections that each send a request for --path and never read, until --release."""
    request = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % args.path.encode()
    held, errors = [], 0
    arm(args.timeout)
    try:
        for _ in range(args.count):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(args.socket)
                s.sendall(request)
                held.append(s)
            except OSError:
                errors += 1
        while not os.path.exists(args.release):
            time.sleep(0.05)
        disarm()
    except Deadline:
        pass
    for s in held:
        s.close()
    emit({"held": len(held), "errors": errors})


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise ProcessLookupError(pid)


def rss(args):
    peak, last, killed, gone = 0, 0, False, False
    started = time.monotonic()
    end = started + args.seconds
    while True:
        try:
            last = status_kb(args.pid, "VmRSS")
        except (OSError, ProcessLookupError):
            gone = True
            break
        peak = max(peak, last)
        if last > args.cap_mb * 1024:
            os.kill(args.pid, signal.SIGKILL)
            killed = True
            break
        if time.monotonic() >= end or (args.stop and os.path.exists(args.stop)):
            break
        time.sleep(args.interval)
    hwm = None
    if not gone and not killed:
        hwm = status_kb(args.pid, "VmHWM")
    emit({"peak_kb": peak, "last_kb": last, "hwm_kb": hwm, "killed": killed, "gone": gone,
          "cap_mb": args.cap_mb, "seconds": round(time.monotonic() - started, 1)})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("attack")
    a.add_argument("--conns", type=int, default=300)
    a.add_argument("--ready", required=True)
    a.add_argument("--round-timeout", type=float, default=120)
    c = sub.add_parser("churn")
    c.add_argument("--count", type=int, default=300)
    c.add_argument("--budget", type=float, default=60)
    k = sub.add_parser("keepalive")
    k.add_argument("--stop")
    k.add_argument("--seconds", type=float)
    k.add_argument("--budget", type=float, default=60)
    r = sub.add_parser("replay")
    r.add_argument("--count", type=int, default=30)
    r.add_argument("--expect", type=int, required=True)
    r.add_argument("--timeout", type=float, default=120)
    s = sub.add_parser("stall")
    s.add_argument("--count", type=int, default=60)
    s.add_argument("--release", required=True)
    s.add_argument("--timeout", type=float, default=120)
    rd = sub.add_parser("read")
    rd.add_argument("--path", required=True)
    rd.add_argument("--conns", type=int, default=2)
    rd.add_argument("--stop", required=True)
    rd.add_argument("--budget", type=float, default=120)
    lk = sub.add_parser("lookups")
    lk.add_argument("--path", required=True)
    lk.add_argument("--count", type=int, default=2000)
    h = sub.add_parser("hold")
    h.add_argument("--path", required=True)
    h.add_argument("--count", type=int, default=250)
    h.add_argument("--release", required=True)
    h.add_argument("--timeout", type=float, default=120)
    m = sub.add_parser("rss")
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--seconds", type=float, required=True)
    m.add_argument("--interval", type=float, default=0.1)
    m.add_argument("--cap-mb", type=int, default=4096)
    m.add_argument("--stop")
    for q in (a, c, k, r, s, rd, lk, h):
        q.add_argument("--socket", required=True)
    args = p.parse_args()
    globals()[args.command](args)


if __name__ == "__main__":
    main()
