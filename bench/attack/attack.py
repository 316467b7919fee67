#!/usr/bin/env python3
"""Kith's attack set (issue 9): drives one Kith server on a loopback port with the abusive
requests an anonymous or tenant caller could send, and measures what that does to everyone
else. Started by bench/attack/run.sh, which builds, seeds and cleans up; this file owns the
server process (it restarts a server an attack left unresponsive) and the measurements.

Standard library only. Every request goes to 127.0.0.1; every loop is bounded in count and
time. It reports; it asserts nothing (the exit code is 0 unless the harness itself fails).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import select
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

CODE_RE = re.compile(rb'"code"\s*:\s*"([A-Z_]+)"')
MIB = 1 << 20


def log(message: str) -> None:
    print(f"[attack {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- sizes


@dataclass
class Sizes:
    """Everything that differs between a real run and a `--quick` smoke."""

    request_timeout: float
    fanout_levels: int
    fanout_wide_levels: int
    fanout_wide_spreads: int
    batch_operations: int
    batch_aliases: int
    batch_repeats: int
    contact_points_try: int
    amplification_workers: int
    amplification_rounds: int
    body_bytes: int
    body_clients: int
    slow_connections: int
    slow_interval: float
    slow_duration: float
    nested_workers: int
    nested_duration: float
    outage_seconds: float
    outage_after: float
    settle_timeout: float
    idle_wait: float
    rss_guard: int
    # Every window lasts at least this long, so that an attack answered in milliseconds still
    # gets probe samples and RSS readings of its aftermath.
    min_window: float


FULL = Sizes(
    request_timeout=20,
    fanout_levels=30,
    fanout_wide_levels=8,
    fanout_wide_spreads=64,
    batch_operations=100,
    batch_aliases=40,
    batch_repeats=2,
    contact_points_try=200_000,
    amplification_workers=4,
    amplification_rounds=3,
    body_bytes=300 * MIB,
    body_clients=4,
    slow_connections=500,
    slow_interval=5,
    slow_duration=30,
    nested_workers=200,
    nested_duration=20,
    outage_seconds=10,
    outage_after=3,
    settle_timeout=30,
    idle_wait=60,
    rss_guard=8 << 30,
    min_window=3,
)

QUICK = Sizes(
    request_timeout=5,
    fanout_levels=30,
    fanout_wide_levels=6,
    fanout_wide_spreads=32,
    batch_operations=20,
    batch_aliases=40,
    batch_repeats=1,
    contact_points_try=2_000,
    amplification_workers=2,
    amplification_rounds=2,
    body_bytes=20 * MIB,
    body_clients=2,
    slow_connections=50,
    slow_interval=2,
    slow_duration=12,
    nested_workers=20,
    nested_duration=4,
    outage_seconds=4,
    outage_after=1.5,
    settle_timeout=10,
    idle_wait=2,
    rss_guard=4 << 30,
    min_window=1,
)


# --------------------------------------------------------------------------- the server


class Server:
    """The Kith process under attack: started on a free loopback port, restartable."""

    def __init__(self, kith: str, log_path: str) -> None:
        self.kith = kith
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.lock = threading.Lock()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        log_file = open(self.log_path, "ab")
        start_offset = log_file.tell()
        proc = subprocess.Popen(
            [self.kith, "serve", "--bind", "127.0.0.1:0"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log_file.close()
        deadline = time.monotonic() + 60
        pattern = re.compile(r"GraphQL on http://([0-9.]+):(\d+)/graphql")
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"kith exited with {proc.returncode}; see {self.log_path}")
            with open(self.log_path, "rb") as f:
                f.seek(start_offset)
                match = pattern.search(f.read().decode("utf-8", "replace"))
            if match:
                with self.lock:
                    self.proc = proc
                    self.host, self.port = match.group(1), int(match.group(2))
                if wait_healthy(self.host, self.port, 30):
                    return
                break
            time.sleep(0.1)
        proc.kill()
        raise RuntimeError(f"kith did not start; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self, why: str) -> None:
        log(f"restarting the server: {why}")
        self.stop(signal.SIGKILL)
        self.restarts += 1
        self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def wait_healthy(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return True
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    return False


def proc_status(pid: int | None) -> tuple[int, int]:
    """(VmRSS, VmHWM) in bytes, or (0, 0) when the process is gone."""
    if pid is None:
        return 0, 0
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, hwm


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time the process has used."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def settle(server: Server, seconds: float) -> str | None:
    """Waits until the server answers /healthz and has stopped burning CPU; None when it has,
    else why not. Work the client gave up on can go on inside the server (CPU-bound
    validation cannot be cancelled), and it would distort every later measurement."""
    deadline = time.monotonic() + seconds
    if not wait_healthy(server.host, server.port, seconds):
        return f"no /healthz within {fmt_s(seconds)}"
    while time.monotonic() < deadline:
        before = cpu_seconds(server.pid)
        time.sleep(1)
        if cpu_seconds(server.pid) - before < 0.25:
            return None
    return f"still busy (CPU) {fmt_s(seconds)} after the attack"


# --------------------------------------------------------------------------- observation


@dataclass
class Window:
    """What the probe and the RSS sampler saw while one attack ran."""

    name: str
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    probe_ms: list[float] = field(default_factory=list)
    probe_failures: int = 0
    db_probe_ms: list[float] = field(default_factory=list)
    db_probe_failures: int = 0
    peak_rss: int = 0
    got: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error_log_lines: int = 0

    def count(self, label: str, n: int = 1) -> None:
        self.got[label] = self.got.get(label, 0) + n


class Observer:
    """A probe query every ~50 ms and an RSS sample every 100 ms, credited to the current window."""

    def __init__(self, server: Server, token: str, customer_id: str) -> None:
        self.server = server
        self.token = token
        self.customer_id = customer_id
        self.window: Window | None = None
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.rss_guard: int | None = None
        self.guard_tripped = threading.Event()
        me = {"query": "{ me { subject } }"}
        own = {"query": "query($id: ID!) { customer(id: $id) { name } }", "variables": {"id": customer_id}}
        self.threads = [
            threading.Thread(target=self._probe, args=(me, b'"subject"', False), daemon=True),
            # The same small read, but one that needs the database: what a tenant's app sees.
            threading.Thread(target=self._probe, args=(own, b'"name"', True), daemon=True),
            threading.Thread(target=self._sample, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def begin(self, name: str) -> Window:
        window = Window(name)
        window.peak_rss = proc_status(self.server.pid)[0]
        self.guard_tripped.clear()
        with self.lock:
            self.window = window
        return window

    def end(self, min_seconds: float = 0.0) -> Window | None:
        with self.lock:
            window = self.window
        if window is not None:
            time.sleep(max(0.0, window.started + min_seconds - time.monotonic()))
            window.peak_rss = max(window.peak_rss, proc_status(self.server.pid)[0])
        with self.lock:
            self.window = None
        if window is not None:
            window.ended = time.monotonic()
        return window

    def _probe(self, request: dict, expect: bytes, database: bool) -> None:
        body = json.dumps(request).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.token}",
        }
        conn: http.client.HTTPConnection | None = None
        conn_port = None
        while not self.stopping.is_set():
            started = time.monotonic()
            ok = False
            try:
                port = self.server.port
                if conn is None or conn_port != port:
                    if conn is not None:
                        conn.close()
                    conn = http.client.HTTPConnection(self.server.host, port, timeout=5)
                    conn_port = port
                conn.request("POST", "/graphql", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                ok = response.status == 200 and expect in payload and b'"errors"' not in payload
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            elapsed_ms = (time.monotonic() - started) * 1000
            with self.lock:
                window = self.window
            if window is not None:
                if ok:
                    (window.db_probe_ms if database else window.probe_ms).append(elapsed_ms)
                elif database:
                    window.db_probe_failures += 1
                else:
                    window.probe_failures += 1
            time.sleep(max(0.0, 0.05 - elapsed_ms / 1000))

    def _sample(self) -> None:
        while not self.stopping.is_set():
            rss, _ = proc_status(self.server.pid)
            with self.lock:
                window = self.window
            if window is not None:
                window.peak_rss = max(window.peak_rss, rss)
            # Protects the machine (and whoever shares it) from an attack that works too well.
            if self.rss_guard is not None and rss > self.rss_guard and not self.guard_tripped.is_set():
                self.guard_tripped.set()
                log(f"server RSS {rss / MIB:.0f} MiB is over the guard: killing it")
                if window is not None:
                    window.notes.append(f"RSS guard ({self.rss_guard / MIB:.0f} MiB) killed the server")
                proc = self.server.proc
                if proc is not None:
                    proc.kill()
            time.sleep(0.1)


# --------------------------------------------------------------------------- HTTP helpers


@dataclass
class Answer:
    status: int | None
    codes: list[str]
    size: int
    seconds: float
    error: str | None = None
    payload: object | None = None

    def label(self) -> str:
        if self.status is None:
            return self.error or "no answer"
        codes = sorted(set(self.codes))
        return f"{self.status} {'+'.join(codes) if codes else 'ok'}"


def error_codes(payload: object) -> list[str]:
    """`extensions.code` of every GraphQL error (and `userErrors[].code`) in a response."""
    codes: list[str] = []
    documents = payload if isinstance(payload, list) else [payload]
    for document in documents:
        if not isinstance(document, dict):
            continue
        for error in document.get("errors") or []:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            codes.append(code or "NO_CODE")
        data = document.get("data")
        if isinstance(data, dict):
            for value in data.values():
                if isinstance(value, dict):
                    for user_error in value.get("userErrors") or []:
                        codes.append(f"user:{user_error.get('code')}")
    return codes


def post(server: Server, body: bytes, token: str | None, timeout: float, keep: bool = False) -> Answer:
    """POST /graphql; reads the whole answer but keeps at most a few MiB of it."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("POST", "/graphql", body=body, headers=headers)
        response = conn.getresponse()
        head = bytearray()
        tail = b""
        size = 0
        deadline = started + timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError
            chunk = response.read(1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if len(head) < 4 * MIB:
                head.extend(chunk)
            else:
                tail = (tail + chunk)[-(1 << 16):]
        seconds = time.monotonic() - started
        payload = None
        if size <= 4 * MIB:
            try:
                payload = json.loads(head)
            except ValueError:
                payload = None
        if payload is not None:
            codes = error_codes(payload)
        else:
            codes = [m.decode() for m in CODE_RE.findall(bytes(head[:1 << 16]) + tail)]
        return Answer(response.status, codes, size, seconds, payload=payload if keep else None)
    except TimeoutError:
        return Answer(None, [], 0, time.monotonic() - started, error=f"timeout {timeout:g}s")
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, [], 0, time.monotonic() - started, error=type(exc).__name__)
    finally:
        conn.close()


