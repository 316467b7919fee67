#!/usr/bin/env bash
# Kith fuzz run (issue 9): schemathesis (pinned in tests/fuzz/requirements.txt, installed into a
# venv beside the build cache) against a seeded debug server on SQLite, with a CUSTOMER token, an
# ADMIN token and none, for about two minutes in all. Fails on any status >= 500, any GraphQL
# error without extensions.code, any INTERNAL error, or any change outside the CUSTOMER's scope.
# Ends with `fuzz: N passed, M failed`.
#
#   [KITH_BIN=path/to/kith] [KITH_FUZZ_KEEP=1] tests/fuzz/run.sh [--budget SECONDS] [--customers N] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/../.."

budget=120 customers=30 seed=9
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget=$2; shift 2 ;;
    --customers) customers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"

# The venv is keyed by the requirements' hash, so a new pin gets a fresh one.
requirements=tests/fuzz/requirements.txt
venv="$target_dir/fuzz-venv-$(sha256sum "$requirements" | cut -c1-12)"
if [ ! -x "$venv/bin/st" ]; then
  echo "installing schemathesis into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
fi

# KITH_BIN names a binary to fuzz instead; else the debug build, which `cargo test` has just
# made (so this build is a no-op in CI).
if [ -n "${KITH_BIN:-}" ]; then
  kith=$KITH_BIN
else
  cargo build -q --bin kith
  kith="$target_dir/debug/kith"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [ -n "${KITH_FUZZ_KEEP:-}" ]; then echo "kept $work (record.jsonl, schemathesis logs, server.log)"; else rm -rf "$work"; fi
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$work/fuzz.db?mode=rwc"
export JWT_SECRET="kith-fuzz-fixed-secret-0123456789abcdef0123"
echo "seed: $("$kith" seed --customers "$customers" --seed 1 2>&1 | tail -n 1)"

RUST_LOG=info "$kith" serve --bind 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/.*GraphQL on \(http[^ ]*\)\/graphql.*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
[ -n "$base" ] || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

"$venv/bin/python" tests/fuzz/fuzz.py --url "$base/graphql" --db "$work/fuzz.db" --kith "$kith" \
  --st "$venv/bin/st" --work "$work" --budget "$budget" --seed "$seed" \
  --server-pid "$server_pid" --server-log "$work/server.log"
