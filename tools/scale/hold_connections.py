"""Holds many guest connections open at once, from many instances, and checks that
every one of them is still served (tools/bench-scale.sh, figure 3).

One forked child per instance joins that instance's cgroup (registered with
`--cgroup`), so the daemon resolves its connections to that instance by the cgroup
rule, then opens `--keepalive` keep-alive connections (each answered one
`GET /1.0`) and `--websocket` WebSocket subscribers of `/1.0/events` (each
answered 101). With every connection open, the parent reads the daemon's RSS and
open descriptors, runs `--trigger` (a command that changes one key of every
instance), and releases the children: each keep-alive connection must answer a
second `GET /1.0` and each subscriber must receive an event. Prints one JSON
object. Everything is bounded by `--timeout`; children never outlive the parent.
"""
import argparse
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

UPGRADE = (b"GET /1.0/events HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
           b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
GET = b"GET /1.0 HTTP/1.1\r\nHost: localhost\r\n\r\n"


def read_head(sock):
    """Reads a response head (and any bytes after it); returns (status, rest)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before a response head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, rest, length


def get(sock):
    sock.sendall(GET)
    status, rest, length = read_head(sock)
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed inside a body")
        rest += chunk
    return status == 200


def read_text_frame(sock):
    """Reads server frames until a text frame; pings and pongs are skipped."""
    buf = b""
    while True:
        while len(buf) < 2:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed before an event")
            buf += chunk
        opcode, length, header = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if length == 126:
            header = 4
        elif length == 127:
            header = 10
        while len(buf) < header:
            buf += sock.recv(4096)
        if header == 4:
            length = int.from_bytes(buf[2:4], "big")
        elif header == 10:
            length = int.from_bytes(buf[2:10], "big")
        while len(buf) < header + length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a frame")
            buf += chunk
        payload, buf = buf[header:header + length], buf[header + length:]
        if opcode == 1:
            return payload
        if opcode == 8:
            raise ConnectionError("closed by the server")


def child(index, args, results_w, go_r):
    """One instance's processes: never returns."""
    served = opened = 0
    reported = False
    try:
        signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
        signal.alarm(int(args.timeout) + 5)
        with open("%s%s/i%d/cgroup.procs" % (args.cgroup_root, args.group, index), "w") as f:
            f.write(str(os.getpid()))
        keepalive, websocket = [], []
        for _ in range(args.keepalive):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(args.timeout)
            s.connect(args.socket)
            if get(s):
                keepalive.append(s)
        for _ in range(args.websocket):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(args.timeout)
            s.connect(args.socket)
            s.sendall(UPGRADE)
            status, rest, _ = read_head(s)
            if status == 101 and not rest:
                websocket.append(s)
        opened = len(keepalive) + len(websocket)
        os.write(results_w, b"open %d\n" % opened)
        reported = True
        os.read(go_r, 1)  # EOF: the parent closed its end, everyone goes
        for s in keepalive:
            served += get(s)
        for s in websocket:
            served += b'"type":"config"' in read_text_frame(s)
    except Exception as error:  # reported as fewer served
        os.write(results_w, b"error %d %s\n" % (index, repr(error).encode()[:200]))
    if not reported:
        os.write(results_w, b"open 0\n")
    os.write(results_w, b"served %d\n" % served)
    os._exit(0)


def memory(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return int(fields["VmRSS"][0]) * 1024, int(fields["VmHWM"][0]) * 1024


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--cgroup-root", required=True, help="where the unified hierarchy is mounted")
    p.add_argument("--group", required=True, help="instance N's cgroup is GROUP/iN")
    p.add_argument("--instances", type=int, default=1000)
    p.add_argument("--keepalive", type=int, default=5, help="keep-alive connections per instance")
    p.add_argument("--websocket", type=int, default=5, help="WebSocket subscribers per instance")
    p.add_argument("--daemon-pid", type=int, required=True)
    p.add_argument("--trigger", required=True, help="shell command changing a user.* key of every instance")
    p.add_argument("--timeout", type=float, default=25)
    args = p.parse_args()
    deadline = time.monotonic() + args.timeout
    total = args.instances * (args.keepalive + args.websocket)

    rss_idle, _ = memory(args.daemon_pid)
    results_r, results_w = os.pipe()
    go_r, go_w = os.pipe()
    gc.collect()
    gc.freeze()  # children share the parent's pages instead of copying them
    started = time.monotonic()
    children = []
    for index in range(args.instances):
        pid = os.fork()
        if pid == 0:
            os.close(results_r)
            os.close(go_w)
            child(index, args, results_w, go_r)
        children.append(pid)
    os.close(results_w)
    os.close(go_r)

    lines, pending = [], b""

    def collect(prefix, count):
        nonlocal pending
        while sum(1 for l in lines if l.startswith(prefix)) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([results_r], [], [], left)[0]:
                return False
            chunk = os.read(results_r, 65536)
            if not chunk:
                return False
            pending += chunk
            *done, pending = pending.split(b"\n")
            lines.extend(l.decode() for l in done)
        return True

    all_open = collect("open", args.instances)
    open_seconds = time.monotonic() - started
    opened = sum(int(l.split()[1]) for l in lines if l.startswith("open"))
    rss_held, hwm = memory(args.daemon_pid)
    fds = len(os.listdir("/proc/%d/fd" % args.daemon_pid))
    trigger = subprocess.run(args.trigger, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=max(1, deadline - time.monotonic()))
    os.close(go_w)
    collect("served", args.instances)
    served = sum(int(l.split()[1]) for l in lines if l.startswith("served"))
    errors = [l for l in lines if l.startswith("error")]
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    print(json.dumps({
        "connections": total, "opened": opened, "served": served, "all_open": all_open,
        "open_s": round(open_seconds, 3), "daemon_fds": fds,
        "rss_idle": rss_idle, "rss_held": rss_held, "rss_peak": hwm,
        "bytes_per_connection": round((rss_held - rss_idle) / max(opened, 1)),
        "trigger_rc": trigger.returncode, "errors": len(errors),
        "first_error": errors[0] if errors else (trigger.stderr.decode()[:200] if trigger.returncode else ""),
    }))


if __name__ == "__main__":
    sys.exit(main())
