#!/usr/bin/python3
"""Crash-recovery check for guestapid (run by tools/crash-test.sh).

This process is instance `c1`'s registered init, so every connection it opens is c1's.
While writer threads run `guestapi-admin` changes (each a separate process and commit),
a PATCH thread marks c1 Ready through the daemon and subscriber threads follow
`/1.0/events?since=<last id seen>` over WebSocket, the main thread kills the daemon with
SIGKILL at random points and restarts it. After each restart it checks:

  integrity   `PRAGMA integrity_check` is "ok" and journal ids are gap-free;
  journal     every CLI invocation that exited 0 is in the journal exactly once (each
              invocation's change is unique: its value, old value or device name), and
              none that failed is; every acknowledged PATCH Ready is journaled;
  events      each subscriber got the journal's guest-visible entries of its type in id
              order, each once, up to the last one it saw (duplicates, gaps).

At the end it waits until every subscriber has seen the whole journal, stops the daemon
with SIGTERM and checks everything once more, the final config included.

Needs Debian's python3 (websocket-client, python3-websocket). Prints the table on stdout
and exits 1 when any check failed.
"""
import argparse
import collections
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import websocket

INSTANCE = "c1"
SUBSCRIPTIONS = [("all", ""), ("config", "&type=config"), ("device", "&type=device")]


def log(message):
    sys.stderr.write("crash-test: %s\n" % message)
    sys.stderr.flush()


