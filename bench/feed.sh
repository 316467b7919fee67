#!/usr/bin/env bash
# Subscription fan-out benchmark (bench/feed.py): a fresh database seeded with 200 customers,
# the release server on a free loopback port, then N WebSocket subscribers to customerChanged
# while an ADMIN client renames customers at a steady rate. Prints delivery counts, latency
# and the server's memory; exits non-zero when a delivery is missing or duplicated (feed.py).
# Everything it creates (temporary SQLite file or PostgreSQL database kith_feed, server) is
# removed when it exits; the venv with `websockets` (bench/.venv-feed) is kept.
#
#   bench/feed.sh [--sqlite | --postgres [URL]] [--smoke] [feed.py args...]
#
#   bench/feed.sh                                      # SQLite, 1000 subscribers, 100 customers, 100 writes/s, 30 s
#   bench/feed.sh --postgres                           # PostgreSQL on postgres://postgres@127.0.0.1:5432 (database kith_feed)
#   bench/feed.sh --postgres postgres://postgres@127.0.0.1:5433 --rate 200
#   bench/feed.sh --smoke                              # 20 subscribers, 5 customers, 10 writes/s, 5 s
#   KITH_BIN=/tmp/kith-old bench/feed.sh --smoke       # another binary
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

database=sqlite
pg_server=postgres://postgres@127.0.0.1:5432
pg_name=kith_feed
feed_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sqlite) database=sqlite; shift ;;
    --postgres)
      database=postgres; shift
      # The URL is optional: a server URL without a database name (kith_feed is created on it).
      if [ $# -gt 0 ] && [[ "$1" == postgres://* || "$1" == postgresql://* ]]; then pg_server=$1; shift; fi
      # Keep scheme, user and host only: a database name or parameters given are dropped.
      pg_server=${pg_server%%\?*}; pg_rest=${pg_server#*://}
      pg_server="${pg_server%%://*}://${pg_rest%%/*}" ;;
    -h|--help) usage ;;
    *) feed_args+=("$1"); shift ;;
  esac
done

kith=${KITH_BIN:-${CARGO_TARGET_DIR:-/var/cache/kith-ci/target}/release/kith}
if [ ! -x "$kith" ]; then
  echo "feed.sh: no kith binary at $kith: build it (cargo build --release) or set KITH_BIN" >&2
  exit 1
fi

# A venv with websockets, made once and kept (bench/.venv-feed is gitignored).
venv=bench/.venv-feed
if ! "$venv/bin/python" -c 'import websockets.asyncio.client, sys; sys.exit(0 if int(websockets.__version__.split(".")[0]) >= 15 else 1)' >/dev/null 2>&1; then
  echo "setting up $venv with websockets" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'websockets>=15'
fi

# Many sockets on both sides: the server and feed.py inherit the raised limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

work=$(mktemp -d)
server_pid=""
pg_created=""
psql_admin() { PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 "$pg_server/postgres?sslmode=disable" -c "$1" >/dev/null; }
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_created" ]; then psql_admin "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

case "$database" in
  sqlite) export DATABASE_URL="sqlite://$work/feed.db?mode=rwc" ;;
  postgres)
    command -v psql >/dev/null 2>&1 || { echo "feed.sh: --postgres needs psql" >&2; exit 1; }
    psql_admin "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)"
    psql_admin "CREATE DATABASE $pg_name"
    pg_created=1
    export DATABASE_URL="$pg_server/$pg_name?sslmode=disable" ;;
esac

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export JWT_SECRET=$secret KITH_BIND=127.0.0.1:$port KITH_LOG_FORMAT=json RUST_LOG=warn

echo "# feed: $database, $kith, $(nproc) cores, fd limit $(ulimit -n), $(date -u '+%F %T') UTC"
seed_started=$(date +%s%N)
seeded=$("$kith" seed --customers 200 --seed 1)
echo "seed: $seeded ($(( ($(date +%s%N) - seed_started) / 1000000 )) ms)"

"$kith" serve >"$work/server.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 300); do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "feed.sh: the server did not become ready on 127.0.0.1:$port; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

status=0
"$venv/bin/python" bench/feed.py --url "http://127.0.0.1:$port" --secret "$secret" --pid "$server_pid" \
  ${feed_args[@]+"${feed_args[@]}"} || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "feed.sh: the server exited during the run; its log:" >&2
  cat "$work/server.log" >&2
  status=1
elif [ -s "$work/server.log" ]; then
  echo "server log (RUST_LOG=warn): $(wc -l <"$work/server.log") lines; the last 20:" >&2
  tail -n 20 "$work/server.log" >&2
fi
exit "$status"
