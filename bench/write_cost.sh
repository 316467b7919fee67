#!/usr/bin/env bash
# What recording history costs writes (issue 14): several Kith binaries side by side, each on
# its own PostgreSQL database seeded by that binary with the same seed, `updateContact` sent
# to each in turn with wrk (bench/mutation.lua: every request changes a contact's firstName),
# alternating rounds so every figure of a row comes from the same minutes of the machine.
# Prints req/s, p99, and SQL statements per mutation (kith_db_queries_total).
#
#   bench/write_cost.sh [--duration S] [--rounds N] [--connections C] NAME=BINARY ...
#   bench/write_cost.sh before=/tmp/kith-before after=target/release/kith
#
# NAME=BINARY@SQL runs SQL on that contender's database once it is seeded and migrated (an
# experiment: `quiet=target/release/kith@ALTER TABLE change_record DISABLE TRIGGER
# change_record_announce` measures history without its NOTIFY).
set -euo pipefail
cd "$(dirname "$0")"

duration=10 rounds=3 connections=8 customers=2000
contenders=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --customers) customers=$2; shift 2 ;;
    *=*) contenders+=("$1"); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#contenders[@]} -gt 0 ] || { echo "name at least one NAME=BINARY" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

declare -A base token ids
for contender in "${contenders[@]}"; do
  name=${contender%%=*} bin=${contender#*=} sql=""
  case "$bin" in *@*) sql=${bin#*@}; bin=${bin%%@*} ;; esac
  db="kith_write_$name"
  url="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db with (force)" >/dev/null
  psql -h 127.0.0.1 -U postgres -qc "create database $db" >/dev/null
  DATABASE_URL=$url "$bin" seed --customers "$customers" --seed 1 >/dev/null
  [ -z "$sql" ] || psql -h 127.0.0.1 -U postgres -qd "$db" -c "$sql" >/dev/null
  psql -h 127.0.0.1 -U postgres -qd "$db" -c "VACUUM ANALYZE" >/dev/null
  port=$(free_port)
  DATABASE_URL=$url JWT_SECRET=$secret KITH_BIND=127.0.0.1:$port RUST_LOG=warn \
    "$bin" serve >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  base[$name]="http://127.0.0.1:$port"
  token[$name]=$(JWT_SECRET=$secret "$bin" token --role ADMIN --sub write-cost)
  # The same 2,000 direct contacts for every contender (same seed, same ids order).
  ids[$name]=$(psql -h 127.0.0.1 -U postgres -d "$db" -Atc \
    "select string_agg(id::text, ',') from (select id from contact where account_id is null and customer_id is not null order by id limit 2000) c")
done

printf '%-10s %-6s %10s %10s %14s\n' contender round 'req/s' 'p99' 'statements/op'
for round in $(seq 1 "$rounds"); do
  for contender in "${contenders[@]}"; do
    name=${contender%%=*}
    before=$(curl -fs "${base[$name]}/metrics" | awk '/^kith_db_queries_total /{print $2}')
    out=$(KITH_TOKEN=${token[$name]} KITH_IDS=${ids[$name]} \
      wrk -t2 -c"$connections" -d"${duration}s" --latency -s mutation.lua "${base[$name]}" 2>"$work/wrk.err")
    after=$(curl -fs "${base[$name]}/metrics" | awk '/^kith_db_queries_total /{print $2}')
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    requests=$(awk '/requests in/{print $1}' <<<"$out")
    p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    per=$(python3 -c "print(f'{($after - $before) / max($requests, 1):.1f}')")
    if [ -s "$work/wrk.err" ]; then echo "errors from $name:" >&2; head -3 "$work/wrk.err" >&2; fi
    printf '%-10s %-6s %10s %10s %14s\n' "$name" "$round" "$rps" "$p99" "$per"
  done
done
