#!/usr/bin/env bash
# Memory after a burst: start `kith serve` on a seeded PostgreSQL database, load it with
# Q2 (bench/compare/queries/kith-Q2.graphql: 50 customers, nested) for 20 s, then print the
# server's resident memory (VmRSS, and its anonymous and file-backed parts) every 6 s for a
# minute of idleness. Issue 11's target: under 40 MB a minute after. Prints figures; asserts
# nothing.
#
#   bench/idle_rss.sh                                  # the release build, database kith_keyset
#   KITH_BIN=/tmp/kith-old bench/idle_rss.sh kith_cmp_10000
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-kith_keyset}
bin=${KITH_BIN:-/var/cache/kith-ci/target/release/kith}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database?sslmode=disable"
export JWT_SECRET=idle-rss-secret-that-is-long-enough-0123456789
export KITH_BIND=127.0.0.1:$port KITH_MAX_COMPLEXITY=10000000 RUST_LOG=warn
log=$(mktemp)
"$bin" serve >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
token=$("$bin" token --role ADMIN)
body=$(python3 -c 'import json; print(json.dumps({"query": open("bench/compare/queries/kith-Q2.graphql").read()}))')
memory() {
  awk '/^VmRSS/ {rss = $2} /^RssAnon/ {anon = $2} /^RssFile/ {file = $2}
       END {printf "VmRSS %.1f MiB (anonymous %.1f, file %.1f)", rss / 1024, anon / 1024, file / 1024}' \
    "/proc/$pid/status"
}
echo "binary $bin, database $database"
echo "started:        $(memory)"
KITH_TOKEN=$token KITH_BODY=$body wrk -t2 -c16 -d20s -s bench/graphql.lua "http://127.0.0.1:$port/graphql" |
  awk '/Requests\/sec/ {print "Q2 load, 20 s: " $2 " req/s"}'
echo "after the load: $(memory)"
for second in 6 12 18 24 30 36 42 48 54 60; do
  sleep 6
  printf 'idle %2d s:      %s\n' "$second" "$(memory)"
done