def gql(query: str, variables: dict | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


# --------------------------------------------------------------------------- the attacks


class Attacks:
    def __init__(self, server: Server, observer: Observer, sizes: Sizes, tokens: dict, customer_id: str,
                 outage: dict | None) -> None:
        self.server = server
        self.observer = observer
        self.sizes = sizes
        self.tokens = tokens
        self.customer_id = customer_id
        self.outage = outage

    # a. fragment fan-out
    def fanout(self, window: Window) -> None:
        s = self.sizes
        documents = {
            f"narrow {s.fanout_levels} levels x4": fanout_document(s.fanout_levels, 4),
            f"wide {s.fanout_wide_levels} levels x{s.fanout_wide_spreads}":
                fanout_document(s.fanout_wide_levels, s.fanout_wide_spreads),
        }
        for name, document in documents.items():
            if not self.server.alive():
                self.server.restart("not running before the next fan-out variant")
            answer = post(self.server, gql(document), None, s.request_timeout)
            window.count(f"{name} ({len(document)} B): {answer.label()} in {fmt_s(answer.seconds)}")
            if answer.status is None:
                problem = settle(self.server, 5)
                if problem is not None:
                    # Without a restart the next variant (and every later attack) would measure
                    # a server with a core still busy on a request nobody waits for.
                    window.notes.append(f"{name}: {problem}, restarted")
                    self.server.restart(f"{name}: {problem}")

    # h. documents up to the body limit, each shaped against one part of parsing or validation
    def documents(self, window: Window) -> None:
        big = " ".join(f"a{i}: subject" for i in range(900))
        unused = lambda n: ("{ me { subject } } fragment B on Me { " + big + " } "
                            + " ".join(f"fragment F{i} on Me {{ ...B }}" for i in range(n)))
        documents = {
            "1 MB of fragments spreading a 900-field one": unused(33_000),
            "2,000 fragments spreading a 900-field one (70 KB)": unused(2_000),
            "a 1 MB string argument": '{ me(x: "' + "a" * 1_000_000 + '") { subject } }',
            "a 1 MB comment": "# " + "a" * 1_000_000 + "\n{ me { subject } }",
            "30,000 operations": " ".join(f"query Q{i} {{ me {{ subject }} }}" for i in range(30_000)),
            "60,000 directives on one field": "{ me { subject " + "@skip(if: false) " * 60_000 + "} }",
            "60,000 variables": "query(" + " ".join(f"$v{i}: Int" for i in range(60_000)) + ") { me { subject } }",
            "20,000 nested brackets": "{ me " * 20_000 + "}" * 20_000,
        }
        for name, document in documents.items():
            document = document[: 1_040_000]
            answer = post(self.server, gql(document), None, self.sizes.request_timeout)
            window.count(f"{name}: {answer.label()} in {fmt_s(answer.seconds)}")

    # b. batch of operations
    def batch(self, window: Window) -> None:
        s = self.sizes
        aliases = " ".join(
            f"a{i}: contacts(page: {{pageSize: 100}}) {{ items {{ id displayName }} }}" for i in range(s.batch_aliases)
        )
        operation = {"query": f"{{ {aliases} }}"}
        body = json.dumps([operation] * s.batch_operations).encode()
        window.notes.append(f"{s.batch_operations} ops x {s.batch_aliases} aliases, {len(body) / 1024:.0f} KiB, ADMIN")
        with ThreadPoolExecutor(s.batch_repeats) as pool:
            answers = list(pool.map(lambda _: post(self.server, body, self.tokens["admin"], 3 * s.request_timeout),
                                    range(s.batch_repeats)))
        for answer in answers:
            window.count(f"{answer.label()} ({answer.size / MIB:.1f} MiB in {fmt_s(answer.seconds)})")

    # c. list amplification with a CUSTOMER token
    def amplification(self, window: Window) -> None:
        s = self.sizes
        token = self.tokens["customer"]
        contact_id = None
        # The huge list first (the issue's 13 MB request), then one over the cap (TOO_MANY
        # expected) and the cap itself: the first accepted is the contact the reads aim at.
        for count in dict.fromkeys([s.contact_points_try, 51, 50]):
            points = [{"kind": "EMAIL", "value": f"p{i}@attack.example"} for i in range(count)]
            body = gql(
                "mutation($input: CreateContactInput!) { createContact(input: $input) "
                "{ contact { id } userErrors { code message } } }",
                {"input": {"customerId": self.customer_id, "subtype": "PERSON", "firstName": "Amp",
                           "lastName": f"Lifier{count}", "contactPoints": points}},
            )
            answer = post(self.server, body, token, 3 * s.request_timeout, keep=True)
            created = dig(answer.payload, "data", "createContact", "contact", "id")
            window.count(f"create with {count:,} points ({len(body) / MIB:.1f} MiB): {answer.label()}")
            if created:
                contact_id = created
                window.notes.append(f"contact with {count:,} contact points")
                break
        if contact_id is None:
            window.notes.append("no contact could be created: read phase skipped")
            return
        query = "query($id: ID!) { " + " ".join(
            f"a{i}: contact(id: $id) {{ contactPoints {{ id value kind }} }}" for i in range(20)
        ) + " }"
        body = gql(query, {"id": contact_id})

        # No new round after this, so an unbounded server cannot stretch the run for minutes.
        rounds_end = time.monotonic() + 3 * s.request_timeout

        def reader(_: int) -> list[Answer]:
            answers = []
            for _round in range(s.amplification_rounds):
                if self.observer.guard_tripped.is_set() or time.monotonic() > rounds_end:
                    break
                answers.append(post(self.server, body, token, 3 * s.request_timeout))
            return answers

        with ThreadPoolExecutor(s.amplification_workers) as pool:
            results = [a for answers in pool.map(reader, range(s.amplification_workers)) for a in answers]
        sizes = [a.size for a in results if a.status is not None]
        for answer in results:
            window.count(f"read x20 aliases: {answer.label()}")
        if sizes:
            window.notes.append(f"largest answer {max(sizes) / MIB:.1f} MiB")

    # d. huge bodies
    def bodies(self, window: Window) -> None:
        s = self.sizes
        for variant in ("content-length", "chunked"):
            with ThreadPoolExecutor(s.body_clients) as pool:
                results = list(pool.map(lambda _: self._huge_body(variant), range(s.body_clients)))
            for label, sent in results:
                window.count(f"{variant}: {label}")
            window.notes.append(
                f"{variant}: {max(sent for _, sent in results) / MIB:.0f} of {s.body_bytes / MIB:.0f} MiB sent before the answer"
            )

    def _huge_body(self, variant: str) -> tuple[str, int]:
        """Streams a `{"query":"aaaa..."}` body; stops sending once the server answers."""
        s = self.sizes
        prefix, suffix = b'{"query":"', b'"}'
        total = s.body_bytes
        filler = b"a" * (1 << 16)
        head = (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + (f"Content-Length: {total}\r\n" if variant == "content-length" else "Transfer-Encoding: chunked\r\n")
            + "\r\n"
        ).encode()
        sent = 0
        deadline = time.monotonic() + 3 * s.request_timeout
        try:
            sock = socket.create_connection((self.server.host, self.server.port), timeout=10)
        except OSError as exc:
            return f"connect failed ({type(exc).__name__})", 0
        sock.settimeout(10)
        answer = b""
        try:
            sock.sendall(head)
            remaining = total
            piece_index = 0
            while remaining > 0 and time.monotonic() < deadline:
                if piece_index == 0:
                    piece = prefix
                elif remaining <= len(suffix):
                    piece = suffix[len(suffix) - remaining:]
                else:
                    piece = filler[: min(len(filler), remaining - len(suffix))]
                piece_index += 1
                data = piece if variant == "content-length" else b"%x\r\n%s\r\n" % (len(piece), piece)
                sock.sendall(data)
                sent += len(piece)
                remaining -= len(piece)
                readable, _, _ = select_read(sock, 0)
                if readable:
                    break
            if variant == "chunked" and remaining == 0:
                sock.sendall(b"0\r\n\r\n")
            answer = read_http_answer(sock, max(1.0, deadline - time.monotonic()))
        except OSError as exc:
            try:
                answer = read_http_answer(sock, 2)
            except OSError:
                answer = b""
            if not answer:
                return f"connection {type(exc).__name__}", sent
        finally:
            sock.close()
        if not answer:
            return ("timeout" if time.monotonic() >= deadline else "closed without an answer"), sent
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "?"
        codes = sorted({m.decode() for m in CODE_RE.findall(answer)})
        return f"{status} {'+'.join(codes) if codes else ''}".strip(), sent

    # e. slow headers
    def slow_connections(self, window: Window) -> None:
        s = self.sizes
        selector = selectors.DefaultSelector()
        started = time.monotonic()
        sockets: dict[socket.socket, dict] = {}
        connect_failures = 0
        for i in range(s.slow_connections):
            try:
                sock = socket.create_connection((self.server.host, self.server.port), timeout=2)
                sock.setblocking(False)
                sock.send(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-{i}: 0\r\n".encode())
            except OSError:
                connect_failures += 1
                continue
            sockets[sock] = {"closed_at": None, "status": None, "lines": 1}
            selector.register(sock, selectors.EVENT_READ)
        window.notes.append(f"{len(sockets)} opened in {fmt_s(time.monotonic() - started)}")
        next_line = time.monotonic() + s.slow_interval
        end = started + s.slow_duration
        while time.monotonic() < end and any(v["closed_at"] is None for v in sockets.values()):
            timeout = max(0.0, min(next_line, end) - time.monotonic())
            for key, _ in selector.select(timeout):
                sock = key.fileobj
                state = sockets[sock]
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if data and state["status"] is None and data.startswith(b"HTTP/"):
                    state["status"] = data.split(b" ", 2)[1].decode()
                if not data:
                    state["closed_at"] = time.monotonic() - started
                    selector.unregister(sock)
            if time.monotonic() >= next_line:
                next_line += s.slow_interval
                for sock, state in sockets.items():
                    if state["closed_at"] is None:
                        try:
                            sock.send(f"X-Slow-Line-{state['lines']}: 1\r\n".encode())
                            state["lines"] += 1
                        except OSError:
                            state["closed_at"] = time.monotonic() - started
                            selector.unregister(sock)
        closed = [v for v in sockets.values() if v["closed_at"] is not None]
        still_open = len(sockets) - len(closed)
        if connect_failures:
            window.count("connect failed", connect_failures)
        if still_open:
            window.count(f"still open after {fmt_s(s.slow_duration)}", still_open)
        if closed:
            by_status: dict[str, list[float]] = {}
            for v in closed:
                by_status.setdefault(v["status"] or "no answer", []).append(v["closed_at"])
            for status, times in by_status.items():
                window.count(f"closed by server ({status}) after ~{fmt_s(statistics.median(times))}", len(times))
        for sock in sockets:
            sock.close()
        selector.close()

    # f. concurrent nested queries
    def nested(self, window: Window) -> None:
        s = self.sizes
        body = b""
        # The issue's page of 50 may be refused outright by the cost model, which attacks
        # nothing; then the largest page it accepts still loads the pool and the loaders.
        for page_size in (50, 20, 10, 5, 2, 1):
            body = gql(
                f"{{ customers(page: {{pageSize: {page_size}}}) {{ items {{ name accounts {{ name contacts {{ "
                "displayName contactPoints { kind value } } } } } }"
            )
            answer = post(self.server, body, self.tokens["admin"], 3 * s.request_timeout)
            if "QUERY_TOO_COMPLEX" not in answer.codes:
                break
            window.notes.append(f"pageSize {page_size}: {answer.label()}")
        window.notes.append(f"attacked with pageSize {page_size}")
        end = time.monotonic() + s.nested_duration
        lock = threading.Lock()
        latencies: list[float] = []

        def worker(_: int) -> None:
            # Bounded by time and count: at most 1000 requests per worker.
            for _i in range(1000):
                if time.monotonic() >= end:
                    return
                answer = post(self.server, body, self.tokens["admin"], 3 * s.request_timeout)
                with lock:
                    window.count(answer.label())
                    if answer.status is not None:
                        latencies.append(answer.seconds * 1000)

        with ThreadPoolExecutor(s.nested_workers) as pool:
            list(pool.map(worker, range(s.nested_workers)))
        if latencies:
            window.notes.append(f"attacker p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms")

    # g. database outage
    def outage_attack(self, window: Window) -> None:
        s = self.sizes
        assert self.outage is not None
        body = gql("query($id: ID!) { customer(id: $id) { name } }", {"id": self.customer_id})
        token = self.tokens["customer"]
        phases = {"before": [], "down": [], "after": []}
        phase = ["before"]
        stop = threading.Event()
        lock = threading.Lock()

        def load(_: int) -> None:
            for _i in range(100_000):
                if stop.is_set():
                    return
                current = phase[0]
                answer = post(self.server, body, token, 30)
                ok = answer.status == 200 and not answer.codes
                with lock:
                    phases[current].append((time.monotonic(), ok, answer.seconds, answer.label()))
                time.sleep(0.05)

        ready: list[tuple[str, float, str]] = []

        def readyz(label: str) -> None:
            started = time.monotonic()
            try:
                conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=15)
                conn.request("GET", "/readyz")
                status = str(conn.getresponse().status)
                conn.close()
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            ready.append((label, time.monotonic() - started, status))

        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(load, i) for i in range(4)]
            time.sleep(s.outage_after)
            # A request is credited to the phase in which it was sent.
            phase[0] = "down"
            subprocess.run(self.outage["stop"], shell=True, check=True, capture_output=True)
            stopped_at = time.monotonic()
            time.sleep(1)
            readyz("down")
            time.sleep(max(0.0, s.outage_seconds - (time.monotonic() - stopped_at)))
            subprocess.run(self.outage["start"], shell=True, check=True, capture_output=True)
            phase[0] = "after"
            restarted_at = time.monotonic()
            time.sleep(s.outage_after + 2)
            readyz("after")
            stop.set()
            for future in futures:
                future.result()
        for name, rows in phases.items():
            labels: dict[str, int] = {}
            for _t, _ok, _secs, label in rows:
                labels[label] = labels.get(label, 0) + 1
            for label, n in labels.items():
                window.count(f"{name}: {label}", n)
            if rows:
                lat = [secs * 1000 for _t, _ok, secs, _l in rows]
                window.notes.append(f"{name}: {len(rows)} answers, p50 {percentile(lat, 50):.0f} ms, max {max(lat):.0f} ms")
        recovered = [t for t, ok, _s, _l in phases["after"] if ok]
        window.notes.append(
            f"first good answer {fmt_s(min(recovered) - restarted_at)} after PostgreSQL came back"
            if recovered else "no good answer after PostgreSQL came back"
        )
        for label, secs, status in ready:
            window.notes.append(f"/readyz {label}: {status} in {fmt_s(secs)}")


