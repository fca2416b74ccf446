"""Watching without a WebSocket (README, "Watching for changes"), on a guestapid of its own.

  latency   a held GET /1.0/config/user.foo?wait_for_change=true answers after
            `guestapi-admin set user.foo ...` exits: p50/p99/max over --changes changes,
            against the same change's event on a /1.0/events stream held beside it.
            Target: p99 <= 10 ms.
  restart   the tag from one daemon, waited on with the next (the daemon restarted in
            between), --restarts times: the request must be held (the tag survived), then
            answer the change, p99 <= 10 ms as above.
  fan-out   --instances instances x 10 held requests (5 on user.foo, 5 on user.bar), then
            user.bar set on each instance in turn, then user.foo: every request answers
            exactly once, after its own change and for no other. Daemon RSS per held
            request, against an idle keep-alive connection's. Target: <= 16 KiB.
  timeout   200 held requests with timeout_sec=1 and 2 and nothing changing: how late each
            answers. Target: within 100 ms of N seconds.
  fair      instance victim asks GET /1.0 on one keep-alive connection for 3 s, quiet, then
            while another instance, with 250 held ?recursive=true requests, sends 100 PATCH
            /1.0 (its whole burst), and the host then changes one of its keys (which answers
            all 250); the other instance has four values of 60,000 control bytes, then 2,000
            keys. Target: victim p99 <= quiet p99 + 5 ms, and no request of the victim's over
            100 ms.
  shared    250 connections that ask for the recursive listing of 20,000 keys (1.5 MB) and
            never read: daemon RSS before and after; then 250 held requests on it, before and
            after a change answers them all. Target: <= 64 MiB more each (the answers share
            one copy of their bytes).

Every instance's requests come from a process registered as its init (`instance attach
--pid`). Standard library only; run as root. Progress goes to stderr, the table to stdout.
"""

import argparse
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time


