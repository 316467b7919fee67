#!/usr/bin/env bash
# Kith's attack set (issue 9): seeds a fresh database, starts Kith on a free loopback port and
# runs the abusive requests of issue 9 against it, each bounded in time and count, while a probe
# measures a small query and a sampler reads the server's RSS. Prints one table. It measures; it
# asserts nothing. Traffic goes to 127.0.0.1 only; everything it creates is removed on exit.
#
#   bench/attack/run.sh [--build] [--database sqlite|postgres] [--outage] [--customers N] [--quick]
#
#   --build      cargo build --release first (default: use target/release/kith if present,
#                else target/debug/kith, with a warning: debug figures are not comparable)
#   --database   sqlite (default, a temporary file) or postgres (a fresh database on
#                127.0.0.1:5432, user postgres, dropped afterwards)
#   --outage     PostgreSQL only: the database lives in a THROWAWAY cluster (initdb/pg_ctl as the
#                postgres OS user, on another port) instead, which attack g stops for 10 s
#   --quick      small sizes and short durations, no 60 s idle wait: a smoke, not a measurement
#   KITH_BIN=... attack that binary instead (no build, no choice)
set -euo pipefail
cd "$(dirname "$0")/../.."

build=0 database=sqlite outage=0 quick=0 customers=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=1; shift ;;
    --database) database=$2; shift 2 ;;
    --outage) outage=1; shift ;;
    --customers) customers=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$database" in sqlite|postgres) ;; *) echo "--database is sqlite or postgres" >&2; exit 2 ;; esac
if [ "$outage" = 1 ] && [ "$database" != postgres ]; then
  echo "--outage needs --database postgres" >&2; exit 2
fi
[ "$quick" = 1 ] && [ "$customers" = 2000 ] && customers=200

if [ "$build" = 1 ]; then cargo build --release -q; fi
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if [ -n "${KITH_BIN:-}" ]; then
  kith=$KITH_BIN profile="binary $KITH_BIN"
elif [ -x "$target_dir/release/kith" ]; then
  kith="$target_dir/release/kith" profile="release build"
elif [ -x "$target_dir/debug/kith" ]; then
  kith="$target_dir/debug/kith" profile="debug build"
  echo "WARNING: no release build ($target_dir/release/kith); using the debug build, whose figures are not comparable (--build makes a release build)" >&2
else
  echo "no kith binary in $target_dir: run with --build (or cargo build)" >&2; exit 1
fi
if [ "$build" = 0 ] && [ "$profile" = "release build" ] && [ -n "$(find src entity migration Cargo.toml Cargo.lock -newer "$kith" -print -quit 2>/dev/null)" ]; then
  echo "WARNING: $kith is older than the sources; --build rebuilds it" >&2
fi

work=$(mktemp -d)
pg_db="" pg_dir="" pg_ctl=""
cleanup() {
  # attack.py stops its own server; these are the databases it used.
  [ -n "$pg_db" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  if [ -n "$pg_dir" ]; then
    runuser -u postgres -- "$pg_ctl" -D "$pg_dir/data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

case "$database" in
  sqlite) export DATABASE_URL="sqlite://$work/attack.db?mode=rwc" ;;
  postgres)
    if [ "$outage" = 1 ]; then
      # A cluster of our own, so stopping it troubles nobody (never the shared one on 5432).
      bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
      [ -x "$bindir/initdb" ] || { echo "initdb not found under /usr/lib/postgresql" >&2; exit 1; }
      pg_ctl="$bindir/pg_ctl"
      pg_dir=$(mktemp -d /tmp/kith-attack-pg.XXXXXX)
      chown postgres: "$pg_dir"
      pg_port=$(free_port)
      runuser -u postgres -- "$bindir/initdb" -D "$pg_dir/data" -U postgres -A trust >"$pg_dir/initdb.log" 2>&1
      pg_opts="-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1"
      runuser -u postgres -- "$pg_ctl" -D "$pg_dir/data" -o "$pg_opts" -l "$pg_dir/pg.log" -w start >/dev/null
      export KITH_ATTACK_PG_STOP="runuser -u postgres -- $pg_ctl -D $pg_dir/data -m fast -w stop"
      export KITH_ATTACK_PG_START="runuser -u postgres -- $pg_ctl -D $pg_dir/data -o '$pg_opts' -l $pg_dir/pg.log -w start"
      export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
    else
      pg_db="kith_attack_$$"
      psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_db" >/dev/null
      export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db"
    fi ;;
esac

# Fixed, >= 32 bytes: tokens minted below stay valid across the restarts attack.py may do.
export JWT_SECRET="kith-attack-set-fixed-secret-0123456789abcdef"
export RUST_LOG="${RUST_LOG:-info}"

echo "# seeding $customers customers: $("$kith" seed --customers "$customers" --seed 1 2>&1 | tail -n 1)" >&2
database_label=$database
[ "$outage" = 1 ] && database_label="$database (throwaway cluster)"
args=(--kith "$kith" --log "$work/server.log" --database "$database_label"
  --build-label "$profile, $customers customers")
[ "$quick" = 1 ] && args+=(--quick)
status=0
python3 bench/attack/attack.py "${args[@]}" || status=$?
if [ "$status" != 0 ]; then
  echo "attack.py failed ($status); last server log lines:" >&2
  tail -n 20 "$work/server.log" >&2 || true
fi
exit "$status"
