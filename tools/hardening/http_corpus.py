#!/usr/bin/env python3
"""The malformed-HTTP corpus: named requests no guest should get anything from.

Each case is a dict:
  name     unique, `group/what`
  bytes    what the client sends, at once, on a connection of its own
  expect   "malformed": the daemon answers a 4xx and closes, or just closes
           "refused":   the daemon answers a 4xx (it may keep the connection open)
  good     how many 2xx answers may come first (pipelined garbage after good requests)

The corpus is generated here and stored in corpus/http-malformed.jsonl (bytes in base64),
so that the integration test (Tests/IntegrationTests/HostileHTTPTests.swift), the corpus
sender (send_corpus.py) and the fuzz harness's seeds (fuzz/) all use the same cases.

usage: http_corpus.py [--check]     regenerate corpus/http-malformed.jsonl (or check it is current)
       http_corpus.py --seeds DIR   write each case's bytes to DIR/NAME (libFuzzer seeds)
"""
import base64, json, os, random, sys

HEAD_LIMIT = 16 * 1024
BODY_LIMIT = 64 * 1024
CRLF = b"\r\n"

# A TLS 1.2 ClientHello for "guest", as openssl sends it (truncated to the record it declares).
TLS_CLIENT_HELLO = bytes.fromhex(
    "16030100a5010000a10303" + "5b" * 32 + "00" + "0020c02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a"
    "0100" + "0058" + "0000000a0008000005677565737400170000ff01000100000a00080006001d00170018"
    "000b00020100000d0014001204030804040105030805050108060601020100120000")
# SSLv2-compatible ClientHello: 2-byte record header, then type, version, lengths, 6 cipher specs, challenge.
SSL2_CLIENT_HELLO = bytes.fromhex("802b" "01" "0301" "0012" "0000" "0010" + "010080" "030080" "060040" "040080" "050080" "070040") + b"\x5a" * 16
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = bytes.fromhex("000000040000000000")


def request(line=b"GET / HTTP/1.1", headers=(b"Host: guest",), body=b""):
    return line + CRLF + b"".join(h + CRLF for h in headers) + CRLF + body