def log(*words):
    print("bench-watch:", *words, file=sys.stderr, flush=True)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Daemon:
    def __init__(self, bin_dir, state):
        self.bin_dir, self.state = bin_dir, state
        self.socket = os.path.join(state, "guestapi", "sock")
        self.process = None

    def admin(self, *arguments):
        subprocess.run([os.path.join(self.bin_dir, "guestapi-admin"), "--state-dir", self.state, *arguments],
                       check=True, stdout=subprocess.DEVNULL)

    def start(self):
        log_file = open(os.path.join(self.state, "guestapid.log"), "ab")
        self.process = subprocess.Popen([os.path.join(self.bin_dir, "guestapid"), "--state-dir", self.state],
                                        stdout=log_file, stderr=log_file)
        deadline = time.monotonic() + 20
        while not self.answers():
            if time.monotonic() > deadline:
                raise SystemExit("guestapid did not start; see " + self.state + "/guestapid.log")
            time.sleep(0.02)

    def answers(self):
        try:
            return self.metric("guestapi_held_requests") is not None
        except OSError:
            return False

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)

    def metric(self, name):
        reply = exchange(os.path.join(self.state, "admin.sock"), "/metrics")[1].decode()
        for line in reply.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None

    def wait_held(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while self.metric("guestapi_held_requests") != count:
            if time.monotonic() > deadline:
                raise SystemExit(f"held requests stayed at {self.metric('guestapi_held_requests')}, not {count}")
            time.sleep(0.002)

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def request_bytes(target):
    return f"GET {target} HTTP/1.1\r\nHost: guest\r\n\r\n".encode()


def parse(buffer):
    """(status, headers, body, rest) once a whole response is in `buffer`, else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buffer[:end].decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    if len(buffer) < end + 4 + length:
        return None
    return int(lines[0].split()[1]), headers, buffer[end + 4:end + 4 + length], buffer[end + 4 + length:]


def read_response(sock):
    buffer = b""
    while (parsed := parse(buffer)) is None:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a whole answer")
        buffer += chunk
    return parsed


def exchange(path, target):
    with connect(path) as sock:
        sock.sendall(request_bytes(target))
        status, headers, body, _ = read_response(sock)
        return status, body, headers


def held_target(key, tag, timeout=600):
    return f"/1.0/config/{key}?wait_for_change=true&timeout_sec={timeout}&last_etag={tag.strip(chr(34))}"


def spawn(daemon, instance, body, *arguments):
    """A child process registered as `instance`'s init, running body(daemon, instance, to_parent,
    from_parent, *arguments); returns (pid, to_child, from_child) as line-buffered files."""
    down_read, down_write = os.pipe()
    up_read, up_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(down_write)
        os.close(up_read)
        try:
            daemon.admin("instance", "attach", instance, "--pid", str(os.getpid()))
            with os.fdopen(up_write, "w", buffering=1) as up, os.fdopen(down_read) as down:
                body(daemon, instance, up, down, *arguments)
        finally:
            os._exit(0)
    os.close(down_read)
    os.close(up_write)
    return pid, os.fdopen(down_write, "w", buffering=1), os.fdopen(up_read)


def latency_child(daemon, instance, up, down):
    """Per command `hold`: the current tag, an event stream and a held request; reports when
    each answered. Per `restart-tag`: the tag now; per `hold-tag TAG`: a held request on it."""
    for command in down:
        words = command.split()
        if words[0] == "hold":
            _, _, headers = exchange(daemon.socket, "/1.0/config/user.foo")
            events = connect(daemon.socket)
            events.sendall(request_bytes("/1.0/events?type=config"))
            head = b""
            while b"\r\n\r\n" not in head:
                head += events.recv(4096)
            held = connect(daemon.socket)
            held.sendall(request_bytes(held_target("user.foo", headers["etag"])))
            up.write("sent\n")
            read_response(held)
            answered = time.monotonic()
            stream = head.split(b"\r\n\r\n", 1)[1]
            while b"user.foo" not in stream:
                stream += events.recv(65536)
            evented = time.monotonic()
            up.write(f"{answered} {evented}\n")
            held.close()
            events.close()
        elif words[0] == "tag":
            up.write(exchange(daemon.socket, "/1.0/config/user.foo")[2]["etag"] + "\n")
        elif words[0] == "hold-tag":
            held = connect(daemon.socket)
            held.sendall(request_bytes(held_target("user.foo", words[1])))
            up.write("sent\n")
            status, _, _, _ = read_response(held)
            up.write(f"{time.monotonic()} {status}\n")
            held.close()


def latency(daemon, changes, restarts):
    pid, to_child, from_child = spawn(daemon, "w", latency_child)
    held, events = [], []
    for i in range(1, changes + 1):
        to_child.write("hold\n")
        from_child.readline()
        daemon.wait_held(1)
        daemon.admin("set", "--instance", "w", "user.foo", str(i))
        exited = time.monotonic()
        answered, evented = map(float, from_child.readline().split())
        held.append((answered - exited) * 1000)
        events.append((evented - exited) * 1000)
    log(f"latency: {changes} changes")
    after_restart, survived = [], 0
    for i in range(restarts):
        to_child.write("tag\n")
        tag = from_child.readline().strip()
        daemon.stop()
        daemon.start()
        to_child.write(f"hold-tag {tag}\n")
        from_child.readline()
        daemon.wait_held(1)  # never reached if the tag changed: the request is answered at once
        survived += 1
        daemon.admin("set", "--instance", "w", "user.foo", f"restart-{i}")
        exited = time.monotonic()
        answered, status = from_child.readline().split()
        after_restart.append((float(answered) - exited) * 1000)
    log(f"restart: {restarts} restarts")
    to_child.close()
    os.waitpid(pid, 0)
    return held, events, after_restart, survived


def fan_out_child(daemon, instance, up, down, timeouts):
    """On `idle`: 10 keep-alive connections, each after one GET /1.0. On `hold`: 5 held
    requests on user.foo and 5 on user.bar; each answer reported as `INSTANCE KEY TIME STATUS
    BODY`. On `timeouts`: `timeouts` held requests, half with timeout_sec=1, half 2, reported as
    `INSTANCE timeout LATENESS`."""
    idle = []
    for command in down:
        if command.startswith("exit"):
            up.write("ok\n")
            return
        if command.startswith("idle"):
            for _ in range(10):
                sock = connect(daemon.socket)
                sock.sendall(request_bytes("/1.0"))
                read_response(sock)
                idle.append(sock)
            up.write("ok\n")
        elif command.startswith("close"):
            for sock in idle:
                sock.close()
            idle = []
            up.write("ok\n")
        elif command.startswith("hold"):
            selector = selectors.DefaultSelector()
            for key in ["user.foo"] * 5 + ["user.bar"] * 5:
                tag = exchange(daemon.socket, "/1.0/config/" + key)[2]["etag"]
                sock = connect(daemon.socket)
                sock.sendall(request_bytes(held_target(key, tag)))
                selector.register(sock, selectors.EVENT_READ, [key, b""])
            up.write("ok\n")
            serve(selector, lambda key, status, body: up.write(f"{instance} {key} {time.monotonic()} {status} {body.decode()}\n"))
        elif command.startswith("timeouts"):
            selector = selectors.DefaultSelector()
            for i in range(timeouts):
                seconds = 1 + i % 2
                sock = connect(daemon.socket)
                sock.sendall(request_bytes(f"/1.0/config/user.foo?wait_for_change=true&timeout_sec={seconds}"))
                selector.register(sock, selectors.EVENT_READ, [time.monotonic() + seconds, b""])
            up.write("ok\n")
            serve(selector, lambda due, status, body: up.write(f"{instance} timeout {(time.monotonic() - due) * 1000} {status}\n"))


def serve(selector, report):
    """Reads every registered socket's one answer, reporting each as it comes whole."""
    while selector.get_map():
        for key, _ in selector.select():
            chunk = key.fileobj.recv(65536)
            key.data[1] += chunk
            parsed = parse(key.data[1])
            if parsed or not chunk:
                status, _, body, _ = parsed or (0, {}, b"", b"")
                report(key.data[0], status, body)
                selector.unregister(key.fileobj)
                key.fileobj.close()


