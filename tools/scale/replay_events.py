"""Replays an instance's journal over one WebSocket and times it (tools/bench-scale.sh,
figure 4).

Subscribes to `/1.0/events?since=SINCE` on the guest socket (the caller must belong to
the instance) and reads frames until the event with id `--last-id` arrives. Checks that
ids strictly increase and that exactly `--expect` events came. Prints one JSON object:
events, seconds (from sending the upgrade to the last event), events_per_s, in_order.
"""
import argparse
import json
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--since", type=int, default=0)
    p.add_argument("--last-id", type=int, required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    sock.connect(args.socket)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    started = time.monotonic()
    sock.sendall(b"GET /1.0/events?since=%d HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
                 b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" % args.since)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("replay_events: closed before the upgrade answer")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n", 1)[0] + b" ":
        sys.exit("replay_events: no upgrade: %r" % head[:200])

    events, last, in_order, done = 0, args.since, True, False
    pos = 0
    deadline = started + args.timeout
    while not done:
        # Parse every whole frame in the buffer; server frames are unmasked.
        n = len(buf)
        while pos + 2 <= n:
            length, header = buf[pos + 1] & 0x7F, 2
            if length == 126:
                if pos + 4 > n:
                    break
                length, header = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if pos + 10 > n:
                    break
                length, header = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + header + length
            if end > n:
                break
            opcode = buf[pos] & 0x0F
            if opcode == 1:
                # Replay mode: every event ends with ,"id":N}\n
                colon = buf.rfind(b":", pos, end)
                event_id = int(buf[colon + 1:end - 2])
                in_order = in_order and event_id > last
                last = event_id
                events += 1
                if event_id >= args.last_id:
                    done = True
                    break
            elif opcode == 8:
                sys.exit("replay_events: closed by the server after %d events" % events)
            pos = end
        if done:
            break
        buf = buf[pos:]
        pos = 0
        if time.monotonic() > deadline:
            sys.exit("replay_events: timed out after %d events" % events)
        chunk = sock.recv(1 << 20)
        if not chunk:
            sys.exit("replay_events: closed after %d events" % events)
        buf += chunk
    seconds = time.monotonic() - started
    sock.close()
    print(json.dumps({
        "events": events, "expected": args.expect, "seconds": round(seconds, 4),
        "events_per_s": round(events / seconds, 1), "in_order": in_order, "last_id": last,
        "ok": in_order and events == args.expect and last == args.last_id,
    }))


if __name__ == "__main__":
    sys.exit(main())
