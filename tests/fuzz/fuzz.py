#!/usr/bin/env python3
"""Kith's fuzz run (issue 9): schemathesis against a seeded, running server, as a CUSTOMER, as
ADMIN and anonymously, within a fixed time budget. Started by tests/fuzz/run.sh.

It fails (exit 1) when any response has a status >= 500, any GraphQL error lacks
`extensions.code`, any error is INTERNAL, or anything outside the CUSTOMER's scope changed
while it fuzzed: rows of every table that the customer cannot see are snapshotted (key,
version and a hash of the whole row) from the SQLite file before and after, and must be equal.

The last line is `fuzz: N passed, M failed`, where a test is one operation fuzzed with one
token (it passes when none of its responses failed a check) plus the scope comparison.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import urllib.error
import urllib.request
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))

# Which rows a CUSTOMER of customer :c sees (API.md, "Who may do what"); every other row is
# outside its scope. Tables without a rule are listed and compared as wholly out of scope.
VISIBLE_CONTACTS = """
    SELECT id FROM contact WHERE customer_id = :c
    UNION SELECT id FROM contact WHERE account_id IN (SELECT id FROM account WHERE customer_id = :c)
    UNION SELECT contact_id FROM shared_contact_link WHERE customer_id = :c
"""
VISIBLE_CHANGES = """
    SELECT change_id FROM change_party WHERE kind = 'CUSTOMER' AND party_id = :c
    UNION SELECT id FROM change_record r WHERE NOT EXISTS (
        SELECT 1 FROM change_party p WHERE p.change_id = r.id AND p.kind = 'CUSTOMER')
"""
SCOPE_RULES = {
    "customer": "SELECT rowid FROM customer WHERE id = :c",
    "account": "SELECT rowid FROM account WHERE customer_id = :c",
    "contact": f"SELECT rowid FROM contact WHERE id IN ({VISIBLE_CONTACTS})",
    "contact_point": f"SELECT rowid FROM contact_point WHERE contact_id IN ({VISIBLE_CONTACTS})",
    "contact_address": f"SELECT rowid FROM contact_address WHERE contact_id IN ({VISIBLE_CONTACTS})",
    "address": "SELECT rowid FROM address WHERE id IN (SELECT address_id FROM contact_address "
    f"WHERE contact_id IN ({VISIBLE_CONTACTS}))",
    "shared_contact_link": "SELECT rowid FROM shared_contact_link WHERE customer_id = :c",
    # History (issue 14): the changes that concern :c, and those that concern no customer at
    # all, as `Scope::change_condition` lets a CUSTOMER read them.
    "change_record": f"SELECT rowid FROM change_record WHERE id IN ({VISIBLE_CHANGES})",
    "change_party": f"SELECT rowid FROM change_party WHERE change_id IN ({VISIBLE_CHANGES})",
}
# Bookkeeping, not tenant data.
IGNORED_TABLES = {"seaql_migrations", "sqlite_sequence"}


def text(value: object) -> str:
    """A column value as clients see it: SQLite stores UUIDs as 16-byte blobs."""
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    return str(value)


def log(message: str) -> None:
    print(f"[fuzz {time.strftime('%H:%M:%S')}] {message}", flush=True)


def connect(db_path: str) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)


def tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return [name for (name,) in rows if name not in IGNORED_TABLES and not name.startswith("sqlite_")]


def snapshot(db_path: str, customer_id: object) -> dict[str, dict[str, dict]]:
    """table -> {"in": {key: (version, hash)}, "out": {...}} for the customer's scope."""
    conn = connect(db_path)
    result: dict[str, dict[str, dict]] = {}
    try:
        for table in tables(conn):
            columns = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            names = [c[1] for c in columns]
            key_columns = [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5] > 0] or ["rowid"]
            visible: set[int] = set()
            rule = SCOPE_RULES.get(table)
            if rule is not None:
                visible = {r for (r,) in conn.execute(rule, {"c": customer_id})}
            rows = conn.execute(f'SELECT rowid, * FROM "{table}"').fetchall()
            split = {"in": {}, "out": {}}
            for row in rows:
                record = dict(zip(["rowid", *names], row))
                key = "/".join(text(record[k]) for k in key_columns)
                digest = hashlib.sha256(repr(row[1:]).encode()).hexdigest()[:16]
                split["in" if row[0] in visible else "out"][key] = (record.get("version"), digest)
            result[table] = split
    finally:
        conn.close()
    return result


