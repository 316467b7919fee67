#!/usr/bin/env bash
# GraphQL over HTTP conformance (issue 12): graphql-http's own audit (pinned in
# tests/conformance/package.json, installed with `npm ci` from its lockfile) against a debug
# server on an empty SQLite database, every request with an ADMIN token. Every audit must be
# ok: a MAY or SHOULD that fails counts as a failure. Ends with `conformance: N passed, M failed`.
#
#   [KITH_BIN=path/to/kith] [KITH_CONFORMANCE_KEEP=1] tests/conformance/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"

# KITH_BIN names a binary to audit instead; else the debug build, which `cargo test` has just
# made (so this build is a no-op in CI).
if [ -n "${KITH_BIN:-}" ]; then
  kith=$KITH_BIN
else
  cargo build -q --bin kith
  kith="$target_dir/debug/kith"
fi

(cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [ -n "${KITH_CONFORMANCE_KEEP:-}" ]; then echo "kept $work (audit.txt, server.log)"; else rm -rf "$work"; fi
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$work/conformance.db?mode=rwc"
export JWT_SECRET="kith-conformance-fixed-secret-0123456789abcdef"
token=$("$kith" token --role ADMIN --sub conformance --ttl 1h)

RUST_LOG=info "$kith" serve --bind 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/.*GraphQL on \(http[^ ]*\)\/graphql.*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "server did not start:" >&2
  cat "$work/server.log" >&2
  echo "conformance: 0 passed, 1 failed"
  exit 1
fi

status=0
KITH_GRAPHQL_URL="$base/graphql" KITH_TOKEN="$token" node tests/conformance/audit.mjs \
  | tee "$work/audit.txt" || status=$?
passed=$(grep -c '^ok ' "$work/audit.txt" || true)
failed=$(grep -cE '^(notice|warn|error) ' "$work/audit.txt" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "the audit did not finish (exit $status):" >&2
  tail -n 20 "$work/server.log" >&2
  failed=1
fi
echo "conformance: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
