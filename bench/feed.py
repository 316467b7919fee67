#!/usr/bin/env python3
"""Subscription fan-out: how fast, how completely and at what memory cost Kith delivers
`customerChanged` events to many WebSocket subscribers while customers are being written.

N subscribers connect to `/graphql` over graphql-transport-ws, each with a CUSTOMER token of
its own (a distinct `sub`, so one connection per token string) for one customer (subscriber
i watches customer i % C of the first C customers of the root list), and subscribe to
`customerChanged` for it. Then an ADMIN client sends `updateCustomer` over HTTP at an even
rate, round robin over the C customers, each setting the name to a unique marker
(`feed-<run>-<seq>`). Every subscriber records the receive time of each event and the
marker it carries (the `name` change's newValue); latency is that time minus the moment the
write's POST was sent (both `time.monotonic()`, one clock for the whole process).

Before the measured writes, one warm-up write per customer (repeated for customers whose
subscribers have not all seen theirs, for up to 15 s) proves that every subscription is
live: the protocol has no "subscribed" acknowledgement, and a write that commits before the
server has registered a subscription is, rightly, not delivered to it.

Prints subscribers connected, writes sent and failed, deliveries expected, received,
missing and duplicated, latency percentiles, events delivered per second and, with --pid,
the server's resident memory (VmRSS before the subscribers connect, the peak sampled every
0.5 s while they are connected and written to, VmHWM, and VmRSS after they have gone).
Exits 1 when a subscriber never got `connection_ack`, a write failed, or a delivery is
missing, duplicated or reached a subscriber of another customer, so that --smoke is a
real check; the figures themselves assert nothing.

Needs the `websockets` package (15 or later); bench/feed.sh sets up a venv with it, a
seeded database and a server, and passes --secret and --pid.

    bench/feed.py --secret S --pid P                        # 1000 subscribers, 100 customers, 100 writes/s, 30 s
    bench/feed.py --secret S --smoke                        # 20 subscribers, 5 customers, 10 writes/s, 5 s
    bench/feed.py --secret S --subscribers 200 --rate 50 --duration 10 --url http://127.0.0.1:8081
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import resource
import secrets
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

try:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed
except ImportError:  # pragma: no cover - an environment problem, said plainly
    sys.exit("bench/feed.py needs the websockets package, 15 or later (pip install 'websockets>=15'); bench/feed.sh installs it")

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = (
    "subscription($id: ID!) { customerChanged(customerId: $id) { change { id action objectType "
    "objectId trackingId changes { field oldValue newValue } } customer { id name } } }"
)
MUTATION = (
    "mutation($id: ID!, $name: String!) { updateCustomer(id: $id, input: {name: $name}) "
    "{ customer { id } userErrors { message } } }"
)
CUSTOMERS = "query($n: Int) { customers(page: {pageSize: 100, pageNumber: $n}) { items { id name } } }"
STRAGGLER_WAIT = 5.0
WARMUP_LIMIT = 15.0
ACK_TIMEOUT = 15.0
# An HTTP connection idle longer than this is replaced before a write rather than reused: the
# server drops idle keep-alive connections, and a write is never retried (a retried
# updateCustomer could commit twice and look like a duplicate delivery).
HTTP_IDLE_REUSE = 4.0


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(secret: str, claims: dict) -> str:
    """An HS256 JWT for `claims`."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def token(secret: str, sub: str, roles: list[str], customers: list[str] | None, ttl: int) -> str:
    now = int(time.time())
    claims: dict = {"sub": sub, "iat": now, "exp": now + ttl, "roles": roles}
    if customers is not None:
        claims["customers"] = customers
    return sign(secret, claims)


