#!/usr/bin/env bash
# Kith load benchmark: seeds a fresh database, starts a release server, and measures a few
# GraphQL scenarios with wrk. Prints figures; it is a benchmark, not a test.
#
#   bench/run.sh [--customers N] [--duration S] [--connections C] [--database sqlite|postgres] [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."

customers=10000 duration=15 connections=16 database=sqlite profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --customers) customers=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --database) database=$2; shift 2 ;;
    # A smoke run checks that the scenarios work; it reuses the debug build the tests made
    # instead of spending minutes on a release build, so its figures are not comparable.
    --smoke) customers=200 duration=2 connections=4 profile=debug; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

# KITH_BIN benchmarks a given binary (an older build, for a side-by-side run) instead.
if [ -n "${KITH_BIN:-}" ]; then
  kith=$KITH_BIN
  profile="binary $KITH_BIN"
else
  if [ "$profile" = release ]; then cargo build --release -q; else cargo build -q; fi
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  kith="$target_dir/$profile/kith"
fi

work=$(mktemp -d)
server_pid=""
pg_db=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$pg_db" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

case "$database" in
  sqlite) export DATABASE_URL="sqlite://$work/bench.db?mode=rwc" ;;
  postgres)
    pg_db="kith_bench_$$"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_db" >/dev/null
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db" ;;
  *) echo "--database is sqlite or postgres" >&2; exit 2 ;;
esac
export JWT_SECRET="bench-secret-$(date +%s%N)-at-least-32-bytes-long"
export RUST_LOG=warn

echo "# Kith benchmark: $database, $customers customers, ${duration}s per scenario, $connections connections, $profile build, $(nproc) cores, $(date -u +%F)"
echo "seed: $("$kith" seed --customers "$customers" --seed 1)"

token=$("$kith" token --role ADMIN --ttl 1h)
# A page of 50 customers with everything nested costs about 216,000 under the cost model
# (contact points at their cap of 50 each), far over the default KITH_MAX_COMPLEXITY of
# 20,000: the benchmark measures speed, so it raises the limit unless told otherwise.
KITH_MAX_COMPLEXITY="${KITH_MAX_COMPLEXITY:-1000000}" \
  RUST_LOG=info "$kith" serve --bind 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/.*GraphQL on \(http[^ ]*\)\/graphql.*/\1/p' "$work/server.log" | head -n 1)
  [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
[ -n "$base" ] || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

gql() { curl -fs "$base/graphql" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$1"; }
queries() { curl -fs "$base/metrics" | awk '/^kith_db_queries_total /{print $2}'; }

first_id=$(gql '{"query":"{ customers(page:{pageSize:1}) { items { id } } }"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["customers"]["items"][0]["id"])')

declare -A body
body[me]='{"query":"{ me { subject roles } }"}'
body[customer_by_id]="{\"query\":\"query(\$id: ID!) { customer(id: \$id) { name accounts { name status } } }\",\"variables\":{\"id\":\"$first_id\"}}"
body[contact_search]='{"query":"{ contacts(page:{pageSize:20}, filter:{search:\"ada\"}) { totalCount items { displayName emailAddress } } }"}'
body[nested_page_50]='{"query":"{ customers(page:{pageSize:50}) { totalCount items { name accounts { name contacts { displayName contactPoints { kind formatted } addresses { city } } } contacts { displayName contactPoints { kind formatted } addresses { city } } } } }"}'

printf '\n| scenario | req/s | p50 | p90 | p99 | SQL statements / request | response bytes |\n|---|---|---|---|---|---|---|\n'
for scenario in me customer_by_id contact_search nested_page_50; do
  response=$(gql "${body[$scenario]}")
  if echo "$response" | grep -q '"errors"'; then echo "$scenario failed: $response" >&2; exit 1; fi
  before=$(queries)
  out=$(KITH_TOKEN="$token" KITH_BODY="${body[$scenario]}" \
    wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/graphql.lua "$base/graphql")
  after=$(queries)
  requests=$(echo "$out" | awk '/requests in/{print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p90=$(echo "$out" | awk '$1=="90%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/{print}')
  per_request=$(python3 -c "print(round(($after - $before) / max($requests, 1), 2))")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$scenario" "$rps" "$p50" "$p90" "$p99" "$per_request" "${#response}"
  [ -z "$errors" ] || echo "  $scenario: $errors"
done
