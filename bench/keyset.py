#!/usr/bin/env python3
"""Keyset against offset pages: what a deep page of contacts costs, read both ways.

Kith lists contacts two ways: offset pages, `contacts(page: {pageNumber, pageSize})`, which
make PostgreSQL read and throw away every row before the page, and cursor connections,
`contactsConnection(first, after)`, which start from the last row seen (`WHERE (key, id) >
(...)`) down an index. This script measures, with wrk, the same page of 25 contacts read
both ways at several depths (page numbers), in two orders: the default one (by id) and
`orderBy: [{field: NAME}]`. It prints requests/second and the 99th-percentile latency of
each, the cursor's gain over the offset page, and each figure divided by its depth-1 figure:
cursor pages should stay flat while offset pages fall with depth. It asserts nothing about
speed; it is a benchmark, not a test.

A cursor for page d is built without walking d pages: cursors are base64url (no padding) of
the JSON array `[1, "<binding>", "<row id>", <one value per orderBy key>]` (src/paging/
cursor.rs). The binding (list, order and filter) is taken from a real first page in the
same order; the id (and, for NAME, the stored `sort_name`) of the row just before the page
is read with psql. Before timing, each cursor page must hold exactly the 25 ids of the
offset page at the same position, or the script stops: both kinds read the same rows.

PostgreSQL only. Needs `wrk` (Debian: `apt-get install wrk`), `psql` and `createdb`, and a
built `kith` (`KITH_BIN`, default the release build of CI's target directory). The database
is created and seeded (`kith seed --customers N --seed 1`, then ANALYZE) when it does not
exist, and reused, whatever --customers says, when it already has contacts; it is kept
afterwards (seeding a million contacts takes minutes), except with --smoke.

    bench/keyset.py                       # 100,000 customers (~590,000 contacts), pages 1, 400, 4000, 20000
    bench/keyset.py --customers 170000    # ~1,000,000 contacts (a new --db, or drop the old one first)
    bench/keyset.py --depths 1,1000 --duration 15 --db postgres://postgres@127.0.0.1:5432/kith_keyset
    bench/keyset.py --smoke               # 300 customers, pages 1 and 10, 2 s, debug build; dropped after
    KITH_BIN=/tmp/kith-old bench/keyset.py
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PAGE_SIZE = 25
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kith_keyset"
SMOKE_DB_NAME = "kith_keyset_smoke"
RELEASE_BIN = "/var/cache/kith-ci/target/release/kith"
DEBUG_BIN = "/var/cache/kith-ci/target/debug/kith"
# Any fixed key of at least 32 bytes: tokens are minted and checked by the same key.
JWT_SECRET = "kith-keyset-bench-secret-0123456789abcd"
LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "graphql.lua")

OFFSET_QUERY = (
    "query($p: PageInput, $o: [ContactOrder!]) "
    "{ contacts(page: $p, orderBy: $o) { items { id displayName } } }"
)
CURSOR_QUERY = (
    "query($a: String, $o: [ContactOrder!]) "
    "{ contactsConnection(first: %d, after: $a, orderBy: $o) "
    "{ edges { node { id displayName } } pageInfo { hasNextPage endCursor } } }" % PAGE_SIZE
)

# name shown, orderBy variable, SQL reading (id, sort value or null) at an offset in that order
ORDERS = [
    ("id (default)", None, "SELECT json_build_array(id, NULL) FROM contact ORDER BY id"),
    (
        "NAME",
        [{"field": "NAME"}],
        'SELECT json_build_array(id, sort_name) FROM contact ORDER BY sort_name COLLATE "C", id',
    ),
]


class Failure(Exception):
    """A reason to stop, printed without a traceback."""


def main() -> int:
    args = parse_args()
    if args.smoke:
        args.customers, args.depths, args.duration, args.connections = 300, "1,10", 2, 4
        db = with_database(args.db, SMOKE_DB_NAME)
        default_bin = DEBUG_BIN
    else:
        db = args.db
        default_bin = RELEASE_BIN
    args.database = db  # the one wrk's requests run in (see `drain`)
    kith = os.environ.get("KITH_BIN", default_bin)
    depths = parse_depths(args.depths)

    # SIGTERM (and SIGHUP) unwind like Ctrl-C, so the `finally` below stops the server.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, interrupt)

    server = None
    work = tempfile.mkdtemp(prefix="kith-keyset-")
    log_path = os.path.join(work, "server.log")
    try:
        check_tools(kith)
        env = dict(os.environ, DATABASE_URL=server_url(db), JWT_SECRET=JWT_SECRET)
        if args.smoke:
            drop_database(db)
        seed_time = prepare_database(db, kith, args.customers, env)
        customers = int(psql(db, "SELECT count(*) FROM customer"))
        contacts = int(psql(db, "SELECT count(*) FROM contact"))

        print_header(args, kith, customers, contacts, seed_time)
        kept = []
        for depth in depths:
            start = (depth - 1) * PAGE_SIZE
            if start >= contacts:
                print(f"- page {depth:,} skipped: it starts at row {start:,}, "
                      f"beyond the {contacts:,} contacts")
            else:
                kept.append(depth)
        if not kept:
            raise Failure("no depth left to measure")

        port = free_port()
        server = start_server(kith, env, port, log_path)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server, log_path)
        token = run([kith, "token", "--role", "ADMIN", "--ttl", "12h"], env).strip()

        # Build every body and check it before any timing: a wrong cursor stops the run early.
        cases = []
        for name, order, sql in ORDERS:
            binding = first_page_binding(base, token, order)
            for depth in kept:
                offset_body = body(OFFSET_QUERY, {
                    "p": {"pageNumber": depth, "pageSize": PAGE_SIZE, "excludeTotalCount": True},
                    "o": order,
                })
                after = None if depth == 1 else cursor_at(db, sql, binding, order, depth)
                cursor_body = body(CURSOR_QUERY, {"a": after, "o": order})
                offset_ids = [item["id"] for item in graphql(base, token, offset_body)["contacts"]["items"]]
                cursor_ids = [edge["node"]["id"] for edge in
                              graphql(base, token, cursor_body)["contactsConnection"]["edges"]]
                if not offset_ids or offset_ids != cursor_ids:
                    raise Failure(
                        f"order {name}, page {depth}: the cursor page does not hold the offset "
                        f"page's rows\n  offset: {offset_ids}\n  cursor: {cursor_ids}"
                    )
                cases.append((name, depth, offset_body, cursor_body))
        print(f"- checked: at every depth and order the cursor page holds the offset page's "
              f"{PAGE_SIZE} ids\n")

        results = {}
        notes = []
        for name, depth, offset_body, cursor_body in cases:
            for kind, payload in (("offset", offset_body), ("cursor", cursor_body)):
                wrk(args, base, token, payload, 2)  # warm-up, discarded
                figures = wrk(args, base, token, payload, args.duration)
                results[(name, depth, kind)] = figures
                if figures["errors"]:
                    notes.append(f"- {name}, page {depth:,}, {kind}: {figures['errors']}")
                print(f"  {name:>12} page {depth:>6,} {kind}: {figures['rps']:,.1f} req/s, "
                      f"p99 {format_ms(figures['p99_ms'])}", file=sys.stderr)
        print_table(cases, results)
        for note in notes:
            print(note)
        return 0
    except Failure as failure:
        print(f"keyset.py: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("keyset.py: interrupted", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            stop_server(server)
        if args.smoke:
            try:
                drop_database(db)
            except Failure as failure:
                print(f"keyset.py: {failure}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


def interrupt(signum, frame):
    raise KeyboardInterrupt


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare offset pages and cursor (keyset) pages of contacts at several depths.")
    parser.add_argument("--db", default=DEFAULT_DB,
                        help=f"PostgreSQL URL (default {DEFAULT_DB}); created and seeded if missing")
    parser.add_argument("--customers", type=positive, default=100_000,
                        help="customers to seed when the database is new (default 100000)")
    parser.add_argument("--depths", default="1,400,4000,20000",
                        help=f"page numbers (pageSize {PAGE_SIZE}), comma-separated (default 1,400,4000,20000)")
    parser.add_argument("--duration", type=positive, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=positive, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=positive, default=2, help="wrk threads (default 2)")
    parser.add_argument("--smoke", action="store_true",
                        help=f"a fresh `{SMOKE_DB_NAME}` database of 300 customers, pages 1 and 10, "
                             "2 s runs, 4 connections, debug build; dropped afterwards")
    return parser.parse_args()


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_depths(text: str) -> list[int]:
    try:
        depths = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--depths: `{text}` is not a list of page numbers") from None
    if not depths or depths[0] < 1:
        raise SystemExit("--depths: page numbers start at 1")
    if depths[0] != 1:
        depths.insert(0, 1)  # every figure is also shown relative to the first page
    return depths


# ---------------------------------------------------------------- database


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def database_name(url: str) -> str:
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
    if not name:
        raise Failure(f"{url} names no database")
    return name


def server_url(url: str) -> str:
    """The URL Kith gets: PostgreSQL on loopback speaks no TLS, so say so unless told."""
    if "sslmode=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "sslmode=disable"


def psql(url: str, sql: str) -> str:
    return run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).strip()


def database_exists(url: str) -> bool:
    name = database_name(url).replace("'", "''")
    found = psql(with_database(url, "postgres"), f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    return found == "1"


def drop_database(url: str) -> None:
    name = database_name(url).replace('"', '""')
    psql(with_database(url, "postgres"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_database(url: str, kith: str, customers: int, env: dict) -> float | None:
    """Create and seed the database unless it already has contacts; the seeding time, if any."""
    created = False
    if database_exists(url):
        has_table = psql(url, "SELECT to_regclass('contact') IS NOT NULL") == "t"
        if has_table and psql(url, "SELECT EXISTS (SELECT 1 FROM contact)") == "t":
            print(f"(reusing {database_name(url)}: it has contacts; --customers is not applied)",
                  file=sys.stderr)
            return None
    else:
        parts = urllib.parse.urlsplit(url)
        command = ["createdb", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
        if parts.username:
            command += ["-U", urllib.parse.unquote(parts.username)]
        password = {"PGPASSWORD": urllib.parse.unquote(parts.password)} if parts.password else {}
        run(command + [database_name(url)], dict(os.environ, **password))
        created = True
    print(f"(seeding {database_name(url)} with {customers:,} customers...)", file=sys.stderr)
    started = time.monotonic()
    try:
        run([kith, "seed", "--customers", str(customers), "--seed", "1"], env)
    except BaseException:
        # Half a seed would be reused by the next run as if it were whole.
        if created:
            drop_database(url)
        raise
    psql(url, "ANALYZE")
    return time.monotonic() - started


def cursor_at(url: str, sql: str, binding: str, order, depth: int) -> str:
    """The cursor of the row just before page `depth` in the order that `sql` reads."""
    offset = (depth - 1) * PAGE_SIZE - 1
    row_id, sort_value = json.loads(psql(url, f"{sql} OFFSET {offset} LIMIT 1"))
    items = [1, binding, row_id] + ([] if order is None else [sort_value])
    text = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


# ---------------------------------------------------------------- server and requests


def check_tools(kith: str) -> None:
    if not (os.path.isfile(kith) and os.access(kith, os.X_OK)):
        raise Failure(f"no kith binary at {kith} (build it, or set KITH_BIN)")
    for tool in ("wrk", "psql", "createdb"):
        if shutil.which(tool) is None:
            hint = " (Debian: apt-get install wrk)" if tool == "wrk" else ""
            raise Failure(f"`{tool}` is not on PATH{hint}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(kith: str, env: dict, port: int, log_path: str) -> subprocess.Popen:
    env = dict(env, KITH_BIND=f"127.0.0.1:{port}", KITH_LOG_FORMAT="json",
               KITH_MAX_COMPLEXITY=env.get("KITH_MAX_COMPLEXITY", "1000000"))
    with open(log_path, "wb") as log:
        return subprocess.Popen([kith, "serve"], env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base: str, server: subprocess.Popen, log_path: str) -> None:
    deadline = time.monotonic() + 120  # migrations of a large database may take a while
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Failure(f"the server exited ({server.returncode}):\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise Failure(f"the server was not ready within 120 s:\n{tail(log_path)}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError:
        return "(no log)"


def body(query: str, variables: dict) -> str:
    return json.dumps({"query": query, "variables": variables}, separators=(",", ":"))


def graphql(base: str, token: str, payload: str) -> dict:
    request = urllib.request.Request(
        base + "/graphql", data=payload.encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        raise Failure(f"HTTP {error.code} for {payload}: {error.read()[:500]!r}") from None
    if answer.get("errors") or not answer.get("data"):
        raise Failure(f"GraphQL errors for {payload}: {json.dumps(answer.get('errors'))}")
    return answer["data"]


def first_page_binding(base: str, token: str, order) -> str:
    """The binding hex of contact cursors in `order` (no filter), from a real first page."""
    data = graphql(base, token, body(CURSOR_QUERY, {"a": None, "o": order}))
    end = data["contactsConnection"]["pageInfo"]["endCursor"]
    if not end:
        raise Failure("the first page of contactsConnection has no endCursor")
    items = decode_cursor(end)
    expected = 3 + (0 if order is None else len(order))
    if len(items) != expected or items[0] != 1:
        raise Failure(f"unexpected cursor layout {items!r} (see src/paging/cursor.rs)")
    return items[1]


def run(command: list[str], env: dict | None = None) -> str:
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"`{shlex.join(command)}` failed ({done.returncode}):\n"
                      f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


# ---------------------------------------------------------------- wrk


def wrk(args, base: str, token: str, payload: str, seconds: int) -> dict:
    # A deep offset page takes seconds: wrk's default 2 s timeout would drop those requests
    # from the latencies. 60 s is past Kith's own request timeout (30 s by default).
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s",
               "--timeout", "60s", "--latency", "-s", LUA, base + "/graphql"]
    out = run(command, dict(os.environ, KITH_TOKEN=token, KITH_BODY=payload))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    p99 = re.search(r"^\s*99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b", out, re.M)
    if not rps or not p99:
        raise Failure(f"cannot read wrk's output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[p99.group(2)]
    errors = "; ".join(line.strip() for line in out.splitlines()
                       if line.strip().startswith(("Non-2xx", "Socket errors")))
    drain(args.database)
    return {"rps": float(rps.group(1)), "p99_ms": float(p99.group(1)) * scale, "errors": errors}


def drain(url: str) -> None:
    """Wait until PostgreSQL runs no statement of the benchmark's database: requests wrk
    gave up on may still be running, and would slow the next run down."""
    name = database_name(url).replace("'", "''")
    sql = (f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' "
           f"AND state = 'active' AND pid <> pg_backend_pid()")
    deadline = time.monotonic() + 120
    while psql(url, sql) != "0":
        if time.monotonic() > deadline:
            raise Failure("PostgreSQL is still busy two minutes after a wrk run")
        time.sleep(0.2)


# ---------------------------------------------------------------- report


def print_header(args, kith: str, customers: int, contacts: int, seed_time: float | None) -> None:
    prefix = f"KITH_BIN={shlex.quote(os.environ['KITH_BIN'])} " if "KITH_BIN" in os.environ else ""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    seeded = f", seeded in {seed_time:.1f} s" if seed_time is not None else ", reused"
    print("# Keyset against offset pages of contacts\n")
    command = " ".join(filter(None, [f"{prefix}bench/keyset.py", shlex.join(sys.argv[1:])]))
    print(f"- command: `{command}`")
    print(f"- date: {now}; {os.cpu_count()} cores; binary {kith}")
    print(f"- database: {customers:,} customers, {contacts:,} contacts{seeded}")
    print(f"- wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per run "
          f"after a 2 s warm-up; pages of {PAGE_SIZE}, `excludeTotalCount: true`")


def format_ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def print_table(cases, results) -> None:
    print("| order | page | first row | offset req/s | offset p99 | offset ÷ page 1 "
          "| cursor req/s | cursor p99 | cursor ÷ page 1 | cursor ÷ offset |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, depth, _, _ in cases:
        offset = results[(name, depth, "offset")]
        cursor = results[(name, depth, "cursor")]
        offset_1 = results[(name, 1, "offset")]
        cursor_1 = results[(name, 1, "cursor")]
        print(f"| {name} | {depth:,} | {(depth - 1) * PAGE_SIZE:,} "
              f"| {offset['rps']:,.1f} | {format_ms(offset['p99_ms'])} | {ratio(offset, offset_1)} "
              f"| {cursor['rps']:,.1f} | {format_ms(cursor['p99_ms'])} | {ratio(cursor, cursor_1)} "
              f"| {ratio(cursor, offset)} |")
    print("\nRatios divide requests/second: `offset ÷ page 1` below 1 means a deep offset page "
          "costs more than the first; `cursor ÷ offset` above 1 means the cursor page is cheaper.")


def ratio(a: dict, b: dict) -> str:
    return f"{a['rps'] / b['rps']:.2f}×" if b["rps"] else "—"


if __name__ == "__main__":
    sys.exit(main())