class Http:
    """GraphQL POSTs over keep-alive HTTP/1.1 connections, one per executor thread."""

    def __init__(self, url: str, bearer: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http":
            raise SystemExit(f"--url must be http://host:port (got {url})")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path.rstrip("/") + "/graphql"
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is not None and time.monotonic() - self.local.used > HTTP_IDLE_REUSE:
            conn.close()
            conn = None
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.local.conn = conn
        return conn

    def post(self, query: str, variables: dict, sent: list | None = None, slot: int = 0) -> dict:
        """POST one operation; the moment the request goes out is stored in sent[slot]."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        conn = self._connection()
        try:
            if sent is not None:
                sent[slot] = time.monotonic()
            conn.request("POST", self.path, body, self.headers)
            response = conn.getresponse()
            data = response.read()
            self.local.used = time.monotonic()
        except Exception:
            conn.close()
            self.local.conn = None
            raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        return json.loads(data)


def write(http_client: Http, customer: str, name: str, sent: list | None, slot: int) -> str | None:
    """Rename `customer`; None when it worked, else why not."""
    try:
        answer = http_client.post(MUTATION, {"id": customer, "name": name}, sent, slot)
    except Exception as error:  # noqa: BLE001 - every failure is counted and shown
        return f"{type(error).__name__}: {error}"
    if answer.get("errors"):
        return f"errors: {json.dumps(answer['errors'])[:300]}"
    payload = (answer.get("data") or {}).get("updateCustomer") or {}
    if payload.get("userErrors"):
        return f"userErrors: {json.dumps(payload['userErrors'])[:300]}"
    if not payload.get("customer"):
        return f"no customer in the answer: {json.dumps(answer)[:300]}"
    return None


@dataclass
class Subscriber:
    index: int
    customer: int  # index into the customer list
    acked: bool = False
    warm: bool = False
    failure: str | None = None  # why it never got connection_ack
    closed: str | None = None  # close code and reason, if the server closed it during the run
    events: list = field(default_factory=list)  # (receive time, seq) of measured markers
    foreign: int = 0  # events with a marker of another run or no name change
    protocol_errors: list = field(default_factory=list)  # `error`, `complete`, `next` with errors
    ws: object = None


def marker_of(message: dict) -> str | None:
    try:
        changes = message["payload"]["data"]["customerChanged"]["change"]["changes"]
    except (KeyError, TypeError):
        return None
    for change in changes or []:
        if change.get("field") == "name":
            return change.get("newValue")
    return None


def close_text(error: ConnectionClosed) -> str:
    frame = error.rcvd
    if frame is None:
        return "connection lost without a close frame"
    return f"closed {frame.code} {frame.reason!r}"


async def subscriber_task(sub: Subscriber, *args) -> None:
    try:
        await _subscriber(sub, *args)
    except Exception as error:  # noqa: BLE001 - shown, never silently lost
        text = f"{type(error).__name__}: {error}"
        if sub.acked:
            sub.closed = f"client error {text}"
        else:
            sub.failure = text


async def _subscriber(sub: Subscriber, ws_url: str, bearer: str, customer_id: str,
                      gate: asyncio.Semaphore, prefix: str, warm_prefix: str) -> None:
    async with gate:
        try:
            ws = await connect(
                ws_url,
                subprotocols=[PROTOCOL],
                compression=None,
                ping_interval=None,  # the protocol's own pings keep it alive
                open_timeout=30,
                close_timeout=5,
                max_size=2**22,
                proxy=None,
            )
        except Exception as error:  # noqa: BLE001
            sub.failure = f"connect: {type(error).__name__}: {error}"
            return
        sub.ws = ws
        try:
            if ws.subprotocol != PROTOCOL:
                sub.failure = f"the server chose subprotocol {ws.subprotocol!r}"
                await ws.close()
                return
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}
            await ws.send(json.dumps(init))
            raw = await asyncio.wait_for(ws.recv(), ACK_TIMEOUT)
            message = json.loads(raw)
            if message.get("type") != "connection_ack":
                sub.failure = f"expected connection_ack, got {str(raw)[:200]}"
                await ws.close()
                return
            sub.acked = True
            subscribe = {"id": "1", "type": "subscribe",
                         "payload": {"query": SUBSCRIPTION, "variables": {"id": customer_id}}}
            await ws.send(json.dumps(subscribe))
        except ConnectionClosed as error:
            sub.failure = f"{close_text(error)} before connection_ack"
            return
        except (asyncio.TimeoutError, TimeoutError):
            sub.failure = f"no connection_ack within {ACK_TIMEOUT:.0f} s"
            await ws.close()
            return
    # Connected and subscribed: record until the connection ends.
    prefix_len = len(prefix)
    try:
        async for raw in ws:
            received = time.monotonic()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next":
                if message.get("payload", {}).get("errors"):
                    sub.protocol_errors.append(str(raw)[:300])
                marker = marker_of(message)
                if marker is None:
                    sub.foreign += 1
                elif marker.startswith(warm_prefix):
                    sub.warm = True
                elif marker.startswith(prefix) and marker[prefix_len:].isdigit():
                    sub.events.append((received, int(marker[prefix_len:])))
                else:
                    sub.foreign += 1
            elif kind == "ping":
                await ws.send('{"type":"pong"}')
            elif kind == "pong":
                pass
            else:  # error, complete, anything else
                sub.protocol_errors.append(str(raw)[:300])
    except ConnectionClosed as error:
        sub.closed = close_text(error)


class Memory:
    """VmRSS and VmHWM of a process, and the peak VmRSS sampled every 0.5 s while running."""

    def __init__(self, pid: int | None):
        self.pid = pid
        self.peak = 0
        self.task: asyncio.Task | None = None

    def read(self) -> dict[str, int]:
        values = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) * 1024
        return values

    async def _sample(self) -> None:
        while True:
            try:
                self.peak = max(self.peak, self.read()["VmRSS"])
            except (OSError, KeyError):
                pass
            await asyncio.sleep(0.5)

    def start(self) -> None:
        if self.pid:
            self.task = asyncio.create_task(self._sample())

    async def stop(self) -> None:
        if self.task:
            self.peak = max(self.peak, self.read()["VmRSS"])
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (hard, 1_048_576, 65_536):
        if target == resource.RLIM_INFINITY or target <= soft:
            continue
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            continue
    return soft


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="server base URL (default %(default)s)")
    parser.add_argument("--secret", required=True, help="the server's JWT_SECRET (HS256)")
    parser.add_argument("--subscribers", type=int, help="WebSocket subscribers (default 1000; --smoke 20)")
    parser.add_argument("--customers", type=int, help="distinct customers watched (default 100; --smoke 5)")
    parser.add_argument("--rate", type=float, help="writes per second (default 100; --smoke 10)")
    parser.add_argument("--duration", type=float, help="seconds of writes (default 30; --smoke 5)")
    parser.add_argument("--pid", type=int, help="the server's pid, to read its memory from /proc")
    parser.add_argument("--connect-concurrency", type=int, default=50,
                        help="handshakes in flight at once (default %(default)s)")
    parser.add_argument("--http-threads", type=int, default=16,
                        help="concurrent write POSTs at most (default %(default)s)")
    parser.add_argument("--smoke", action="store_true", help="20 subscribers, 5 customers, 10 writes/s, 5 s")
    args = parser.parse_args()
    defaults = (20, 5, 10.0, 5.0) if args.smoke else (1000, 100, 100.0, 30.0)
    for name, default in zip(("subscribers", "customers", "rate", "duration"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.subscribers < 1 or args.customers < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("--subscribers, --customers, --rate and --duration must be positive")
    if args.customers > args.subscribers:
        parser.error("--customers cannot exceed --subscribers (a watched customer needs a subscriber)")
    return args


def fetch_customers(http_client: Http, count: int) -> list[str]:
    ids: list[str] = []
    page = 1
    while len(ids) < count:
        try:
            answer = http_client.post(CUSTOMERS, {"n": page})
        except Exception as error:  # noqa: BLE001
            raise SystemExit(f"feed.py: listing customers as ADMIN failed (is --secret the server's JWT_SECRET?): "
                             f"{type(error).__name__}: {error}") from None
        if answer.get("errors"):
            raise SystemExit(f"customers query failed: {json.dumps(answer['errors'])[:500]}")
        items = answer["data"]["customers"]["items"]
        ids.extend(item["id"] for item in items)
        if len(items) < 100:
            break
        page += 1
    if len(ids) < count:
        raise SystemExit(f"--customers {count}, but the database has only {len(ids)} customers")
    return ids[:count]


async def main() -> int:
    args = parse_args()
    fd_limit = raise_fd_limit()
    if fd_limit < args.subscribers + 64:
        print(f"warning: RLIMIT_NOFILE is {fd_limit}, low for {args.subscribers} connections", file=sys.stderr)
    run = secrets.token_hex(3)
    prefix = f"feed-{run}-"
    warm_prefix = f"feed-{run}-w"
    base = args.url.rstrip("/")
    parts = urllib.parse.urlsplit(base)
    ws_url = urllib.parse.urlunsplit(("ws", parts.netloc, parts.path + "/graphql", "", ""))
    ttl = int(args.duration) + 3600

    admin = Http(base, token(args.secret, f"feed-admin-{run}", ["ADMIN"], None, ttl))
    customer_ids = fetch_customers(admin, args.customers)
    subscribers = [Subscriber(i, i % args.customers) for i in range(args.subscribers)]
    per_customer = [0] * args.customers
    for sub in subscribers:
        per_customer[sub.customer] += 1
    total_writes = max(1, round(args.rate * args.duration))

    print(f"feed {run}: {args.subscribers} subscribers on {args.customers} customers "
          f"({args.subscribers / args.customers:g} each), {args.rate:g} writes/s for {args.duration:g} s "
          f"({total_writes} writes), {ws_url}")

    memory = Memory(args.pid)
    before = memory.read() if args.pid else {}
    memory.start()

    # Connect and subscribe, at most --connect-concurrency handshakes at a time.
    gate = asyncio.Semaphore(args.connect_concurrency)
    started = time.monotonic()
    tasks = [
        asyncio.create_task(subscriber_task(
            sub, ws_url,
            token(args.secret, f"feed-{run}-sub-{sub.index}", ["CUSTOMER"], [customer_ids[sub.customer]], ttl),
            customer_ids[sub.customer], gate, prefix, warm_prefix))
        for sub in subscribers
    ]
    while any(not sub.acked and sub.failure is None and not task.done()
              for sub, task in zip(subscribers, tasks)):
        await asyncio.sleep(0.05)
    for sub in subscribers:
        if not sub.acked and sub.failure is None:
            sub.failure = "ended before connection_ack"
    connect_seconds = time.monotonic() - started
    acked = [sub for sub in subscribers if sub.acked]
    print(f"subscribers connected (connection_ack): {len(acked)} / {args.subscribers} in {connect_seconds:.1f} s")
    failures: dict[str, int] = {}
    for sub in subscribers:
        if sub.failure:
            failures[sub.failure] = failures.get(sub.failure, 0) + 1
    for why, count in sorted(failures.items(), key=lambda item: -item[1])[:10]:
        print(f"  not connected x{count}: {why}")

    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=args.http_threads)

    # Warm-up: every subscription live before the measured writes.
    warm_started = time.monotonic()
    warm_round = 0
    while True:
        cold = sorted({sub.customer for sub in acked if not sub.warm and not sub.closed})
        if not cold or time.monotonic() - warm_started > WARMUP_LIMIT:
            break
        results = await asyncio.gather(*(
            loop.run_in_executor(pool, write, admin, customer_ids[c], f"{warm_prefix}{warm_round}-{c}", None, 0)
            for c in cold
        ))
        for why in {r for r in results if r}:
            print(f"  warm-up write failed: {why}")
        round_started = time.monotonic()
        while time.monotonic() - round_started < 1.0:
            if all(sub.warm or sub.closed for sub in acked if sub.customer in cold):
                break
            await asyncio.sleep(0.02)
        warm_round += 1
    warm = sum(sub.warm for sub in acked)
    print(f"subscriptions live before the writes: {warm} / {len(acked)} "
          f"({time.monotonic() - warm_started:.1f} s, {warm_round} warm-up round(s))")

    # Measured writes, paced evenly, round robin over the customers.
    sent: list[float | None] = [None] * total_writes
    results: list[str | None] = [None] * total_writes
    pending = []
    writes_started = time.monotonic()

    async def one(seq: int) -> None:
        customer = seq % args.customers
        results[seq] = await loop.run_in_executor(
            pool, write, admin, customer_ids[customer], f"{prefix}{seq}", sent, seq)

    for seq in range(total_writes):
        delay = writes_started + seq / args.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(seq)))
    await asyncio.gather(*pending)
    writes_done = time.monotonic()
    ok = [seq for seq in range(total_writes) if results[seq] is None]
    failed = total_writes - len(ok)
    lags = [sent[seq] - (writes_started + seq / args.rate) for seq in range(total_writes) if sent[seq] is not None]

    # Expected deliveries: every successful write, to every connected subscriber of its customer.
    live_per_customer = [0] * args.customers
    for sub in acked:
        live_per_customer[sub.customer] += 1
    expected = sum(live_per_customer[seq % args.customers] for seq in ok)

    def received_count() -> int:
        return sum(len(sub.events) for sub in acked)

    deadline = writes_done + STRAGGLER_WAIT
    while received_count() < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    waited = time.monotonic() - writes_done
    await memory.stop()

    # Close every connection, then read the memory once the server has let them go.
    closed_early = [sub.closed for sub in acked if sub.closed]
    await asyncio.gather(*(sub.ws.close() for sub in acked if sub.ws is not None), return_exceptions=True)
    await asyncio.wait(tasks, timeout=10)
    for task in tasks:
        task.cancel()
    pool.shutdown(wait=False)
    after = {}
    if args.pid:
        await asyncio.sleep(1.0)
        after = memory.read()

    # Tally.
    ok_set = set(ok)
    received = 0
    missing = 0
    duplicates = 0
    wrong_customer = 0
    late_or_unknown = 0
    latencies: list[float] = []
    last_receive = writes_started
    for sub in acked:
        seen: dict[int, int] = {}
        for received_at, seq in sub.events:
            if seq >= total_writes:
                late_or_unknown += 1
                continue
            if seq % args.customers != sub.customer:
                wrong_customer += 1
                continue
            seen[seq] = seen.get(seq, 0) + 1
            if seen[seq] > 1:
                duplicates += 1
                continue
            if seq not in ok_set:
                late_or_unknown += 1  # a write that reported failure but committed
                continue
            received += 1
            latencies.append((received_at - sent[seq]) * 1000)
            last_receive = max(last_receive, received_at)
        missing += sum(1 for seq in ok if seq % args.customers == sub.customer and seq not in seen)
    latencies.sort()
    window = last_receive - writes_started
    protocol_errors = [e for sub in acked for e in sub.protocol_errors]
    foreign = sum(sub.foreign for sub in acked)

    print(f"writes sent: {total_writes} (failed {failed}), {total_writes / (writes_done - writes_started):.1f}/s "
          f"over {writes_done - writes_started:.1f} s; send lag behind schedule p99 "
          f"{percentile(sorted(lags), 99) * 1000:.1f} ms, max {max(lags, default=0) * 1000:.1f} ms")
    for why in sorted({r for r in results if r})[:5]:
        print(f"  write failed: {why}")
    print(f"deliveries expected: {expected} ({expected / len(ok) if ok else 0:g} per write: "
          f"every connected subscriber of the written customer)")
    print(f"deliveries received: {received} (waited {waited:.1f} s after the last write)")
    print(f"missing: {missing}")
    print(f"duplicates: {duplicates}")
    print(f"to a subscriber of another customer: {wrong_customer}")
    if late_or_unknown or foreign:
        print(f"other events: {late_or_unknown} for failed writes, {foreign} without this run's marker")
    if protocol_errors:
        print(f"error/complete messages: {len(protocol_errors)}, e.g. {protocol_errors[0]}")
    if closed_early:
        codes: dict[str, int] = {}
        for why in closed_early:
            codes[why] = codes.get(why, 0) + 1
        print("closed by the server during the run: " + "; ".join(f"{n} x {why}" for why, n in codes.items()))
    if latencies:
        print(f"latency ms: p50 {percentile(latencies, 50):.1f}  p90 {percentile(latencies, 90):.1f}  "
              f"p99 {percentile(latencies, 99):.1f}  max {latencies[-1]:.1f}")
    else:
        print("latency ms: no deliveries")
    print(f"events delivered per second: {received / window if window > 0 else 0:.0f} "
          f"(first write sent to last delivery, {window:.1f} s)")
    if args.pid:
        print(f"server RSS MiB: before {mib(before['VmRSS'])} / peak {mib(memory.peak)} "
              f"(VmHWM {mib(before['VmHWM'])} before, {mib(after['VmHWM'])} after) / after {mib(after['VmRSS'])}")

    problems = []
    if len(acked) < args.subscribers:
        problems.append(f"{args.subscribers - len(acked)} subscribers without connection_ack")
    if failed:
        problems.append(f"{failed} writes failed")
    if missing:
        problems.append(f"{missing} deliveries missing")
    if duplicates:
        problems.append(f"{duplicates} duplicate deliveries")
    if wrong_customer:
        problems.append(f"{wrong_customer} deliveries to another customer's subscriber")
    if problems:
        print("FAILED: " + ", ".join(problems))
        return 1
    print("OK: every write reached every subscriber of its customer exactly once")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
