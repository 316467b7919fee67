#!/usr/bin/env bash
# Kith against PostGraphile 4 and 5 on one seeded PostgreSQL database (see README.md here).
#
#   bench/compare/run.sh [--customers N] [--only kith,postgraphile5,...] [--queries Q1,Q2]
#                        [--duration S] [--rounds N] [--warmup S] [--idle-wait S]
#                        [--no-floor] [--no-charts] [--skip-install] [--smoke]
#
# Installs what is missing (wrk, the PostGraphile versions pinned in pg4/ and pg5/ into
# .work/, a venv with matplotlib for the charts), then runs compare.py. --smoke runs Kith alone
# and needs only wrk, psql, python3 and the Kith binary ($KITH_BIN).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work="$here/.work"

smoke=0 skip_install=0 charts=1 only="kith-tls,kith,postgraphile5,postgraphile4,kith-sqlite"
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --skip-install) skip_install=1 ;;
    --no-charts) charts=0 ;;
    --only) only=${2:-}; shift ;;
    --only=*) only=${1#--only=} ;;
  esac
  shift
done

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v psql >/dev/null 2>&1 || apt_install postgresql-client

if [ "$smoke" = 0 ] && [ "$skip_install" = 0 ]; then
  # pgbench replays Kith's statements for the SQL floor. Debian ships it with the server
  # package before PostgreSQL 16 and with the client after; the floor is skipped without it.
  pgbench --version >/dev/null 2>&1 || apt_install postgresql-client || true

  mkdir -p "$work"
  for version in 4 5; do
    case ",$only," in *",postgraphile$version,"*) ;; *) continue ;; esac
    target="$work/pg$version"
    mkdir -p "$target"
    # npm ci only when the pinned lock changed since the last install.
    if ! cmp -s "$here/pg$version/package-lock.json" "$target/package-lock.json" \
        || [ ! -d "$target/node_modules" ]; then
      echo "installing PostGraphile $version into $target" >&2
      cp "$here/pg$version/package.json" "$here/pg$version/package-lock.json" "$target/"
      (cd "$target" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  done

  if [ "$charts" = 1 ]; then
    if [ ! -x "$work/venv/bin/python" ]; then python3 -m venv "$work/venv"; fi
    if ! "$work/venv/bin/python" -c 'import matplotlib' >/dev/null 2>&1; then
      echo "installing matplotlib into $work/venv" >&2
      "$work/venv/bin/pip" install -q matplotlib
    fi
  fi
fi

exec python3 "$here/compare.py" "${args[@]}"