def fan_out(daemon, instances, timeouts):
    names = [f"i{n}" for n in range(instances)]
    for name in names:
        daemon.admin("instance", "create", name, "--config", "user.foo=0", "--config", "user.bar=0")
    children = [spawn(daemon, name, fan_out_child, timeouts // instances) for name in names]

    def everyone(command):
        for _, to_child, _ in children:
            to_child.write(command + "\n")
        for _, _, from_child in children:
            from_child.readline()

    time.sleep(1)
    quiet = daemon.rss_kib()
    everyone("idle")
    time.sleep(0.5)
    idle_rss = daemon.rss_kib()
    everyone("close")
    time.sleep(1)
    before = daemon.rss_kib()
    everyone("hold")
    daemon.wait_held(instances * 10)
    time.sleep(0.5)
    holding = daemon.rss_kib()
    log(f"fan-out: {instances * 10} held requests; RSS {before} KiB -> {holding} KiB")

    set_at, answers = {}, []
    for key in ("user.bar", "user.foo"):
        for index, name in enumerate(names):
            set_at[(name, key)] = time.monotonic()
            daemon.admin("set", "--instance", name, key, "changed")
            exited = time.monotonic()
            for _ in range(5):
                answers.append(children[index][2].readline().split() + [exited])
    stray = [a for a in answers if a[1] == "user.foo" and float(a[2]) < set_at[(a[0], "user.foo")]]
    counted = {}
    for name, key, at, status, body, exited in answers:
        counted[(name, key)] = counted.get((name, key), 0) + 1
    wrong = [a for a in answers if a[3] != "200" or a[4] != "changed"]
    exact = all(counted.get((name, key)) == 5 for name in names for key in ("user.foo", "user.bar"))
    late = [(float(a[2]) - a[5]) * 1000 for a in answers]
    daemon.wait_held(0)

    everyone("timeouts")
    lateness = []
    for _, _, from_child in children:
        for _ in range(timeouts // instances):
            words = from_child.readline().split()
            lateness.append(float(words[2]))
    # Told, not closed: each later child holds the earlier ones' pipes too.
    everyone("exit")
    for pid, _, _ in children:
        os.waitpid(pid, 0)
    per_held = (holding - before) / (instances * 10)
    per_idle = (idle_rss - quiet) / (instances * 10)
    return dict(answers=len(answers), exact=exact, stray=len(stray), wrong=len(wrong), late=late,
                per_held=per_held, per_idle=per_idle, before=before, holding=holding, lateness=lateness)


def victim_child(daemon, instance, up, down):
    """Per `measure S`: GET /1.0 on one keep-alive connection for S seconds; reports the p99,
    the longest and the count."""
    sock = connect(daemon.socket)
    for command in down:
        words = command.split()
        if words[0] == "exit":
            return
        latencies, end = [], time.monotonic() + float(words[1])
        while time.monotonic() < end:
            started = time.monotonic()
            sock.sendall(request_bytes("/1.0"))
            read_response(sock)
            latencies.append((time.monotonic() - started) * 1000)
        up.write(f"{percentile(latencies, 99)} {max(latencies)} {len(latencies)}\n")


def noisy_child(daemon, instance, up, down):
    """On `hold N`: N held recursive requests, kept open. On `ask N PATH`: N connections that
    ask for PATH and never read. On `patch K`: K PATCH /1.0 in turn, Ready and Started;
    reports how long they took."""
    held = []
    for command in down:
        words = command.split()
        if words[0] == "exit":
            return
        if words[0] == "hold":
            for _ in range(int(words[1])):
                sock = connect(daemon.socket)
                sock.sendall(request_bytes("/1.0/config?recursive=true&wait_for_change=true&timeout_sec=3600"))
                held.append(sock)
            up.write("ok\n")
        elif words[0] == "ask":
            for _ in range(int(words[1])):
                sock = connect(daemon.socket)
                sock.sendall(request_bytes(words[2]))
                held.append(sock)
            up.write("ok\n")
        elif words[0] == "patch":
            sock, started = connect(daemon.socket), time.monotonic()
            for i in range(int(words[1])):
                body = '{"state":"Ready"}' if i % 2 == 0 else '{"state":"Started"}'
                sock.sendall(f"PATCH /1.0 HTTP/1.1\r\nHost: guest\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode())
                read_response(sock)
            up.write(f"{time.monotonic() - started}\n")


def fairness(daemon, holds, name, config):
    """The victim's requests quiet, then beside instance `name` (made with `config`, a list of
    `--config`/`--file` settings) holding `holds` recursive requests, sending its 100-PATCH
    burst, and then changed by the host."""
    daemon.admin("instance", "create", name, *config[0])
    for setting in config[1]:
        daemon.admin("set", "--instance", name, *setting)
    victim = spawn(daemon, "victim", victim_child)
    noisy = spawn(daemon, name, noisy_child)
    victim[1].write("measure 3\n")
    quiet_p99, quiet_max, quiet_count = map(float, victim[2].readline().split())
    noisy[1].write(f"hold {holds}\n")
    noisy[2].readline()
    daemon.wait_held(holds)
    victim[1].write("measure 3\n")
    noisy[1].write("patch 100\n")
    # Then a change that alters every held answer: each is answered, with the new listing.
    time.sleep(1)
    daemon.admin("set", "--instance", name, "user.zz", "changed")
    busy_p99, busy_max, busy_count = map(float, victim[2].readline().split())
    patch_seconds = float(noisy[2].readline())
    for pid, to_child, _ in (victim, noisy):
        to_child.write("exit\n")
        os.waitpid(pid, 0)
    daemon.wait_held(0)
    log(f"fair ({name}): victim p99 {quiet_p99:.2f} ms quiet, {busy_p99:.2f} ms beside the holds, longest {busy_max:.2f} ms")
    return dict(quiet=quiet_p99, busy=busy_p99, quiet_max=quiet_max, busy_max=busy_max, quiet_count=int(quiet_count),
                busy_count=int(busy_count), patches=patch_seconds)


def shared(daemon, holds, keys):
    """Daemon RSS before and after a change answers `holds` recursive holds that never read,
    on a listing of `keys` keys of 60 bytes (about 1.5 MB for 20,000)."""
    config = ",".join(f'"user.k{n:05}":"{"x" * 60}"' for n in range(keys))
    path = os.path.join(daemon.state, "apply.json")
    with open(path, "w") as file:
        file.write('{"instances":[' + ",".join(f'{{"name":"{name}","config":{{{config}}}}}' for name in ("asker", "listing")) + "]}")
    daemon.admin("apply", path)
    # Two instances, each with its own 256 connections.
    asker = spawn(daemon, "asker", noisy_child)
    holder = spawn(daemon, "listing", noisy_child)
    time.sleep(1)
    quiet = daemon.rss_kib()
    # Plain requests first, kept open while the holds are measured: neither reuses the other's memory.
    asker[1].write(f"ask {holds} /1.0/config?recursive=true\n")
    asker[2].readline()
    time.sleep(2)
    asked = daemon.rss_kib()
    holder[1].write(f"hold {holds}\n")
    holder[2].readline()
    daemon.wait_held(holds)
    time.sleep(1)
    before = daemon.rss_kib()
    daemon.admin("set", "--instance", "listing", "user.zz", "changed")
    daemon.wait_held(0)
    time.sleep(1)
    after = daemon.rss_kib()
    for child in (asker, holder):
        child[1].write("exit\n")
        os.waitpid(child[0], 0)
    log(f"shared: RSS {quiet} KiB, {asked} KiB with the plain requests, {before} KiB -> {after} KiB as the holds are answered")
    return quiet, asked, before, after


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=200)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--timeouts", type=int, default=200)
    parser.add_argument("--holds", type=int, default=250)
    options = parser.parse_args()
    state = tempfile.mkdtemp(prefix="guestapi-bench-watch-")
    daemon = Daemon(os.path.abspath(options.bin_dir), state)
    daemon.admin("instance", "create", "w", "--config", "user.foo=0")
    daemon.start()
    try:
        held, events, after_restart, survived = latency(daemon, options.changes, options.restarts)
        spread = fan_out(daemon, options.instances, options.timeouts)
        noise = os.path.join(state, "noise")
        with open(noise, "wb") as file:
            file.write(b"\x01" * 60_000)
        daemon.admin("instance", "create", "victim")
        fair = {
            "4 values of 60,000 control bytes": fairness(
                daemon, options.holds, "noisy", ([], [[f"user.n{n}", "--file", noise] for n in range(4)])),
            "2,000 keys of 100 bytes": fairness(
                daemon, options.holds, "many", ([f"--config=user.k{n:04}={'x' * 100}" for n in range(2000)], [])),
        }
        unread = shared(daemon, options.holds, 20_000)
    finally:
        daemon.stop()
        subprocess.run(["rm", "-rf", state])

    def ms(values):
        return f"{percentile(values, 50):.2f} / {percentile(values, 99):.2f} / {max(values):.2f}"

    checks = [
        ("held answer after `set` exits, ms (p50 / p99 / max)", ms(held), f"event on a stream: {ms(events)}", "p99 <= 10",
         percentile(held, 99) <= 10),
        (f"the same after a daemon restart ({len(after_restart)} restarts)", ms(after_restart), "-", "p99 <= 10",
         percentile(after_restart, 99) <= 10),
        ("tags that survived a restart (request held, not answered)", f"{survived} of {len(after_restart)}", "-", "all",
         survived == len(after_restart)),
        (f"held requests answered ({options.instances} instances x 10)", str(spread["answers"]), "-",
         f"{options.instances * 20 // 2} exactly once each", spread["exact"] and spread["wrong"] == 0),
        ("user.foo answers before user.foo changed", str(spread["stray"]), "-", "0", spread["stray"] == 0),
        ("fan-out answer after `set` exits, ms (p50 / p99 / max)", ms(spread["late"]), "-", "-", True),
        ("timeout answers: late by, ms (p50 / p99 / max)", ms(spread["lateness"]), "-", "max <= 100",
         max(spread["lateness"]) <= 100 and min(spread["lateness"]) >= 0),
        ("daemon RSS per held request, KiB", f"{spread['per_held']:.1f}",
         f"idle keep-alive connection: {spread['per_idle']:.1f}", "<= 16", spread["per_held"] <= 16),
    ]
    quiet, asked, before, after = unread
    checks += [
        (f"daemon RSS growth, {options.holds} connections asking a 20,000-key listing, never reading, MiB",
         f"{(asked - quiet) / 1024:.1f}", f"before: {quiet / 1024:.1f}", "<= 64", asked - quiet <= 64 * 1024),
        (f"  then {options.holds} holds on it answered by a change and never read, MiB", f"{(after - before) / 1024:.1f}", "-",
         "<= 64", after - before <= 64 * 1024),
    ]
    for listing, figures in fair.items():
        checks += [
            (f"victim GET /1.0 p99 beside {options.holds} recursive holds on {listing}, ms", f"{figures['busy']:.2f}",
             f"quiet: {figures['quiet']:.2f}", "<= quiet + 5", figures["busy"] <= figures["quiet"] + 5),
            ("  the same, longest request, ms", f"{figures['busy_max']:.2f}", f"quiet: {figures['quiet_max']:.2f}", "<= 100",
             figures["busy_max"] <= 100),
            ("  victim requests in 3 s", str(figures["busy_count"]), f"quiet: {figures['quiet_count']}", "-", True),
            ("  the holder's 100 PATCHes took, s", f"{figures['patches']:.2f}", "-", "-", True),
        ]
    print()
    print(f"watching without a WebSocket, {os.cpu_count()} cores")
    print(f"{'figure':<84} {'value':<24} {'reference':<40} target")
    for figure, value, reference, target, _ in checks:
        print(f"{figure:<84} {value:<24} {reference:<40} {target}")
    verdict = all(passed for *_, passed in checks)
    print("verdict:", "PASS" if verdict else "FAIL")
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
