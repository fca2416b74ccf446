#!/usr/bin/env python3
"""Abuses the WebSocket event stream (/1.0/events) of a guest API socket with hand-made
frames, one connection per case, and reports how each stream ended. Run it as a registered
instance's process (its descendant), so that the daemon knows who is calling; stdlib only.

usage: ws_abuse.py SOCKET [--rss-pid PID] [CASE...]      (all fast cases when none are named)
       ws_abuse.py SOCKET --list
The slow case `never-pongs` (about 30 s: the daemon's ping timer) runs only when named.

Prints one JSON line per case:
  {"name", "upgraded": bool, "ended": bool, "held": bool, "close_code": int|null, "seconds": float,
   "sent": int, "rss_kb": int|null, "why": str}
`rss_kb` is PID's resident memory (VmRSS) as the case's abuse peaks, before it lets go: the
flood and never-read cases sample it while the daemon still holds what they piled up.
`ended` is true when the daemon closed the connection within the case's time limit (a close
frame first or not). A case passes when the stream was upgraded and then ended, except the two
that test what the daemon holds: `ping-flood-never-read` passes when the daemon stopped reading
(`held`: our sends blocked for a second) or ended the stream, `never-reads` always (the caller
judges `rss_kb`). `why` says what failed. Exit status 0 when every case passes.
"""
import base64, json, os, socket, struct, sys, time