def cases():
    out = []

    def add(name, data, expect="malformed", good=0):
        out.append({"name": name, "bytes": data, "expect": expect, "good": good})

    # Request lines that are not `METHOD SP TARGET SP HTTP/x.y`.
    for name, line in [
        ("empty-method", b" / HTTP/1.1"), ("only-method", b"GET"), ("no-version", b"GET /"),
        ("http09", b"GET /1.0"), ("tab-separated", b"GET\t/\tHTTP/1.1"),
        ("trailing-word", b"GET / HTTP/1.1 extra"), ("leading-space", b" GET / HTTP/1.1"),
        ("lowercase-version", b"GET / http/1.1"), ("bad-protocol", b"GET / HTTX/1.1"), ("version-x", b"GET / HTTP/1.x"),
        ("version-no-dot", b"GET / HTTP/11"), ("version-dot-only", b"GET / HTTP/1."), ("version-three-parts", b"GET / HTTP/1.1.1"),
        ("version-2", b"GET / HTTP/2.0"), ("version-3", b"GET / HTTP/3.0"), ("version-9", b"GET / HTTP/9.9"),
        ("version-0", b"GET / HTTP/0.0"), ("version-negative", b"GET / HTTP/-1.1"), ("version-long", b"GET / HTTP/1.11111111111"),
        ("version-missing-slash", b"GET / HTTP1.1"), ("version-space", b"GET / HTTP/ 1.1"),
        ("no-target", b"GET HTTP/1.1"), ("cr-in-line", b"GET /\r/ HTTP/1.1"), ("lf-in-line", b"GET /\n/ HTTP/1.1"),
        ("nul-in-line", b"GET /\x00 HTTP/1.1"), ("nul-line", b"\x00\x00\x00\x00"), ("del-line", b"\x7f\x7f\x7f"),
        ("response-line", b"HTTP/1.1 200 OK"), ("json-line", b'{"state":"Ready"}'),
        ("unicode-method", "GÉT / HTTP/1.1".encode()), ("utf8-bom", b"\xef\xbb\xbfGET / HTTP/1.1"),
    ]:
        add("request-line/" + name, request(line))
    add("request-line/cr-only-endings", b"GET / HTTP/1.1\rHost: guest\r\r")
    add("request-line/lone-lf-then-garbage", b"GET / HTTP/1.1\nHost: guest\n\x01\x02\n\n")

    # Methods llhttp does not know, or that are not tokens at all.
    for name, method in [
        ("lowercase-get", b"get"), ("lowercase-patch", b"patch"), ("mixed-case", b"GeT"), ("unknown", b"FOO"),
        ("brew", b"BREW"), ("digits", b"123"), ("dash", b"-"), ("at-sign", b"G@T"), ("comma", b"GET,POST"),
        ("slash", b"GET/"), ("quote", b'"GET"'), ("nul-inside", b"GE\x00T"), ("del-inside", b"GE\x7fT"),
        ("high-byte", b"\xffGET"), ("long", b"X" * 200), ("control", b"\x01\x02\x03"),
        ("space-inside", b"G ET"), ("tab-inside", b"G\tET"), ("percent", b"%47ET"), ("escape", b"\x1b[31mGET"),
    ]:
        add("method/" + name, request(method + b" /1.0 HTTP/1.1"))
    # Methods that parse but that no endpoint takes: an answer, not a close.
    for method in [b"PROPFIND", b"MKCOL", b"TRACE", b"OPTIONS", b"DELETE", b"PUT", b"POST", b"LINK", b"PURGE", b"SEARCH"]:
        add("method/unsupported-" + method.decode().lower(), request(method + b" /1.0/config/user.secret HTTP/1.1"), "refused")

    # Content-Length: missing, repeated, negative, huge, not a number, beside chunked.
    patch = b"PATCH /1.0 HTTP/1.1"
    ready = b'{"state":"Ready"}'
    for name, values in [
        ("duplicate-same", [b"17", b"17"]), ("duplicate-different", [b"17", b"18"]), ("list", [b"17, 17"]),
        ("negative", [b"-1"]), ("negative-zero", [b"-0"]), ("plus", [b"+17"]), ("hex", [b"0x11"]), ("float", [b"17.0"]),
        ("empty", [b""]), ("space-inside", [b"1 7"]), ("letters", [b"seventeen"]), ("huge", [b"9" * 30]),
        ("int64-overflow", [b"9223372036854775808"]), ("uint64-max", [b"18446744073709551615"]),
        ("nul", [b"17\x00"]), ("high-byte", [b"17\xff"]),
    ]:
        add("content-length/" + name, request(patch, [b"Host: guest"] + [b"Content-Length: " + v for v in values], ready))
    add("content-length/with-chunked", request(patch, [b"Host: guest", b"Content-Length: 17", b"Transfer-Encoding: chunked"],
                                               b"11\r\n" + ready + b"\r\n0\r\n\r\n"))
    add("content-length/chunked-then-length", request(patch, [b"Host: guest", b"Transfer-Encoding: chunked", b"Content-Length: 17"],
                                                      b"11\r\n" + ready + b"\r\n0\r\n\r\n"))
    add("content-length/missing-body-smuggled", request(patch, [b"Host: guest"], ready))
    add("content-length/shorter-than-body", request(patch, [b"Host: guest", b"Content-Length: 5"], ready))
    add("content-length/longer-than-body", request(patch, [b"Host: guest", b"Content-Length: 60000"], ready))
    add("content-length/over-limit-no-body", request(patch, [b"Host: guest", b"Content-Length: %d" % (BODY_LIMIT + 1)]))
    add("content-length/one-gigabyte-no-body", request(patch, [b"Host: guest", b"Content-Length: 1073741824"]))
    add("content-length/int64-max-no-body", request(patch, [b"Host: guest", b"Content-Length: 9223372036854775807"]))
    add("content-length/on-get-over-limit", request(b"GET /1.0/config HTTP/1.1", [b"Host: guest", b"Content-Length: 100000"]))
    add("content-length/http10-no-length", b"PATCH /1.0 HTTP/1.0\r\n\r\n" + ready)

    # Chunked bodies that do not parse, or never end.
    def chunked(body, te=b"chunked"):
        return request(patch, [b"Host: guest", b"Transfer-Encoding: " + te], body)
    for name, body in [
        ("size-not-hex", b"zz\r\n" + ready + b"\r\n0\r\n\r\n"), ("size-negative", b"-11\r\n" + ready + b"\r\n0\r\n\r\n"),
        ("size-huge", b"ffffffffffffffffffff\r\n" + ready + b"\r\n0\r\n\r\n"), ("size-empty", b"\r\n" + ready + b"\r\n0\r\n\r\n"),
        ("size-0x", b"0x11\r\n" + ready + b"\r\n0\r\n\r\n"), ("size-space-inside", b"1 1\r\n" + ready + b"\r\n0\r\n\r\n"),
        ("data-longer-than-size", b"5\r\n" + ready + b"\r\n0\r\n\r\n"), ("no-crlf-after-data", b"11\r\n" + ready + b"0\r\n\r\n"),
        ("lf-only", b"11\n" + ready + b"\n0\n\n"), ("no-final-chunk", b"11\r\n" + ready + b"\r\n"),
        ("nul-size", b"\x00\r\n"), ("bad-trailer", b"11\r\n" + ready + b"\r\n0\r\nno colon\r\n\r\n"),
        ("extension-junk", b"11;\x00\x01\r\n" + ready + b"\r\n0\r\n\r\n"),
        ("over-limit", b"".join(b"%x\r\n" % 8192 + b"a" * 8192 + CRLF for _ in range(9)) + b"0\r\n\r\n"),
        ("over-limit-one-chunk", b"%x\r\n" % (BODY_LIMIT + 1) + b"a" * (BODY_LIMIT + 1) + b"\r\n0\r\n\r\n"),
        ("announces-gigabyte", b"40000000\r\n" + b"a" * 100),
    ]:
        add("chunked/" + name, chunked(body))
    for name, te in [("gzip-only", b"gzip"), ("identity", b"identity"), ("chunked-not-last", b"chunked, gzip"),
                     ("chunked-twice", b"chunked, chunked"), ("unknown", b"foo"), ("empty", b""), ("nul", b"chunked\x00")]:
        add("transfer-encoding/" + name, chunked(b"11\r\n" + ready + b"\r\n0\r\n\r\n", te))
    add("transfer-encoding/two-headers", request(patch, [b"Host: guest", b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
                                                  b"11\r\n" + ready + b"\r\n0\r\n\r\n"))

    # Header lines that are not `name: value`.
    get = b"GET /1.0/config HTTP/1.1"
    for name, header in [
        ("no-colon", b"Host guest"), ("empty-name", b": guest"), ("space-before-colon", b"Host : guest"),
        ("tab-before-colon", b"Host\t: guest"), ("space-in-name", b"X Y: z"), ("nul-in-name", b"X\x00Y: z"),
        ("nul-in-value", b"X-Y: a\x00b"), ("cr-in-value", b"X-Y: a\rb"), ("del-in-name", b"X\x7fY: z"),
        ("high-byte-name", b"X\xffY: z"), ("quote-in-name", b'"X": z'), ("colon-only", b":"),
        ("obs-fold", b"X-Y: a\r\n b"), ("leading-whitespace-line", b" X-Y: z"), ("control-in-value", b"X-Y: a\x01b"),
        ("escape-in-value", b"X-Y: \x1b[2J"), ("brace-in-name", b"X{Y}: z"), ("slash-in-name", b"X/Y: z"),
    ]:
        add("header/" + name, request(get, [b"Host: guest", header]))
    add("header/lf-only-lines-with-nul", b"GET / HTTP/1.1\nHost: guest\nX: \x00\n\n")
    add("header/host-twice-with-nul", request(get, [b"Host: guest", b"Host: \x00other"]))

    # Heads over 16 KiB, whichever part makes them long.
    add("oversize/uri", request(b"GET /1.0/config?x=" + b"a" * (HEAD_LIMIT + 1) + b" HTTP/1.1"))
    add("oversize/uri-64k", request(b"GET /1.0/config?x=" + b"a" * (4 * HEAD_LIMIT) + b" HTTP/1.1"))
    add("oversize/one-header", request(get, [b"Host: guest", b"X-Big: " + b"a" * (HEAD_LIMIT + 1)]))
    add("oversize/header-name", request(get, [b"Host: guest", b"X" * (HEAD_LIMIT + 1) + b": a"]))
    add("oversize/many-headers", request(get, [b"Host: guest"] + [b"X-H%05d: %s" % (i, b"a" * 20) for i in range(700)]))
    add("oversize/many-empty-headers", request(get, [b"Host: guest"] + [b"X: " for _ in range(5000)]))
    add("oversize/no-newline", b"GET /" + b"a" * (8 * HEAD_LIMIT))
    add("oversize/junk-no-newline", bytes(random.Random(7).randrange(32, 127) for _ in range(8 * HEAD_LIMIT)))
    add("oversize/method", b"G" * (2 * HEAD_LIMIT) + b" / HTTP/1.1\r\n\r\n")
    add("oversize/just-over-limit", request(get, [b"Host: guest", b"X-Pad: " + b"p" * (HEAD_LIMIT - 40)]))

    # Paths: raw bytes no URL may hold, and spellings that must not reach another endpoint.
    for name, target in [
        ("invalid-utf8", b"/1.0/config/user.\xff\xfe"), ("overlong-utf8-slash", b"/1.0/config/user.\xc0\xaf"),
        ("lone-continuation", b"/1.0/config/\x80"), ("control-bytes", b"/1.0/config/user.\x01\x02"),
        ("escape-byte", b"/1.0/config/\x1b[1m"), ("del-byte", b"/1.0/config/user.\x7f"), ("nul-byte", b"/1.0/config/user.secret\x00"),
        ("utf16", "/1.0/config/user.\u202e".encode("utf-16-le")), ("backspace", b"/1.0/\x08config"),
    ]:
        add("path-bytes/" + name, request(b"GET " + target + b" HTTP/1.1"))
    for name, target in [
        ("dot-dot", b"/1.0/config/../config"), ("dot-dot-root", b"/1.0/../1.0/config"), ("dot", b"/1.0/./config"),
        ("dot-dot-key", b"/1.0/config/.."), ("dot-dot-encoded", b"/1.0/%2e%2e/1.0/config"),
        ("dot-dot-encoded-upper", b"/1.0/%2E%2E/1.0/config"), ("dot-dot-key-encoded", b"/1.0/config/%2e%2e"),
        ("dot-dot-key-slash-encoded", b"/1.0/config/%2e%2e%2fuser.secret"), ("slash-encoded", b"/1.0%2Fconfig"),
        ("slash-encoded-key", b"/1.0/config/user.x%2F..%2F..%2Fuser.secret"), ("slash-double-encoded", b"/1.0%252Fconfig"),
        ("backslash", b"/1.0\\config"), ("backslash-encoded", b"/1.0%5Cconfig"), ("double-slash", b"/1.0//config"),
        ("trailing-slash", b"/1.0/config/"), ("leading-double-slash", b"//1.0/config"), ("semicolon", b"/1.0/config;x=1"),
        ("fragment", b"/1.0/config#x"), ("no-leading-slash", b"1.0/config"), ("empty-key", b"/1.0/config//"),
        ("percent-alone", b"/1.0/config/user.%"), ("percent-one-digit", b"/1.0/config/user.%2"),
        ("percent-not-hex", b"/1.0/config/user.%zz"), ("percent-nul", b"/1.0/config/user.secret%00"),
        ("percent-nul-suffix", b"/1.0/config/user.secret%00.txt"), ("percent-invalid-utf8", b"/1.0/config/user.%ff%fe"),
        ("percent-overlong-dot", b"/1.0/config/%c0%ae%c0%ae"), ("percent-control", b"/1.0/config/user.%01"),
        ("percent-newline", b"/1.0/config/user.secret%0d%0aX:%20y"), ("percent-space", b"/1.0/config/user.sec%20ret"),
        ("unicode-dots", "/1.0/config/\u2024\u2024".encode()), ("fullwidth-slash", "/1.0\uff0fconfig".encode()),
        ("images-dot-dot", b"/1.0/images/../config/export"), ("star", b"*"),
        ("images-encoded-slash", b"/1.0/images/..%2F..%2Fguestapi.db/export"), ("images-dot-dot-fp", b"/1.0/images/../export"),
        ("images-absolute", b"/1.0/images/%2Fetc%2Fshadow/export"), ("events-dot-dot", b"/1.0/events/../config"),
        ("meta-data-slash", b"/1.0/meta-data/"), ("root-dot-dot", b"/../../etc/passwd"),
        ("absolute-dot-dot", b"http://guest/1.0/../1.0/config/../config"), ("authority-form", b"guest:80"),
    ]:
        add("path/" + name, request(b"GET " + target + b" HTTP/1.1"), "refused")

    # NUL bytes wherever they can go.
    for name, data in [
        ("before-request", b"\x00" + request(get)), ("in-version", request(b"GET /1.0/config HTTP/1.\x001")),
        ("after-method", request(b"GET\x00/1.0/config HTTP/1.1")), ("header-line", request(get, [b"Host: guest", b"\x00"])),
        ("between-headers", b"GET /1.0/config HTTP/1.1\r\nHost: guest\r\n\x00\r\n\r\n"),
        ("instead-of-crlf", b"GET /1.0/config HTTP/1.1\x00\x00Host: guest\x00\x00\x00\x00"),
        ("kilobyte", b"\x00" * 1024),
    ]:
        add("nul/" + name, data)

    # A good request, then garbage on the same connection: answered, then refused.
    good = request(b"GET /1.0 HTTP/1.1")
    for name, garbage in [
        ("nul-bytes", b"\x00\x01\x02\x03"), ("response", b"HTTP/1.1 200 OK\r\n\r\n"), ("tls", TLS_CLIENT_HELLO),
        ("h2-preface", H2_PREFACE), ("bad-length", request(patch, [b"Content-Length: -5"])), ("lowercase", request(b"get / HTTP/1.1")),
        ("oversize-head", request(get, [b"X-Big: " + b"a" * (HEAD_LIMIT + 1)])), ("binary", bytes(range(256))),
        ("bad-chunk", chunked(b"zz\r\n")), ("header-no-colon", request(get, [b"nocolon"])),
    ]:
        add("pipelined/" + name, good + garbage, good=1)
    add("pipelined/three-good-then-garbage", good * 3 + b"\xff\xfe\xfd\r\n\r\n", good=3)
    add("pipelined/good-body-then-garbage", request(patch, [b"Host: guest", b"Content-Length: 19"], b'{"state":"Started"}')
        + b"\x16\x03\x01garbage\r\n\r\n", good=1)

    # Other protocols on the HTTP/1 socket.
    add("protocol/h2-preface", H2_PREFACE)
    add("protocol/h2-preface-and-settings", H2_PREFACE + H2_SETTINGS)
    add("protocol/tls-client-hello", TLS_CLIENT_HELLO)
    add("protocol/tls-then-http", TLS_CLIENT_HELLO + good)
    add("protocol/sslv2-client-hello", SSL2_CLIENT_HELLO)
    add("protocol/ssh-banner", b"SSH-2.0-OpenSSH_9.6\r\n")
    add("protocol/smtp", b"EHLO guest\r\n")
    add("protocol/proxy-v1", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" + b"garbage\r\n\r\n")
    add("protocol/proxy-v2", b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes(12))
    add("protocol/websocket-frame", bytes.fromhex("818537fa213d7f9f4d5158"))
    add("protocol/rtsp", request(b"OPTIONS rtsp://guest/ RTSP/1.0"))
    add("protocol/connect", request(b"CONNECT guest:443 HTTP/1.1") + TLS_CLIENT_HELLO)
    add("protocol/connect-then-request", request(b"CONNECT guest:443 HTTP/1.1") + request(b"GET /1.0/config HTTP/1.1"))
    # An upgrade the daemon does not take is ignored (RFC 9110 section 7.8): HTTP/1.1 goes
    # on, and what a client that assumed the switch sends next is malformed.
    add("protocol/h2c-upgrade-then-request", request(b"GET /1.0 HTTP/1.1", [b"Host: guest", b"Connection: Upgrade, HTTP2-Settings",
                                                    b"Upgrade: h2c", b"HTTP2-Settings: AAMAAABkAAQAAP__"]) + request(get) + H2_PREFACE,
        good=2)
    add("protocol/unknown-upgrade-then-garbage", request(b"GET /1.0 HTTP/1.1", [b"Host: guest", b"Connection: Upgrade",
                                                        b"Upgrade: foo/1"]) + b"\x00" * 64, good=1)
    for seed in range(12):
        rng = random.Random(seed)
        add("protocol/random-%02d" % seed, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096))))

    # Bodies over 64 KiB, on every method that could carry one.
    big = b'{"state":"' + b"R" * BODY_LIMIT + b'"}'
    add("body/patch-over-limit", request(patch, [b"Host: guest", b"Content-Length: %d" % len(big)], big))
    add("body/patch-limit-plus-one", request(patch, [b"Host: guest", b"Content-Length: %d" % (BODY_LIMIT + 1)], b" " * (BODY_LIMIT + 1)))
    add("body/get-over-limit", request(get, [b"Host: guest", b"Content-Length: %d" % len(big)], big))
    add("body/post-over-limit", request(b"POST /1.0/config HTTP/1.1", [b"Host: guest", b"Content-Length: 200000"], b"x" * 200000))
    add("body/http10-over-limit", b"PATCH /1.0 HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    # Bodies within the limit that no JSON decoder should choke on: a 400, never a crash.
    for name, body in [
        ("json-deep-arrays", b"[" * 60000), ("json-deep-objects", b'{"a":' * 12000), ("json-huge-number", b'{"state":1' + b"0" * 60000 + b"}"),
        ("json-invalid-utf8", b'{"state":"\xff\xfe"}'), ("json-nul", b'{"state":"Ready\x00"}'),
        ("json-lone-surrogate", b'{"state":"\\ud800"}'), ("json-unterminated", b'{"state":"Ready'),
        ("json-escaped-ready", b'{"state":"\\u0052eady "}'), ("json-array", b'["Ready"]'), ("empty", b""),
    ]:
        add("json/" + name, request(patch, [b"Host: guest", b"Content-Length: %d" % len(body)], body), "refused")

    # WebSocket handshakes that must not become a stream.
    def upgrade(headers, target=b"/1.0/events"):
        return request(b"GET " + target + b" HTTP/1.1", [b"Host: guest"] + headers)
    key = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
    for name, headers in [
        ("no-key", [b"Connection: Upgrade", b"Upgrade: websocket", b"Sec-WebSocket-Version: 13"]),
        ("bad-version", [b"Connection: Upgrade", b"Upgrade: websocket", key, b"Sec-WebSocket-Version: 8"]),
        ("no-version", [b"Connection: Upgrade", b"Upgrade: websocket", key]),
        ("two-keys", [b"Connection: Upgrade", b"Upgrade: websocket", key, key, b"Sec-WebSocket-Version: 13"]),
    ]:
        add("websocket/" + name, upgrade(headers), "refused")
    add("websocket/bad-since", upgrade([b"Connection: Upgrade", b"Upgrade: websocket", key, b"Sec-WebSocket-Version: 13"],
                                       b"/1.0/events?since=-1"), "refused")
    add("websocket/huge-since", upgrade([b"Connection: Upgrade", b"Upgrade: websocket", key, b"Sec-WebSocket-Version: 13"],
                                        b"/1.0/events?since=99999999999999999999999"), "refused")
    add("websocket/since-percent", upgrade([b"Connection: Upgrade", b"Upgrade: websocket", key, b"Sec-WebSocket-Version: 13"],
                                           b"/1.0/events?since=%zz"), "refused")
    return out


def encode(case):
    return json.dumps({**case, "bytes": base64.b64encode(case["bytes"]).decode()}, sort_keys=True)


def decode(line):
    case = json.loads(line)
    case["bytes"] = base64.b64decode(case["bytes"])
    return case


STORED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http-malformed.jsonl")


def main(argv):
    generated = cases()
    names = [c["name"] for c in generated]
    assert len(names) == len(set(names)), "duplicate case names"
    text = "".join(encode(c) + "\n" for c in generated)
    if argv[1:2] == ["--seeds"]:
        os.makedirs(argv[2], exist_ok=True)
        for case in generated:
            with open(os.path.join(argv[2], case["name"].replace("/", "__")), "wb") as f:
                f.write(case["bytes"])
        return 0
    if argv[1:2] == ["--check"]:
        current = open(STORED).read() if os.path.exists(STORED) else ""
        if current != text:
            print("corpus/http-malformed.jsonl is out of date: run tools/hardening/http_corpus.py", file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(STORED), exist_ok=True)
    with open(STORED, "w") as f:
        f.write(text)
    print("%d cases written to %s" % (len(generated), STORED))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
