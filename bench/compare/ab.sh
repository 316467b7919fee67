#!/usr/bin/env bash
# Side by side: several Kith binaries (or settings) on one seeded database, each query sent to
# each of them in turn with wrk, alternating, so that every figure of a row comes from the same
# minutes of the same machine. For "which change bought what" (BENCHMARKS.md).
#
#   bench/compare/ab.sh [--database URL] [--duration S] [--rounds N] [--queries Q1,Q2] \
#       NAME=BINARY[:ENV=VALUE,...] ...
#
#   bench/compare/ab.sh before=/tmp/kith-before after=/tmp/kith-after \
#       off=/tmp/kith-after:KITH_COMPILED_READS=false
#
# The database defaults to kith_cmp_10000 (seeded by bench/compare/run.sh) over plain TCP; an
# SQLite URL works too. Queries are bench/compare/queries/kith-QN.graphql (Q1 takes the first
# customer's id). Prints req/s, p99 and the server's CPU per request.
set -euo pipefail
cd "$(dirname "$0")"

database="postgres://postgres@127.0.0.1:5432/kith_cmp_10000?sslmode=disable"
duration=10 rounds=2 queries="Q1,Q2,Q4"
contenders=()
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    *=*) contenders+=("$1"); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#contenders[@]} -gt 0 ] || { echo "name at least one NAME=BINARY" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

export JWT_SECRET="ab-$(date +%s%N)-a-secret-of-at-least-32-bytes" RUST_LOG=warn
export KITH_MAX_COMPLEXITY=1000000
declare -A port pid
index=0
for contender in "${contenders[@]}"; do
  name=${contender%%=*}
  spec=${contender#*=}
  binary=${spec%%:*}
  settings=""
  [ "$spec" != "$binary" ] && settings=${spec#*:}
  port[$name]=$((18700 + index))
  index=$((index + 1))
  # shellcheck disable=SC2086
  env DATABASE_URL="$database" $(echo "$settings" | tr ',' ' ') \
    "$binary" serve --bind "127.0.0.1:${port[$name]}" 2>"$work/$name.log" &
  pid[$name]=$!
  pids+=("$!")
done
for name in "${!port[@]}"; do
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:${port[$name]}/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
done
first=${contenders[0]}
binary=${first#*=}; binary=${binary%%:*}
token=$(DATABASE_URL="$database" "$binary" token --role ADMIN --ttl 1h)
first_name=${first%%=*}
customer=$(curl -fs "http://127.0.0.1:${port[$first_name]}/graphql" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"query":"{ customers(page: {pageSize: 1}) { items { id } } }"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["customers"]["items"][0]["id"])')

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "# $(date -u '+%F %H:%M') UTC, $(nproc) cores, wrk -t2 -c16 -d${duration}s, $rounds round(s), $database"
printf '| query | round | %s |\n' "$(for c in "${contenders[@]}"; do printf '%s: req/s, p99, CPU ms/req | ' "${c%%=*}"; done | sed 's/ | $//')"
for query in ${queries//,/ }; do
  python3 - "$query" "$customer" "$work/$query.json" <<'PY'
import json, sys
query, customer, out = sys.argv[1:]
text = "\n".join(l for l in open(f"queries/kith-{query}.graphql") if not l.startswith("#"))
body = {"query": text}
if query == "Q1":
    body["variables"] = {"id": customer}
json.dump(body, open(out, "w"))
PY
  cat >"$work/$query.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = io.open("$work/$query.json"):read("a")
LUA
  for round in $(seq 1 "$rounds"); do
    row="| $query | $round |"
    for contender in "${contenders[@]}"; do
      name=${contender%%=*}
      before=$(cpu "${pid[$name]}")
      out=$(wrk -t2 -c16 -d"${duration}s" --latency -s "$work/$query.lua" "http://127.0.0.1:${port[$name]}/graphql")
      after=$(cpu "${pid[$name]}")
      requests=$(echo "$out" | awk '/requests in/{print $1}')
      bad=$(echo "$out" | awk '/Non-2xx/{print $NF}')
      row="$row $(echo "$out" | awk '/Requests\/sec/{print $2}'), $(echo "$out" | awk '$1=="99%"{print $2}'), $(python3 -c "print(round(($after - $before) * 1000 / $ticks / max($requests, 1), 2))")${bad:+ ($bad non-2xx)} |"
    done
    echo "$row"
  done
done