def compare(before: dict, after: dict) -> tuple[list[str], list[str]]:
    """(violations, notes): what changed outside the customer's scope."""
    violations: list[str] = []
    notes: list[str] = []
    for table in sorted(set(before) | set(after)):
        b = before.get(table, {"in": {}, "out": {}})
        a = after.get(table, {"in": {}, "out": {}})
        if table not in SCOPE_RULES:
            notes.append(f"{table}: no scope rule, compared as wholly outside the customer's scope")
        changed = [k for k, v in b["out"].items() if k in a["out"] and a["out"][k] != v]
        gone = [k for k in b["out"] if k not in a["out"] and k not in a["in"]]
        now_visible = [k for k in b["out"] if k in a["in"]]
        new_outside = [k for k in a["out"] if k not in b["out"] and k not in b["in"]]
        left_scope = [k for k in a["out"] if k in b["in"]]
        for label, keys in (
            ("changed", changed),
            ("deleted", gone),
            ("became visible to the customer", now_visible),
            ("created outside the customer's scope", new_outside),
        ):
            if keys:
                detail = ""
                if label == "changed":
                    k = keys[0]
                    detail = f" (e.g. {k}: version {b['out'][k][0]} -> {a['out'][k][0]})"
                violations.append(f"{table}: {len(keys)} row(s) {label}: {', '.join(keys[:3])}{detail}")
        if left_scope:
            notes.append(f"{table}: {len(left_scope)} row(s) the customer could see left its scope "
                         f"(its own doing; not counted): {', '.join(left_scope[:3])}")
        touched = sum(1 for k, v in b["in"].items() if a["in"].get(k, v) != v or (k not in a["in"] and k not in a["out"]))
        touched += sum(1 for k in a["in"] if k not in b["in"] and k not in b["out"])
        if touched:
            notes.append(f"{table}: {touched} row(s) inside the customer's scope written (created, changed or deleted)")
        out_before, out_after = len(b["out"]), len(a["out"])
        if out_before != out_after:
            notes.append(f"{table}: rows outside the scope {out_before} -> {out_after}")
    return violations, notes


