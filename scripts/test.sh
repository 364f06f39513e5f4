#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start command 2: installs what is missing, builds, starts a private PostgreSQL 15 and
# Redis 7 on loopback and a D-Bus session with an unlocked gnome-keyring, runs every CTest test,
# and stops what it started; also runs the fuzz targets for 30 s each (scripts/fuzz.sh --ci).
# Extra arguments go to ctest (e.g. -L unit, -R Api).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EHRS_BUILD_DIR:-$root/build}
jobs=${EHRS_JOBS:-$(nproc)}

bash "$root/scripts/install-deps.sh" test

werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEHRS_BUILD_TESTS=ON \
  -DEHRS_WERROR=$werror >/dev/null
cmake --build "$build" -j "$jobs"
# The OpenAPI checks' validators from npm, into the build dir (reused while the lock file is unchanged).
bash "$root/tests/openapi/install-validators.sh" "$build/npm"

# Fuzzing first (bounded: 30 s per target; builds its own clang tree), so CTest's summary ends
# the output. EHRS_SKIP_FUZZ=1 skips it for quick local runs.
fuzz_rc=0
if [ "${EHRS_SKIP_FUZZ:-}" != "1" ]; then
  bash "$root/scripts/fuzz.sh" --ci --jobs "$jobs" || fuzz_rc=$?
fi

work=$(mktemp -d /tmp/ehrs-test.XXXXXX)
chmod 755 "$work"
pgbin=/usr/lib/postgresql/15/bin
pgdata=$work/pg
redis_pid=""

free_port() { # first free loopback port from $1
  local p=$1
  while (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

cleanup() {
  set +e
  if [ -f "$pgdata/postmaster.pid" ]; then
    su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$pgdata' -m fast -w stop" >/dev/null 2>&1
  fi
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

pgport=$(free_port 55432)
mkdir -p "$pgdata" "$work/pgsock"
chown postgres:postgres "$pgdata" "$work/pgsock"
su postgres -s /bin/sh -c "$pgbin/initdb -D '$pgdata' -A trust -U postgres -E UTF8 --no-sync" >/dev/null
su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$pgdata' -l '$pgdata/log' -w -o \"-p $pgport -k $work/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300\" start" >/dev/null
echo "test.sh: PostgreSQL 15 on 127.0.0.1:$pgport"

redisport=$(free_port 56379)
redis-server --port "$redisport" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
  --dir "$work" --pidfile "$work/redis.pid" --logfile "$work/redis.log"
for _ in $(seq 50); do [ -s "$work/redis.pid" ] && break; sleep 0.1; done
redis_pid=$(cat "$work/redis.pid")
echo "test.sh: Redis $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on 127.0.0.1:$redisport"

export EHRS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/postgres"
export EHRS_TEST_REDIS_URL="redis://127.0.0.1:$redisport/0"
export EHRS_REQUIRE_SERVICES=1
export XDG_DATA_HOME=$work/xdg-data XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

set +e
dbus-run-session -- sh -c '
  eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  build=$0 jobs=$1; shift
  ctest --test-dir "$build" --output-on-failure --timeout 600 -j "$jobs" "$@"' "$build" "$jobs" "$@"
rc=$?
if [ "$fuzz_rc" -ne 0 ]; then
  echo "test.sh: fuzzing found a problem (see the fuzz.sh lines above)" >&2
  [ "$rc" -ne 0 ] || rc=$fuzz_rc
fi
exit $rc
