#!/usr/bin/env bash
# Kith through a real GraphQL client: Python's gql (pinned in tests/client/requirements.txt,
# installed into a venv beside the build cache), with the schema fetched by introspection so
# that gql validates every document before it sends it. Runs tests/client/test_client.py
# against `kith serve` on a fresh, seeded SQLite file and a free port. Ends with
# `client: N passed, M failed`; exits non-zero on any failure.
#
#   [KITH_BIN=path/to/kith] [KITH_CLIENT_SKIP_APQ=1] tests/client/run.sh
#
# KITH_CLIENT_SKIP_APQ=1 reports the APQ check as skipped, for a binary built before
# automatic persisted queries; by default the check runs and must pass.
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir="${CARGO_TARGET_DIR:-/var/cache/kith-ci/target}"
kith="${KITH_BIN:-$target_dir/debug/kith}"
if [ ! -x "$kith" ]; then
  echo "no kith binary at $kith (build it, or set KITH_BIN)"
  echo "client: 0 passed, 1 failed"
  exit 1
fi

# The venv is reused while the requirements it was made from stay the same.
requirements=tests/client/requirements.txt
venv="$target_dir/client-venv"
stamp=$(sha256sum "$requirements" | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$stamp" ]; then
  echo "installing gql into $venv"
  rm -rf "$venv"
  mkdir -p "$target_dir"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  echo "$stamp" >"$venv/.requirements"
fi

work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT

export DATABASE_URL="sqlite://$work/kith.db?mode=rwc"
JWT_SECRET="kith-client-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export JWT_SECRET
unset JWT_PUBLIC_KEY_FILE JWT_ISSUER JWT_AUDIENCE KITH_TRUSTED_DOCUMENTS
echo "seed: $("$kith" seed --customers 30 --seed 5 2>&1 | tail -n 1)"

RUST_LOG=info "$kith" serve --bind 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 200); do
  base=$(sed -n 's/.*GraphQL on \(http[^ ]*\)\/graphql.*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && break
  base=""
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "server did not start:"
  cat "$work/server.log"
  echo "client: 0 passed, 1 failed"
  exit 1
fi

# The checks print PASS/FAIL lines as they go; their closing line is printed last, after the
# server log's tail when something failed.
status=0
KITH_URL="$base/graphql" KITH="$kith" KITH_ADMIN_TOKEN="$("$kith" token --role ADMIN --ttl 1h --sub client-test)" \
  "$venv/bin/python" tests/client/test_client.py 2>&1 | tee "$work/client.out" | sed '/^client: [0-9]* passed/d' || status=$?
stop_server

summary=$(tail -n 1 "$work/client.out")
if ! [[ $summary =~ ^client:\ [0-9]+\ passed,\ [0-9]+\ failed ]]; then
  summary="client: 0 passed, 1 failed"
  echo "test_client.py stopped before its summary (exit $status)"
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)"
  tail -n 40 "$work/server.log"
fi
echo "$summary"
exit "$status"