TIME_LIMIT = 8.0
MAX_FRAME = 1 << 16


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True, length=None):
    """One frame as a client would send it (masked unless told otherwise)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", first, mask_bit | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def connect(path, resource="/1.0/events"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIME_LIMIT)
    s.connect(path)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: guest\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n" % (resource, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return s, head.startswith(b"HTTP/1.1 101")


def read_until_end(s, deadline):
    """Reads server frames until the connection ends; returns (ended, close code)."""
    data, code = b"", None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, code
        s.settimeout(remaining)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return False, code
        except (ConnectionResetError, BrokenPipeError):
            return True, code
        if not chunk:
            return True, code
        data += chunk
        while len(data) >= 2:
            opcode, n, offset = data[0] & 0x0F, data[1] & 0x7F, 2
            if n == 126:
                if len(data) < 4:
                    break
                n, offset = struct.unpack("!H", data[2:4])[0], 4
            elif n == 127:
                if len(data) < 10:
                    break
                n, offset = struct.unpack("!Q", data[2:10])[0], 10
            if len(data) < offset + n:
                break
            payload, data = data[offset:offset + n], data[offset + n:]
            if opcode == 0x8 and len(payload) >= 2:
                code = struct.unpack("!H", payload[:2])[0]


def send_all(s, payload, deadline):
    """Sends what the daemon takes before it closes; returns the bytes sent."""
    sent = 0
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        while sent < len(payload):
            sent += s.send(payload[sent:sent + 65536])
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    return sent


def rss_kb(pid):
    if pid is None:
        return None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def one_shot(payload):
    """A case that sends `payload` after the handshake and expects the stream to end."""
    def run(s, deadline):
        sent = send_all(s, payload, deadline)
        ended, code = read_until_end(s, deadline)
        return ended, code, sent
    return run


def ping_flood(s, deadline):
    """Pings as fast as the socket takes them and never reads a pong: the daemon must not
    queue pongs without bound; it stops reading (our sends block) or ends the stream."""
    ping = frame(0x9, b"p" * 125)
    batch = ping * 512
    sent, blocked_since, pending = 0, None, memoryview(batch)
    s.setblocking(False)
    while time.monotonic() < deadline:
        try:
            n = s.send(pending)
            sent += n
            # Whole frames only: a partial send continues where it stopped.
            pending = pending[n:] if n < len(pending) else memoryview(batch)
            blocked_since = None
        except BlockingIOError:
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > 1.0:
                return "held", None, sent  # the daemon stopped reading: back-pressure
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            return True, None, sent
    return False, None, sent


def never_reads(s, deadline):
    """Subscribes and never reads a byte; whatever the daemon queues must stay bounded."""
    time.sleep(max(0.0, min(1.0, deadline - time.monotonic())))
    return "held", None, 0


def never_pongs(s, deadline):
    """Reads every frame and answers no ping: the daemon must end the stream after more than
    two missed pongs (pings every 10 s: about 30 s). Reports how many pings came."""
    ended, code = read_until_end(s, deadline)
    return ended, code, 0


# Cases too slow for the default run (the daemon's own timers): named explicitly.
SLOW_CASES = {"never-pongs": (never_pongs, 45.0)}

CASES = {
    "reserved-bit-1": one_shot(frame(0x9, b"x", rsv=4)),
    "reserved-bit-2": one_shot(frame(0x9, b"x", rsv=2)),
    "reserved-bit-3": one_shot(frame(0x9, b"x", rsv=1)),
    "reserved-bits-on-pong": one_shot(frame(0xA, b"x", rsv=7)),
    "reserved-opcode-3": one_shot(frame(0x3, b"x")),
    "reserved-opcode-7": one_shot(frame(0x7, b"x")),
    "reserved-control-opcode-b": one_shot(frame(0xB, b"x")),
    "reserved-control-opcode-f": one_shot(frame(0xF, b"x")),
    "unmasked-text": one_shot(frame(0x1, b"hello", masked=False)),
    "unmasked-ping": one_shot(frame(0x9, b"hello", masked=False)),
    "unmasked-pong": one_shot(frame(0xA, b"hello", masked=False)),
    "unmasked-close": one_shot(frame(0x8, struct.pack("!H", 1000), masked=False)),
    "text-frame": one_shot(frame(0x1, b"hello")),
    "binary-frame": one_shot(frame(0x2, b"\x00\x01")),
    "text-fragment-start": one_shot(frame(0x1, b"hel", fin=False)),
    "continuation-without-start": one_shot(frame(0x0, b"lo")),
    "oversize-text": one_shot(frame(0x1, b"a" * (MAX_FRAME + 1))),
    "oversize-binary-header-only": one_shot(frame(0x2, b"a" * 1000, length=MAX_FRAME + 1)),
    "oversize-length-2^63": one_shot(frame(0x2, b"a" * 100, length=(1 << 63) - 1)),
    "oversize-length-2^64": one_shot(b"\x82\xff" + b"\xff" * 8 + b"\x00" * 4 + b"a" * 100),
    "oversize-ping": one_shot(frame(0x9, b"p" * 126)),
    "oversize-close": one_shot(frame(0x8, struct.pack("!H", 1000) + b"r" * 200)),
    "fragmented-ping": one_shot(frame(0x9, b"p", fin=False)),
    "fragmented-pong": one_shot(frame(0xA, b"p", fin=False)),
    "fragmented-close": one_shot(frame(0x8, struct.pack("!H", 1000), fin=False)),
    "ping-inside-fragments": one_shot(frame(0x1, b"a", fin=False) + frame(0x9, b"p", fin=False) + frame(0x0, b"b")),
    "close-one-byte": one_shot(frame(0x8, b"\x03")),
    "close-code-0": one_shot(frame(0x8, struct.pack("!H", 0))),
    "close-code-1005": one_shot(frame(0x8, struct.pack("!H", 1005))),
    "close-code-5000": one_shot(frame(0x8, struct.pack("!H", 5000))),
    "close-invalid-utf8-reason": one_shot(frame(0x8, struct.pack("!H", 1000) + b"\xff\xfe")),
    "close-normal": one_shot(frame(0x8, struct.pack("!H", 1000))),
    "garbage": one_shot(bytes(range(256)) * 4),
    # "GE" reads as a frame head (reserved bits, opcode 7, 69 bytes): pad it so the frame completes.
    "http-request-after-upgrade": one_shot(b"GET /1.0/config HTTP/1.1\r\nHost: guest\r\n\r\n" + b"\r\n" * 40),
    "ping-flood-never-read": ping_flood,
    "never-reads": never_reads,
}


def run_case(path, name, rss_pid):
    run, limit = SLOW_CASES.get(name) or (CASES[name], TIME_LIMIT)
    start = time.monotonic()
    deadline = start + limit
    s, upgraded = connect(path)
    ended, code, sent = False, None, 0
    try:
        if upgraded:
            ended, code, sent = run(s, deadline)
        rss = rss_kb(rss_pid)
    finally:
        s.close()
    held = ended == "held"
    why = "" if upgraded and ended else ("not upgraded" if not upgraded else "stream still open after %.0f s" % limit)
    return {"name": name, "upgraded": upgraded, "ended": ended is True, "held": held, "close_code": code,
            "seconds": round(time.monotonic() - start, 3), "sent": sent, "rss_kb": rss, "why": why}


def main(argv):
    if argv[2:3] == ["--list"]:
        print("\n".join(list(CASES) + list(SLOW_CASES)))
        return 0
    path, names, rss_pid = argv[1], argv[2:], None
    if names[:1] == ["--rss-pid"]:
        rss_pid, names = int(names[1]), names[2:]
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: run_case(path, n, rss_pid), names or list(CASES)))
    for result in results:
        print(json.dumps(result))
    return 0 if all(not r["why"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