def pick_customer(db_path: str) -> object:
    """The customer with the most contacts, preferring one linked to a shared contact."""
    conn = connect(db_path)
    try:
        row = conn.execute(
            """SELECT c.id FROM customer c
               ORDER BY EXISTS (SELECT 1 FROM shared_contact_link l WHERE l.customer_id = c.id) DESC,
                        (SELECT count(*) FROM contact k WHERE k.customer_id = c.id) DESC, c.id
               LIMIT 1"""
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise SystemExit("fuzz: the database has no customer; was it seeded?")
    return row[0]


def all_ids(db_path: str, customer_key: object) -> tuple[list[str], list[str]]:
    """Ids of every table with an `id` column: (inside the customer's scope, outside it)."""
    conn = connect(db_path)
    inside: list[str] = []
    outside: list[str] = []
    try:
        for table in tables(conn):
            names = [c[1] for c in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]
            if "id" not in names:
                continue
            rule = SCOPE_RULES.get(table)
            visible = {r for (r,) in conn.execute(rule, {"c": customer_key})} if rule else set()
            for rowid, value in conn.execute(f'SELECT rowid, id FROM "{table}" ORDER BY id LIMIT 1000'):
                (inside if rowid in visible else outside).append(text(value))
    finally:
        conn.close()
    return inside, outside


ANSI = re.compile(r"\x1b\[[0-9;]*m")
STAMP = re.compile(r"^\S*\d{4}-\d\d-\d\dT\S+\s+")
TRACKING = re.compile(r"tracking_id=[0-9a-f-]{36}")


def log_message(line: str) -> str:
    """A log line without colour, timestamp or tracking id, so equal messages group."""
    line = STAMP.sub("", ANSI.sub("", line))
    return TRACKING.sub("tracking_id=…", line)[:220]


def process_alive(pid: int) -> bool:
    """False when the process is gone or a zombie (exited, not yet reaped by run.sh)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def mint(kith: str, *args: str) -> str:
    return subprocess.run([kith, "token", "--ttl", "1h", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def check_introspection(url: str) -> str | None:
    """None when the standard introspection query (graphql-core's, what schemathesis sends)
    works at the server's settings, else what the server answered."""
    from graphql import get_introspection_query

    body = json.dumps({"query": get_introspection_query()}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
            status = response.status
    except urllib.error.HTTPError as error:
        return f"{error.code}: {error.read()[:300].decode('utf-8', 'replace')}"
    except (OSError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    if status != 200 or not isinstance(payload, dict) or payload.get("errors") or not payload.get("data"):
        return f"{status}: {json.dumps(payload)[:300]}"
    return None


def run_schemathesis(st: str, location: str, url: str, token: str | None, phase: str, seconds: int,
                     seed: int, work: str) -> int:
    env = dict(os.environ)
    env.update({
        "SCHEMATHESIS_HOOKS": os.path.join(HERE, "hooks.py"),
        "KITH_FUZZ_PHASE": phase,
        "KITH_FUZZ_RECORD": os.path.join(work, "record.jsonl"),
        "KITH_FUZZ_IDS_INSIDE": os.path.join(work, "ids-inside.txt"),
        "KITH_FUZZ_IDS_OUTSIDE": os.path.join(work, "ids-outside.txt"),
    })
    command = [
        st, "run", location, *(["--url", url] if location != url else []),
        "--checks", "kith_status_below_500,kith_errors_have_code,kith_no_internal",
        "--max-time", str(seconds),
        "--seed", str(seed),
        "--workers", "2",
        "--request-timeout", "40",
        "--continue-on-failure",
        "--generation-allow-x00", "true",
        "--no-color",
        "--report", "junit",
        "--report-junit-path", os.path.join(work, f"junit-{phase}.xml"),
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    log(f"{phase}: schemathesis for {seconds} s")
    out_path = os.path.join(work, f"schemathesis-{phase}.log")
    with open(out_path, "w") as out:
        # The run is bounded by --max-time; the extra minute only guards against a hang.
        try:
            status = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=seconds + 90, cwd=work).returncode
        except subprocess.TimeoutExpired:
            status = -1
            out.write("\nfuzz.py: schemathesis overran its budget and was stopped\n")
    with open(out_path) as f:
        tail = f.read().splitlines()
    # Schemathesis' own summary: useful when it stopped for a reason our checks do not see.
    summary = [line for line in tail[-40:] if line.strip()]
    for line in summary[-12:]:
        print(f"    | {line}")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the GraphQL endpoint")
    parser.add_argument("--db", required=True, help="the server's SQLite file")
    parser.add_argument("--kith", required=True)
    parser.add_argument("--st", required=True, help="the schemathesis CLI")
    parser.add_argument("--work", required=True)
    parser.add_argument("--budget", type=int, default=120, help="seconds of fuzzing in all")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--server-pid", type=int, help="fails the run if this process is gone at the end")
    parser.add_argument("--server-log", help="its ERROR lines are summarised")
    args = parser.parse_args()

    customer_key = pick_customer(args.db)
    customer_id = text(customer_key)
    tokens = {
        "customer": mint(args.kith, "--role", "CUSTOMER", "--customer", customer_id, "--sub", "fuzz-tenant"),
        "admin": mint(args.kith, "--role", "ADMIN", "--sub", "fuzz-admin"),
    }
    inside, outside = all_ids(args.db, customer_key)
    for name, ids in (("ids-inside.txt", inside), ("ids-outside.txt", outside)):
        with open(os.path.join(args.work, name), "w") as f:
            f.write("\n".join(ids) + "\n")
    log(f"CUSTOMER token for customer {customer_id}")

    budget = {
        "customer": max(10, args.budget * 50 // 100),
        "admin": max(10, args.budget * 35 // 100),
        "anonymous": max(5, args.budget * 15 // 100),
    }
    exit_codes: dict[str, int] = {}

    # Schemathesis reads the schema by introspection, as clients do. Should the server refuse
    # the standard query, that is a failure, and the run goes on with the SDL from `kith
    # schema` so the other checks still see the API.
    location = args.url
    introspection_problem = check_introspection(args.url)
    if introspection_problem is not None:
        location = os.path.join(args.work, "schema.graphql")
        with open(location, "w") as f:
            f.write(subprocess.run([args.kith, "schema"], check=True, capture_output=True, text=True).stdout)
        log(f"introspection refused ({introspection_problem[:200]}); fuzzing from `kith schema` instead")

    before = snapshot(args.db, customer_key)
    exit_codes["customer"] = run_schemathesis(args.st, location, args.url, tokens["customer"], "customer",
                                              budget["customer"], args.seed, args.work)
    after = snapshot(args.db, customer_key)
    violations, notes = compare(before, after)
    exit_codes["admin"] = run_schemathesis(args.st, location, args.url, tokens["admin"], "admin", budget["admin"],
                                           args.seed, args.work)
    exit_codes["anonymous"] = run_schemathesis(args.st, location, args.url, None, "anonymous", budget["anonymous"],
                                               args.seed, args.work)

    rows = []
    record_path = os.path.join(args.work, "record.jsonl")
    if os.path.exists(record_path):
        with open(record_path) as f:
            rows = [json.loads(line) for line in f if line.strip()]

    statuses = collections.Counter(r["status"] for r in rows)
    codes = collections.Counter(c or "(none)" for r in rows for c in r["codes"])
    per_test: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    failures_by_kind: dict[str, list[dict]] = collections.defaultdict(list)
    for r in rows:
        problems = []
        if r["status"] >= 500:
            problems.append("status >= 500")
        if not r["json"]:
            problems.append("not JSON")
        if r["uncoded"]:
            problems.append("error without extensions.code")
        if "INTERNAL" in r["codes"]:
            problems.append("INTERNAL error")
        per_test[(r["phase"], r["operation"])].extend(problems)
        for problem in problems:
            failures_by_kind[problem].append(r)

    print()
    print(f"requests sent: {len(rows)} "
          f"({', '.join(f'{p} {n}' for p, n in collections.Counter(r['phase'] for r in rows).items())})")
    print(f"statuses: {', '.join(f'{s} x{n}' for s, n in sorted(statuses.items()))}")
    print(f"error codes: {', '.join(f'{c} x{n}' for c, n in codes.most_common())}")
    for kind, bad in failures_by_kind.items():
        operations = collections.Counter(f"{r['phase']}:{r['operation']}" for r in bad)
        print(f"FAIL {kind}: {len(bad)} response(s) in {len(operations)} operation(s): "
              + ", ".join(f"{op} x{n}" for op, n in operations.most_common(8)))
        example = bad[0]
        detail = (example["uncoded"] or [""])[0] if kind == "error without extensions.code" else ""
        print(f"    e.g. {example['phase']} {example['operation']} status {example['status']} {detail}")
        if example.get("query"):
            print(f"    query: {example['query'][:400]!r}")
        if example.get("body"):
            print(f"    answer: {example['body'][:400]!r}")
    for note in notes:
        print(f"note: {note}")
    for violation in violations:
        print(f"FAIL outside the CUSTOMER's scope: {violation}")
    if not violations:
        print(f"scope: nothing outside customer {customer_id}'s scope changed "
              f"({sum(len(t['out']) for t in after.values())} rows compared)")

    server_died = args.server_pid is not None and not process_alive(args.server_pid)
    if args.server_log and os.path.exists(args.server_log):
        with open(args.server_log, errors="replace") as f:
            lines = f.read().splitlines()
        errors = collections.Counter(log_message(line) for line in lines if "ERROR" in line)
        # Reported, not failed: issue 9 wants client mistakes off the ERROR level, but that is
        # a log policy, not one of this run's checks.
        print(f"server log: {len(lines)} lines, {sum(errors.values())} at ERROR")
        for line, n in errors.most_common(5):
            print(f"    {n} x {line}")
        if server_died:
            print("FAIL the server exited during the fuzz run; its log ends with:")
            for line in lines[-20:]:
                print(f"    {line[:300]}")

    passed = sum(1 for problems in per_test.values() if not problems)
    failed = sum(1 for problems in per_test.values() if problems)
    if violations:
        failed += 1
    else:
        passed += 1
    if introspection_problem is None:
        passed += 1
    else:
        print(f"FAIL the standard introspection query is refused at the server's settings: {introspection_problem}")
        failed += 1
    if not rows:
        print("FAIL no request was recorded: schemathesis did not run")
        failed += 1
    if server_died:
        failed += 1
    for phase, status in exit_codes.items():
        # Our checks failing makes schemathesis exit 1; anything else (a schema it could not
        # load, a crash, an overrun) is a failure of the run itself.
        if status not in (0, 1):
            print(f"FAIL schemathesis ({phase}) exited with {status}")
            failed += 1
    print(f"fuzz: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
