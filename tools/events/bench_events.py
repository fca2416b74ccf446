#!/usr/bin/python3
"""Event delivery benchmark client for guestapid (run by tools/bench-events.sh).

Must run as a descendant of the instance's registered init pid, so that the daemon
knows whose events each connection wants. Needs Debian's websocket-client
(python3-websocket): its handshake and its low-level frame API (recv_frame), driven
by one epoll loop, so that one process holds 1,000 WebSocket connections.

Two figures, one clock (CLOCK_REALTIME, which the daemon also uses for event
timestamps):
  latency  `guestapi-admin set user.k vN` run one at a time; for each, the time from
           the command's exit to the event's arrival at one subscriber.
  fan-out  N subscribers of one instance, one change per round; for each subscriber
           the time from the commit to the event's arrival. The commit's time is the
           journal entry's timestamp, which the event carries; it is taken inside the
           transaction, so the figure includes the COMMIT itself (its fsync).

Prints one JSON object per figure on stdout; the shell script makes the table.
"""
import argparse
import datetime
import json
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time

import websocket

OPCODE_TEXT = websocket.ABNF.OPCODE_TEXT
OPCODE_PING = websocket.ABNF.OPCODE_PING
OPCODE_CLOSE = websocket.ABNF.OPCODE_CLOSE


def connect(path, resource_path="/1.0/events"):
    """One WebSocket subscriber over the daemon's Unix socket."""
    unix = socket.socket(socket.AF_UNIX)
    unix.connect(path)
    ws = websocket.WebSocket(skip_utf8_validation=True)
    ws.connect("ws://localhost" + resource_path, socket=unix)
    return ws


def event_time_ns(message):
    """The event's RFC 3339 timestamp (nanoseconds, UTC) in ns since the epoch."""
    stamp = json.loads(message)["timestamp"]
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    return int(seconds) * 1_000_000_000 + int((fraction + "000000000")[:9])


def percentiles(samples_ns):
    ordered = sorted(samples_ns)
    def rank(p):  # nearest rank
        return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))]
    ms = lambda ns: round(ns / 1e6, 3)
    return {"count": len(ordered), "p50_ms": ms(rank(50)), "p99_ms": ms(rank(99)), "max_ms": ms(ordered[-1])}


def admin_set(args, key, value):
    command = [args.admin, "set", key, value, "--instance", args.instance, "--state-dir", args.state_dir]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.time_ns()


def latency(args):
    ws = connect(args.socket)
    arrivals = []  # (arrival ns, message)
    def receive():
        while len(arrivals) < args.sets:
            frame = ws.recv_frame()
            now = time.time_ns()
            if frame.opcode == OPCODE_TEXT:
                arrivals.append((now, frame.data.decode()))
            elif frame.opcode == OPCODE_PING:
                ws.pong(frame.data)
            elif frame.opcode == OPCODE_CLOSE:
                return
    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    exits = []
    for i in range(1, args.sets + 1):
        exits.append(admin_set(args, "user.k", "v%d" % i))
        # One at a time: the next command starts once this event has come (or 1 s passed).
        deadline = time.monotonic() + 1
        while len(arrivals) < i and time.monotonic() < deadline:
            time.sleep(0.0002)
    receiver.join(timeout=2)
    ws.close()
    if len(arrivals) != args.sets:
        sys.exit("latency: %d of %d events arrived" % (len(arrivals), args.sets))
    for i, (_, message) in enumerate(arrivals):
        if '"value":"v%d"' % (i + 1) not in message:
            sys.exit("latency: event %d out of order: %s" % (i + 1, message))
    # An event may arrive before its command has finished exiting: that counts as 0
    # (the signed figures show by how much).
    signed = [arrived - exited for (arrived, _), exited in zip(arrivals, exits)]
    after_commit = [arrived - event_time_ns(message) for arrived, message in arrivals]
    result = {"figure": "latency", "exit_to_event": percentiles([max(0, ns) for ns in signed]),
              "exit_to_event_signed": percentiles(signed), "commit_to_event": percentiles(after_commit),
              "before_exit": sum(1 for ns in signed if ns < 0)}
    print(json.dumps(result), flush=True)


def fanout(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.subscribers + 256)), hard))
    subscribers = [connect(args.socket) for _ in range(args.subscribers)]
    by_fd = {ws.sock.fileno(): ws for ws in subscribers}
    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    time.sleep(args.settle)  # every stream is registered with the daemon's hub by now

    def collect(expected, timeout):
        """Arrival time of each subscriber's next text frame: {fd: (ns, message)}."""
        got = {}
        deadline = time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            ready = poller.poll(0.05)
            # Every frame of this batch was in by the time poll returned: one timestamp for
            # all, so the time spent reading the others does not count against them.
            now = time.time_ns()
            for fd, _ in ready:
                # recv_frame reads exactly one frame, so readiness stays exact for the next.
                frame = by_fd[fd].recv_frame()
                if frame.opcode == OPCODE_TEXT:
                    got.setdefault(fd, (now, frame.data.decode()))
                elif frame.opcode == OPCODE_PING:
                    by_fd[fd].pong(frame.data)
                elif frame.opcode == OPCODE_CLOSE:
                    poller.unregister(fd)
        return got

    after_commit, after_exit, delivered = [], [], 0
    for round_number in range(1, args.rounds + 1):
        exited = admin_set(args, "user.fanout", "r%d" % round_number)
        got = collect(args.subscribers, timeout=10)
        delivered += len(got)
        for arrived, message in got.values():
            after_commit.append(arrived - event_time_ns(message))
            after_exit.append(max(0, arrived - exited))
        time.sleep(args.pause)
    for ws in subscribers:
        ws.sock.close()
    result = {"figure": "fanout", "subscribers": args.subscribers, "rounds": args.rounds,
              "delivered": delivered, "expected": args.subscribers * args.rounds,
              "commit_to_event": percentiles(after_commit), "exit_to_event": percentiles(after_exit)}
    print(json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figure", choices=["latency", "fanout"])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--admin", required=True, help="guestapi-admin binary")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--sets", type=int, default=200, help="latency: commands run")
    parser.add_argument("--subscribers", type=int, default=1000, help="fan-out: WebSocket connections")
    parser.add_argument("--rounds", type=int, default=5, help="fan-out: changes, one at a time")
    parser.add_argument("--settle", type=float, default=1.0, help="fan-out: seconds between connecting and the first change")
    parser.add_argument("--pause", type=float, default=0.5, help="fan-out: seconds between rounds")
    args = parser.parse_args()
    latency(args) if args.figure == "latency" else fanout(args)


if __name__ == "__main__":
    main()
