#!/usr/bin/env bash
# GraphiQL in a real browser (issue 12, item 10): Debian's chromium (installed with apt-get when
# missing; never a browser download) driven by playwright-core (pinned in package-lock.json,
# installed beside the build cache) against `kith serve --demo` on a temporary SQLite file.
# Runs twice: as a development server (no key: GraphiQL carries the printed ADMIN token) and
# with JWT_SECRET set (no token in the page: the Docs must load anyway, and a pasted token
# must work). Screenshots go to $CARGO_TARGET_DIR/browser/. Ends with `browser: N passed, M failed`.
#
#   [KITH_BIN=path/to/kith] tests/browser/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
chromium=/usr/bin/chromium

if [ ! -x "$chromium" ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# node_modules live beside the build cache, keyed by the lockfile's hash (as the fuzz venv is).
modules="$target_dir/browser-npm-$(sha256sum tests/browser/package-lock.json | cut -c1-12)"
if [ ! -d "$modules/node_modules/playwright-core" ]; then
  echo "installing playwright-core into $modules"
  rm -rf "$modules"
  mkdir -p "$modules"
  cp tests/browser/package.json tests/browser/package-lock.json "$modules/"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing, but say it anyway.
  (cd "$modules" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --silent)
fi

if [ -n "${KITH_BIN:-}" ]; then
  kith=$KITH_BIN
else
  cargo build -q --bin kith
  kith="$target_dir/debug/kith"
fi

shots="$target_dir/browser"
mkdir -p "$shots"
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

# start_server NAME [VAR=VALUE...]: `kith serve --demo` on a fresh SQLite file and a free port;
# sets $base from the address the server logs.
start_server() {
  local name=$1
  shift
  env -u JWT_SECRET -u JWT_PUBLIC_KEY_FILE "$@" DATABASE_URL="sqlite://$work/$name.db?mode=rwc" \
    RUST_LOG=info "$kith" serve --demo --bind 127.0.0.1:0 >"$work/$name.log" 2>&1 &
  server_pid=$!
  base=""
  for _ in $(seq 1 200); do
    # The log may not exist yet: the server was only just started.
    base=$(sed -n 's/.*GraphQL on \(http[^ ]*\)\/graphql.*/\1/p' "$work/$name.log" 2>/dev/null | head -n 1 || true)
    [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

passed=0 failed=0
# run_mode MODE [TOKEN]: drive the page; the script prints `mode: N passed, M failed` last.
run_mode() {
  local mode=$1 token=${2:-} summary
  KITH_BROWSER_MODULES="$modules/node_modules" KITH_BASE_URL="$base" KITH_MODE="$mode" \
    KITH_TOKEN="$token" KITH_SHOTS="$shots" KITH_CHROMIUM="$chromium" KITH_PROFILE="$work/profile-$mode" \
    node tests/browser/graphiql.mjs | tee "$work/$mode.out" || true
  summary=$(tail -n 1 "$work/$mode.out")
  if [[ $summary =~ ^$mode:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    echo "the $mode run did not finish" >&2
    failed=$((failed + 1))
  fi
}

start_server dev
run_mode dev
stop_server

secret="kith-browser-fixed-secret-0123456789abcdef"
start_server jwt JWT_SECRET="$secret"
token=$(JWT_SECRET="$secret" "$kith" token --role ADMIN --ttl 10m --sub browser-test)
run_mode jwt "$token"
stop_server

echo "browser: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