# --------------------------------------------------------------------------- small helpers


def fanout_document(levels: int, spreads: int) -> str:
    parts = [f"{{ me {{ ...F{levels} }} }}", "fragment F0 on Me { subject }"]
    for level in range(1, levels + 1):
        parts.append(f"fragment F{level} on Me {{ {' '.join([f'...F{level - 1}'] * spreads)} }}")
    return " ".join(parts)


def select_read(sock: socket.socket, timeout: float):
    return select.select([sock], [], [], timeout)


def read_http_answer(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < 1 << 16:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                match = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if match and len(rest) >= int(match.group(1)):
                    break
                if b"transfer-encoding: chunked" in head.lower() and rest.endswith(b"0\r\n\r\n"):
                    break
    except (TimeoutError, socket.timeout):
        pass
    return data


def dig(value: object, *path: str) -> object:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def fmt_mib(value: int) -> str:
    return f"{value / MIB:.0f} MiB"


def count_error_lines(path: str, offset: int) -> tuple[int, int]:
    """ERROR lines written to the server log since `offset`, and the new offset."""
    count = 0
    with open(path, "rb") as f:
        f.seek(offset)
        for line in f:
            if b"ERROR" in line:
                count += 1
        return count, f.tell()


# --------------------------------------------------------------------------- main


def mint(kith: str, *args: str) -> str:
    return subprocess.run([kith, "token", "--ttl", "2h", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kith", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--build-label", default="")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL

    # Enough descriptors for 500 slow connections plus the rest.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))

    outage = None
    if os.environ.get("KITH_ATTACK_PG_STOP"):
        outage = {"stop": os.environ["KITH_ATTACK_PG_STOP"], "start": os.environ["KITH_ATTACK_PG_START"]}

    server = Server(args.kith, args.log)
    server.start()
    admin = mint(args.kith, "--role", "ADMIN", "--sub", "attack-admin")
    first = post(server, gql("{ customers(page: {pageSize: 1}) { items { id } } }"), admin, 30, keep=True)
    items = dig(first.payload, "data", "customers", "items")
    if not items:
        log(f"could not read a customer: {first.label()}")
        server.stop()
        return 1
    customer_id = items[0]["id"]
    tokens = {
        "admin": admin,
        "customer": mint(args.kith, "--role", "CUSTOMER", "--customer", customer_id, "--sub", "attack-tenant"),
    }

    observer = Observer(server, tokens["customer"], customer_id)
    observer.rss_guard = sizes.rss_guard
    observer.start()
    attacks = Attacks(server, observer, sizes, tokens, customer_id, outage)
    plan = [
        ("a. fragment fan-out (anonymous)", attacks.fanout),
        ("b. batch of operations (ADMIN)", attacks.batch),
        ("c. list amplification (CUSTOMER)", attacks.amplification),
        ("d. huge bodies (anonymous)", attacks.bodies),
        ("e. slow header trickle", attacks.slow_connections),
        ("f. concurrent nested queries (ADMIN)", attacks.nested),
        ("h. documents up to the body limit (anonymous)", attacks.documents),
    ]
    if outage is not None:
        plan.append(("g. PostgreSQL outage", attacks.outage_attack))

    windows: list[Window] = []
    log_offset = os.path.getsize(args.log)
    baseline = observer.begin("idle before")
    time.sleep(2)
    observer.end()
    windows.append(baseline)
    for name, attack in plan:
        log(f"{name} ...")
        window = observer.begin(name)
        try:
            attack(window)
        except Exception as exc:  # an attack that breaks must not hide the others' figures
            window.notes.append(f"harness error: {type(exc).__name__}: {exc}")
        observer.end(sizes.min_window)
        errors, log_offset = count_error_lines(args.log, log_offset)
        window.error_log_lines = errors
        if not server.alive():
            code = server.proc.returncode if server.proc else None
            window.notes.append(f"server died (exit {code}), restarted")
            server.restart("it died")
        elif (problem := settle(server, sizes.settle_timeout)) is not None:
            window.notes.append(f"{problem}, restarted")
            server.restart(problem)
        windows.append(window)
        time.sleep(0.5 if args.quick else 2)

    log(f"waiting {sizes.idle_wait:g} s for idle RSS ...")
    time.sleep(sizes.idle_wait)
    idle_rss, hwm = proc_status(server.pid)
    observer.close()
    server.stop()

    print_report(windows, idle_rss, hwm, sizes, args, server.restarts)
    return 0


def print_report(windows: list[Window], idle_rss: int, hwm: int, sizes: Sizes, args, restarts: int) -> None:
    print()
    print(f"# Kith attack set: {args.database}, {args.build_label}, {os.cpu_count()} cores, "
          f"{'quick' if args.quick else 'full'} sizes, {time.strftime('%Y-%m-%d', time.gmtime())}")
    print()
    print("| attack | duration | what the attacker got | peak RSS | `me` p50 / p99 | `me` failed | `customer(id)` p50 / p99 | `customer(id)` failed | ERROR log lines |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in windows:
        got = "; ".join(f"{label} x{n}" if n > 1 else label for label, n in w.got.items()) or "-"
        def pct(samples: list[float]) -> str:
            if not samples:
                return "-"
            return f"{percentile(samples, 50):.1f} / {percentile(samples, 99):.1f} ms"
        duration = fmt_s((w.ended or time.monotonic()) - w.started)
        print(f"| {w.name} | {duration} | {got} | {fmt_mib(w.peak_rss)} | {pct(w.probe_ms)} | "
              f"{w.probe_failures} of {w.probe_failures + len(w.probe_ms)} | {pct(w.db_probe_ms)} | "
              f"{w.db_probe_failures} of {w.db_probe_failures + len(w.db_probe_ms)} | {w.error_log_lines} |")
    print()
    for w in windows:
        for note in w.notes:
            print(f"- {w.name}: {note}")
    print()
    wait = f"{sizes.idle_wait:g} s"
    print(f"idle RSS {wait} after the last attack: {fmt_mib(idle_rss)} (VmHWM of that process: {fmt_mib(hwm)}; "
          f"server restarts during the run: {restarts})")
    print("goals (issue 9): peak RSS <= 300 MB, probe p99 <= 50 ms during each attack, idle RSS < 60 MB")


if __name__ == "__main__":
    sys.exit(main())