class Daemon:
    """guestapid on the state folder; stdout and stderr appended to files."""

    def __init__(self, binary, state, logs):
        self.binary, self.state, self.logs = binary, state, logs
        self.process = None
        self.starts = 0

    @property
    def socket(self):
        return os.path.join(self.state, "guestapi", "sock")

    def start(self):
        self.starts += 1
        out_path = os.path.join(self.logs, "guestapid.%d.out" % self.starts)
        with open(out_path, "wb") as out, open(os.path.join(self.logs, "guestapid.err"), "ab") as err:
            self.process = subprocess.Popen([self.binary, "--state-dir", self.state], stdout=out, stderr=err)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(out_path, "rb") as out:
                if b"serving" in out.read():
                    return
            if self.process.poll() is not None:
                raise RuntimeError("guestapid exited %s on start %d" % (self.process.returncode, self.starts))
            time.sleep(0.005)
        raise RuntimeError("guestapid did not start within 20 s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


class Writer(threading.Thread):
    """Runs `guestapi-admin` changes one after another; each is recorded with its exit status.

    Keys and devices are the thread's own, so the thread knows every old value: each
    change's journal entry is recognizable by a signature no other change has.
    """

    def __init__(self, number, count, admin, state, seed, ledger):
        super().__init__(daemon=True)
        self.number, self.count, self.admin, self.state = number, count, admin, state
        self.random = random.Random(seed)
        self.ledger = ledger
        self.values = {}     # key -> value, as committed
        self.devices = []    # devices added and not removed

    def run(self):
        for i in range(self.count):
            arguments, signature, apply = self.next_change("w%d-%d" % (self.number, i))
            result = subprocess.run([self.admin] + arguments + ["--instance", INSTANCE, "--state-dir", self.state],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if result.returncode == 0:
                apply()
            self.ledger.record(signature, result.returncode, result.stderr.decode(errors="replace").strip())

    def next_change(self, tag):
        roll = self.random.random()
        keys = ["user.w%dk%d" % (self.number, n) for n in range(20)]
        if roll < 0.10 and self.values:
            key = self.random.choice(sorted(self.values))
            old = self.values[key]
            def apply():
                del self.values[key]
            return ["unset", key], ("config", key, None, old, None), apply
        if roll < 0.17:
            name = "d" + tag
            def apply():
                self.devices.append(name)
            return ["device", "add", name, "disk", "path=/mnt/" + tag], ("device", name, "added", None, None), apply
        if roll < 0.22 and self.devices:
            name = self.devices[0]
            def apply():
                self.devices.remove(name)
            return ["device", "remove", name], ("device", name, "removed", None, None), apply
        if roll < 0.27:
            # Journaled but never sent to guests; also remakes volatile.cloud-init.instance-id.
            key, value = "cloud-init.vendor-data", "#cloud-config %s" % tag
            return ["set", key, value], ("config", key, None, None, value), lambda: None
        key, value = self.random.choice(keys), "v" + tag
        old = self.values.get(key)
        def apply():
            self.values[key] = value
        return ["set", key, value], ("config", key, None, old, value), apply


class Ledger:
    """What the writers did: each invocation's signature and whether it exited 0."""

    def __init__(self):
        self.lock = threading.Lock()
        self.committed = []
        self.failed = []

    def record(self, signature, status, stderr):
        with self.lock:
            (self.committed if status == 0 else self.failed).append((signature, stderr))

    def snapshot(self):
        with self.lock:
            return list(self.committed), list(self.failed)


class Patcher(threading.Thread):
    """PATCH /1.0 {"state":"Ready"} every few ms through the daemon; counts acknowledgements."""

    def __init__(self, socket_path):
        super().__init__(daemon=True)
        self.socket_path = socket_path
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.attempted = 0
        self.acknowledged = 0

    def run(self):
        while not self.stopping.is_set():
            with self.lock:
                self.attempted += 1
            try:
                unix = socket.socket(socket.AF_UNIX)
                unix.settimeout(10)
                unix.connect(self.socket_path)
                connection = http.client.HTTPConnection("guest")
                connection.sock = unix
                connection.request("PATCH", "/1.0", body=b'{"state":"Ready"}')
                if connection.getresponse().status == 200:
                    with self.lock:
                        self.acknowledged += 1
                connection.close()
            except OSError:
                pass
            except http.client.HTTPException:
                pass
            time.sleep(0.01)

    def counts(self):
        with self.lock:
            return self.attempted, self.acknowledged


class Subscriber(threading.Thread):
    """Follows c1's events with replay, resuming after every disconnect from the last id seen."""

    def __init__(self, socket_path, name, query):
        super().__init__(daemon=True)
        self.socket_path, self.name, self.query = socket_path, name, query
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.ids = []
        self.connects = 0
        self.errors = []

    @property
    def last(self):
        with self.lock:
            return self.ids[-1] if self.ids else 0

    def received(self):
        with self.lock:
            return list(self.ids)

    def run(self):
        while not self.stopping.is_set():
            try:
                unix = socket.socket(socket.AF_UNIX)
                unix.settimeout(5)
                unix.connect(self.socket_path)
                ws = websocket.WebSocket(skip_utf8_validation=True)
                ws.connect("ws://localhost/1.0/events?since=%d%s" % (self.last, self.query), socket=unix)
            except websocket.WebSocketBadStatusException as error:
                self.errors.append("handshake status %s" % error.status_code)
                time.sleep(0.05)
                continue
            except (OSError, websocket.WebSocketException):
                time.sleep(0.02)  # the daemon is down or not listening yet
                continue
            self.connects += 1
            ws.settimeout(0.5)
            while not self.stopping.is_set():
                try:
                    message = ws.recv()  # answers pings itself
                except websocket.WebSocketTimeoutException:
                    continue
                except (OSError, websocket.WebSocketException):
                    break
                if not isinstance(message, str) or not message:
                    continue
                try:
                    event = json.loads(message)
                    with self.lock:
                        self.ids.append(int(event["id"]))
                except (ValueError, KeyError, TypeError):
                    self.errors.append("unexpected message %r" % message[:200])
            try:
                ws.close(timeout=0.2)
            except Exception:
                pass


class Journal:
    """The database as a reader sees it (Python's sqlite3, on a connection of its own)."""

    def __init__(self, path):
        self.path = path

    def read(self):
        db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=30)
        try:
            db.execute("BEGIN")
            integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
            rows = db.execute("""
                SELECT j.id, j.kind, j.name, j.action, CAST(j.old_value AS TEXT), CAST(j.value AS TEXT)
                FROM journal j JOIN instances i ON i.id = j.instance_id WHERE i.name = ? ORDER BY j.id
                """, (INSTANCE,)).fetchall()
            count, low, high = db.execute("SELECT count(*), min(id), max(id) FROM journal").fetchone()
            config = dict(db.execute("""
                SELECT c.key, CAST(c.value AS TEXT) FROM config c JOIN instances i ON i.id = c.instance_id
                WHERE i.name = ?""", (INSTANCE,)).fetchall())
            devices = {row[0] for row in db.execute("""
                SELECT d.name FROM devices d JOIN instances i ON i.id = d.instance_id WHERE i.name = ?""", (INSTANCE,))}
            db.execute("COMMIT")
        finally:
            db.close()
        gap_free = count == 0 or high - low + 1 == count
        return integrity, gap_free, rows, config, devices


def signature(row):
    """An entry as the change that made it: set (key, old, value), unset, device add/remove."""
    _, kind, name, action, old, value = row
    if kind == "device":
        return ("device", name, action, None, None)
    if kind == "config" and value is None:
        return ("config", name, None, old, None)
    if kind == "config":
        return ("config", name, None, old if not name.startswith("cloud-init.") else None, value)
    return None


def guest_visible(row, query):
    _, kind, name, _, _, _ = row
    visible = kind == "device" or (kind == "config" and name.startswith("user."))
    wanted = {"": ("config", "device"), "&type=config": ("config",), "&type=device": ("device",)}[query]
    return visible and kind in wanted


def check_events(rows, subscriber, ids, complete):
    """(received, duplicates, gaps, out of order) for one subscriber, given the ids it had received
    before `rows` were read; `complete`: all must be there."""
    expected = [row[0] for row in rows if guest_visible(row, subscriber.query)]
    seen = collections.Counter(ids)
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    unordered = sum(1 for a, b in zip(ids, ids[1:]) if b <= a)
    horizon = max(expected) if complete and expected else (max(ids) if ids else 0)
    gaps = sum(1 for i in expected if i <= horizon and i not in seen)
    known = set(expected)
    unknown = sum(1 for i in seen if i not in known)
    return len(ids), duplicates, gaps + unknown, unordered


def verify(journal, ledger, patcher, subscribers, complete):
    """One row of the table, and the list of what failed."""
    # What was received and committed before the read must all be in it.
    received = [subscriber.received() for subscriber in subscribers]
    committed, failed = ledger.snapshot()
    _, acknowledged = patcher.counts()
    integrity, gap_free, rows, config, devices = journal.read()
    problems = []
    if integrity != ["ok"]:
        problems.append("integrity_check: %s" % "; ".join(integrity[:5]))
    if not gap_free:
        problems.append("journal ids have gaps")
    found = collections.Counter(signature(row) for row in rows)
    verified = 0
    for change, _ in committed:
        if found[change] == 1:
            verified += 1
        else:
            problems.append("committed change %r journaled %d times" % (change, found[change]))
    for change, stderr in failed:
        if found[change]:
            problems.append("failed change %r is journaled (%s)" % (change, stderr))
    ready = sum(1 for row in rows if row[1] == "lifecycle" and row[3] == "instance-ready")
    if ready < acknowledged:
        problems.append("%d PATCH Ready acknowledged, %d journaled" % (acknowledged, ready))
    if ready > patcher.counts()[0]:
        problems.append("%d PATCH Ready journaled, more than the %d sent" % (ready, patcher.counts()[0]))
    events = duplicates = gaps = unordered = 0
    for subscriber, ids in zip(subscribers, received):
        n, d, g, u = check_events(rows, subscriber, ids, complete)
        events, duplicates, gaps, unordered = events + n, duplicates + d, gaps + g, unordered + u
        if d or g or u:
            problems.append("subscriber %s: %d duplicates, %d gaps, %d out of order" % (subscriber.name, d, g, u))
        problems.extend("subscriber %s: %s" % (subscriber.name, e) for e in subscriber.errors)
    row = dict(committed=len(committed), failed=len(failed), verified=verified, ready="%d/%d" % (ready, acknowledged),
               events=events, duplicates=duplicates, gaps=gaps + unordered,
               integrity=integrity[0] if integrity == ["ok"] and gap_free else "FAILED")
    return row, problems, rows, config, devices


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--state", required=True, help="an empty folder for the state")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args()
    seed = arguments.seed if arguments.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    admin = os.path.join(arguments.bin_dir, "guestapi-admin")
    state, logs = arguments.state, os.path.dirname(arguments.state.rstrip("/"))
    log("seed %d; %d rounds, %d changes by %d writers" % (seed, arguments.rounds, arguments.changes, arguments.writers))

    subprocess.run([admin, "instance", "create", INSTANCE, "--pid", str(os.getpid()), "--state-dir", state],
                   check=True, stdout=subprocess.DEVNULL)
    daemon = Daemon(os.path.join(arguments.bin_dir, "guestapid"), state, logs)
    daemon.start()
    journal = Journal(os.path.join(state, "guestapi.db"))
    ledger = Ledger()
    subscribers = [Subscriber(daemon.socket, name, query) for name, query in SUBSCRIPTIONS]
    patcher = Patcher(daemon.socket)
    per_writer = [arguments.changes // arguments.writers + (1 if n < arguments.changes % arguments.writers else 0)
                  for n in range(arguments.writers)]
    writers = [Writer(n, count, admin, state, rng.randrange(1 << 30), ledger) for n, count in enumerate(per_writer)]
    for thread in subscribers + [patcher] + writers:
        thread.start()

    # Kill points: spread over the run by the number of changes committed, each a few ms off.
    margin = max(1, arguments.changes // (arguments.rounds * 4))
    points = sorted(rng.sample(range(margin, max(margin + arguments.rounds, arguments.changes - margin)), arguments.rounds))
    table, problems = [], []
    started = time.monotonic()
    for number, point in enumerate(points, 1):
        while len(ledger.snapshot()[0]) + len(ledger.snapshot()[1]) < point and any(w.is_alive() for w in writers):
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.05))
        daemon.kill()
        time.sleep(rng.uniform(0, 0.3))  # changes keep coming while nobody serves
        daemon.start()
        row, found, _, _, _ = verify(journal, ledger, patcher, subscribers, complete=False)
        table.append(("%d" % number, row))
        problems.extend("round %d: %s" % (number, p) for p in found)
        log("round %d: %s" % (number, row))

    for writer in writers:
        writer.join()
    patcher.stopping.set()
    patcher.join()
    # Everything is committed: every subscriber must now catch up with the whole journal.
    _, _, rows, _, _ = journal.read()
    deadline = time.monotonic() + 60
    for subscriber in subscribers:
        expected = [row[0] for row in rows if guest_visible(row, subscriber.query)]
        while expected and subscriber.last < expected[-1] and time.monotonic() < deadline:
            time.sleep(0.01)
    for subscriber in subscribers:
        subscriber.stopping.set()
    for subscriber in subscribers:
        subscriber.join()
    status = daemon.stop()
    if status != 0:
        problems.append("guestapid exited %d on SIGTERM" % status)
    row, found, _, config, devices = verify(journal, ledger, patcher, subscribers, complete=True)
    problems.extend("final: %s" % p for p in found)
    for writer in writers:
        for key in ["user.w%dk%d" % (writer.number, n) for n in range(20)]:
            if config.get(key) != writer.values.get(key):
                problems.append("final: %s is %r, last committed %r" % (key, config.get(key), writer.values.get(key)))
        if set(writer.devices) != {d for d in devices if d.startswith("dw%d-" % writer.number)}:
            problems.append("final: writer %d's devices differ from the database" % writer.number)
    table.append(("final", row))
    elapsed = time.monotonic() - started

    with open(os.path.join(logs, "guestapid.err"), "rb") as err:
        daemon_errors = [line for line in err.read().decode(errors="replace").splitlines() if " error " in line]
    print()
    print("guestapid crash test: %d kill -9 rounds, %d CLI changes, %d subscribers, seed %d, %.1f s"
          % (arguments.rounds, arguments.changes, len(subscribers), seed, elapsed))
    header = ("round", "committed", "failed", "journaled once", "ready journaled/acked", "events received",
              "duplicates", "gaps", "integrity_check")
    print("%-6s %9s %6s %14s %21s %15s %10s %5s  %s" % header)
    for label, r in table:
        print("%-6s %9d %6d %14d %21s %15d %10d %5d  %s" % (
            label, r["committed"], r["failed"], r["verified"], r["ready"], r["events"], r["duplicates"],
            r["gaps"], r["integrity"]))
    print("subscriber reconnects: %s" % ", ".join("%s %d" % (s.name, s.connects) for s in subscribers))
    print("daemon error lines: %d%s" % (len(daemon_errors), (" (first: %s)" % daemon_errors[0]) if daemon_errors else ""))
    if problems:
        print("FAILED: %d problems" % len(problems))
        for problem in problems[:30]:
            print("  " + problem)
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
