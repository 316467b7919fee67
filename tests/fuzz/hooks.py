"""Schemathesis hooks for Kith's fuzz run (loaded through SCHEMATHESIS_HOOKS by fuzz.py).

Three checks replace schemathesis' built-in GraphQL ones, which would count every resolver
error (a FORBIDDEN for a CUSTOMER calling createCustomer, a NOT_FOUND for a random id) as a
server error. Ours follow issue 9: no status >= 500, every GraphQL error carries
`extensions.code`, and no INTERNAL error (opaque server failures; a fuzzed input must get a
client error instead). Every response is also appended to KITH_FUZZ_RECORD (one JSON object a
line) for fuzz.py's counts.

IDs are drawn from the seeded database's ids inside the CUSTOMER's scope and outside it (listed
in KITH_FUZZ_IDS_INSIDE / KITH_FUZZ_IDS_OUTSIDE), from random UUIDs, and from arbitrary
strings, so the fuzzer writes to the customer's own rows and aims at other tenants' rows
instead of only missing ones.
"""

from __future__ import annotations

import json
import os
import threading

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

_RECORD_PATH = os.environ.get("KITH_FUZZ_RECORD")
_PHASE = os.environ.get("KITH_FUZZ_PHASE", "?")
_lock = threading.Lock()


def _ids(variable: str) -> list[str]:
    path = os.environ.get(variable)
    if not path:
        return []
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


# One branch each, so the customer's own rows (a few dozen among a thousand) are drawn as
# often as other tenants' rows: writes that succeed are what can spill across the boundary.
_id_strategies = [st.sampled_from(ids) for ids in (_ids("KITH_FUZZ_IDS_INSIDE"), _ids("KITH_FUZZ_IDS_OUTSIDE")) if ids]
_id_strategies += [st.uuids().map(str), st.text(max_size=40)]
schemathesis.graphql.scalar("ID", st.one_of(*_id_strategies).map(nodes.String))


def _payload(response) -> object:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None


def _errors(payload: object) -> list[dict]:
    documents = payload if isinstance(payload, list) else [payload]
    errors: list[dict] = []
    for document in documents:
        if isinstance(document, dict):
            errors.extend(e for e in document.get("errors") or [] if isinstance(e, dict))
    return errors


def _code(error: dict) -> str | None:
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return code if isinstance(code, str) and code else None


def _query(case) -> str:
    body = case.body
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        return str(body.get("query", ""))
    return ""


def _tracking_id(payload: object) -> str | None:
    if isinstance(payload, dict) and isinstance(payload.get("extensions"), dict):
        return payload["extensions"].get("trackingId")
    return None


def _record(response, case) -> None:
    if not _RECORD_PATH:
        return
    payload = _payload(response)
    errors = _errors(payload)
    row = {
        "phase": _PHASE,
        "operation": case.operation.label,
        "status": response.status_code,
        "json": payload is not None,
        "codes": [_code(e) for e in errors],
        "uncoded": [e.get("message", "")[:200] for e in errors if _code(e) is None],
        "query": _query(case)[:2000],
        "tracking_id": _tracking_id(payload),
    }
    if response.status_code >= 500 or row["uncoded"] or "INTERNAL" in row["codes"] or payload is None:
        row["body"] = response.content[:1000].decode("utf-8", "replace")
    # Shrinking and replays call checks again for the same case: fuzz.py counts every call
    # as a request sent, which it is.
    with _lock, open(_RECORD_PATH, "a") as f:
        f.write(json.dumps(row) + "\n")


@schemathesis.check
def kith_status_below_500(ctx, response, case):
    """No response has a status of 500 or more."""
    _record(response, case)
    if response.status_code >= 500:
        raise AssertionError(f"status {response.status_code}: {response.content[:300]!r}")


@schemathesis.check
def kith_errors_have_code(ctx, response, case):
    """Every GraphQL error carries `extensions.code`; every answer is JSON."""
    payload = _payload(response)
    if payload is None:
        raise AssertionError(f"not JSON (status {response.status_code}): {response.content[:300]!r}")
    missing = [e.get("message") for e in _errors(payload) if _code(e) is None]
    if missing:
        raise AssertionError(f"GraphQL error without extensions.code: {missing[0]!r}")


@schemathesis.check
def kith_no_internal(ctx, response, case):
    """No error is INTERNAL: fuzzed input deserves a client error, not a server failure."""
    internal = [e.get("message") for e in _errors(_payload(response)) if _code(e) == "INTERNAL"]
    if internal:
        raise AssertionError(f"INTERNAL error: {internal[0]!r}")
