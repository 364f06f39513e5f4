#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Package test (CTest label "package"): builds the Debian packages from this build tree with
# cpack, checks their contents and metadata, installs them (dpkg -i as root on a machine where
# nothing of EHR Sessions is installed; else dpkg-deb -x into a scratch root), starts the
# *installed* server from its installed paths against the test PostgreSQL
# (EHRS_TEST_DATABASE_URL, a fresh database), creates a user with the installed CLI and runs
# login -> list -> revoke over HTTP; then stops it and purges the packages.
#
# usage: package_test.sh BUILD_DIR EXPECTED_VERSION HAVE_AGENT(0|1) HAVE_APP(0|1)
# EHRS_PACKAGE_TEST_INSTALL=auto|dpkg|destdir (default auto: dpkg when possible).
set -euo pipefail

build=${1:?build dir}
expected_version=${2:?version}
have_agent=${3:-1}
have_app=${4:-0}
mode=${EHRS_PACKAGE_TEST_INSTALL:-auto}

work=$(mktemp -d /tmp/ehrs-package.XXXXXX)
chmod 755 "$work"
installed=0      # 1 once dpkg -i ran: cleanup purges
server_pid=""
db_name=""
failures=0

log() { echo "package-test: $*"; }
fail() { echo "package-test: FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "package-test: FATAL: $*" >&2; exit 1; }
expect() { # expect DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then log "ok: $what"; else fail "$what"; fi
}

psql_admin() { psql "$EHRS_TEST_DATABASE_URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

# The server process itself: the deepest descendant of $server_pid (a subshell, then runuser).
server_process() {
  local pid=$server_pid child
  while child=$(pgrep -P "$pid" 2>/dev/null | sed -n 1p) && [ -n "$child" ]; do pid=$child; done
  echo "$pid"
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  local target
  target=$(server_process)
  kill -TERM "$target" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    fail "the server did not stop within 10 s of SIGTERM"
    kill -KILL "$target" "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

cleanup() {
  local rc=$?
  set +e
  stop_server
  if [ "$installed" = 1 ]; then
    log "cleanup: dpkg --purge ehr-sessions ehr-sessions-server"
    dpkg --purge ehr-sessions ehr-sessions-server >"$work/purge-cleanup.log" 2>&1 || cat "$work/purge-cleanup.log"
  fi
  if [ -n "$db_name" ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1
  fi
  if [ "$rc" != 0 ] && [ -f "$work/server.log" ]; then
    echo "--- server log ---"; cat "$work/server.log"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

for tool in cpack dpkg-deb curl jq; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps is missing: apt-get install dpkg-dev"
[ "$have_agent" = 1 ] || log "no agent in this build: only ehr-sessions-server is packaged"

# ---------------------------------------------------------------------------------------------
# 1. Build the packages from the current build tree.
log "cpack -G DEB -B $work/out (in $build)"
if ! (cd "$build" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"
  die "cpack failed"
fi
arch=$(dpkg --print-architecture)
server_deb=$work/out/ehr-sessions-server_${expected_version}_${arch}.deb
desktop_deb=$work/out/ehr-sessions_${expected_version}_${arch}.deb
ls -l "$work"/out/*.deb
[ -f "$server_deb" ] || die "missing $(basename "$server_deb")"
debs=("$server_deb")
if [ "$have_agent" = 1 ]; then
  [ -f "$desktop_deb" ] || die "missing $(basename "$desktop_deb")"
  debs+=("$desktop_deb")
fi
expect "exactly ${#debs[@]} packages built" [ "$(find "$work/out" -maxdepth 1 -name '*.deb' | wc -l)" = "${#debs[@]}" ]

# ---------------------------------------------------------------------------------------------
# 2. Metadata and contents.
field() { dpkg-deb -f "$1" "$2"; }
has_dep() { # has_dep DEB FIELD PACKAGE: PACKAGE appears as an alternative in FIELD
  field "$1" "$2" | tr ',|' '\n\n' | sed -E 's/^ *//; s/ *\(.*//; s/ *$//' | grep -x -- "$3" >/dev/null
}
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's#^\./#/#; s#/$##'; }
has_file() { contents "$1" | grep -x -- "$2" >/dev/null; }
mode_of() { dpkg-deb -c "$1" | awk -v p=".$2" '$6 == p {print $1, $2}'; }

owner_of() { # the package that owns a library path (merged /usr: try both spellings)
  local real c
  real=$(readlink -f "$1")
  for c in "$1" "$real" "${1#/usr}" "${real#/usr}" "/usr${1#/usr}" "/usr${real#/usr}"; do
    dpkg -S "$c" 2>/dev/null | grep -v '^diversion' | sed -n '1s/:.*//p' | grep . && return 0
  done
  return 0
}
# Every shared library a packaged binary needs must come from a package in Depends.
check_shlib_deps() { # DEB BINARY-PATH-IN-PACKAGE
  local deb=$1 bin=$2 x soname path pkg
  x=$work/x-$(basename "$deb")
  mkdir -p "$x"; dpkg-deb -x "$deb" "$x"
  for soname in $(readelf -d "$x$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(ldconfig -p | awk -v s="$soname" '$1 == s && !found {print $NF; found = 1}')
    [ -n "$path" ] || { fail "$bin: $soname not found by ldconfig"; continue; }
    pkg=$(owner_of "$path")
    [ -n "$pkg" ] || { fail "$bin: no package owns $path"; continue; }
    if has_dep "$deb" Depends "$pkg"; then log "ok: $bin needs $soname, Depends has $pkg"
    else fail "$bin needs $soname from $pkg, which is not in Depends: $(field "$deb" Depends)"; fi
  done
}

log "--- dpkg-deb -I $(basename "$server_deb")"; dpkg-deb -I "$server_deb"
log "--- dpkg-deb -c $(basename "$server_deb")"; dpkg-deb -c "$server_deb"

expect "server: Package" [ "$(field "$server_deb" Package)" = ehr-sessions-server ]
expect "server: Version $expected_version" [ "$(field "$server_deb" Version)" = "$expected_version" ]
expect "server: Architecture $arch" [ "$(field "$server_deb" Architecture)" = "$arch" ]
for dep in adduser libqt6sql6-psql libqt6sql6-sqlite libqt6core6 libqt6network6 libqt6sql6 libc6 libpq5; do
  expect "server: Depends has $dep" has_dep "$server_deb" Depends "$dep"
done
check_shlib_deps "$server_deb" /usr/bin/ehr-sessions-server
for f in /usr/bin/ehr-sessions-server /usr/lib/systemd/system/ehr-sessions-server.service \
         /etc/ehr-sessions/server.env /usr/share/doc/ehr-sessions-server/copyright \
         /usr/share/bash-completion/completions/ehr-sessions-server; do
  expect "server: contains $f" has_file "$server_deb" "$f"
done
expect "server: migrations for PostgreSQL" sh -c "dpkg-deb -c '$server_deb' | grep './usr/share/ehr-sessions/migrations/postgres/.*\.sql$' >/dev/null"
expect "server: migrations for SQLite" sh -c "dpkg-deb -c '$server_deb' | grep './usr/share/ehr-sessions/migrations/sqlite/.*\.sql$' >/dev/null"
expect "server: binary is -rwxr-xr-x root/root" [ "$(mode_of "$server_deb" /usr/bin/ehr-sessions-server)" = "-rwxr-xr-x root/root" ]
expect "server: server.env is -rw-r----- in the package" [ "$(mode_of "$server_deb" /etc/ehr-sessions/server.env | cut -d' ' -f1)" = "-rw-r-----" ]

ctrl=$work/ctrl-server; mkdir -p "$ctrl"; dpkg-deb -e "$server_deb" "$ctrl"
expect "server: conffiles lists server.env" grep -qx /etc/ehr-sessions/server.env "$ctrl/conffiles"
for s in postinst prerm postrm; do
  expect "server: $s is executable and parses" sh -c "[ -x '$ctrl/$s' ] && sh -n '$ctrl/$s'"
done

xs=$work/x-$(basename "$server_deb")
unit=$xs/usr/lib/systemd/system/ehr-sessions-server.service
for line in User=ehr-sessions Group=ehr-sessions ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes \
            PrivateTmp=yes StateDirectory=ehr-sessions EnvironmentFile=/etc/ehr-sessions/server.env \
            "ExecStart=/usr/bin/ehr-sessions-server serve --config /etc/ehr-sessions/server.env" \
            Restart=on-failure WantedBy=multi-user.target; do
  expect "unit: $line" grep -qxF "$line" "$unit"
done
expect "server.env sets EHRS_DATA_DIR=/var/lib/ehr-sessions" grep -qx EHRS_DATA_DIR=/var/lib/ehr-sessions "$xs/etc/ehr-sessions/server.env"

# The default config is accepted, and every setting it documents (commented out) is a known key.
expect "server.env: the installed defaults parse (migrate on a scratch SQLite)" \
  env -i HOME="$work" "$xs/usr/bin/ehr-sessions-server" migrate --config "$xs/etc/ehr-sessions/server.env" \
  --data-dir "$work/parse-check"
grep -E '^#[A-Z_]+=' "$xs/etc/ehr-sessions/server.env" | sed 's/^#//' | cut -d= -f1 | while read -r key; do
  printf '%s=\n' "$key"
done >"$work/all-keys.env"
expect "server.env: every documented setting is a known key" \
  sh -c "! env -i HOME='$work' '$xs/usr/bin/ehr-sessions-server' migrate --config '$work/all-keys.env' --data-dir '$work/keys-check' 2>&1 | grep -q 'unknown setting'"

if [ "$have_agent" = 1 ]; then
  log "--- dpkg-deb -I $(basename "$desktop_deb")"; dpkg-deb -I "$desktop_deb"
  log "--- dpkg-deb -c $(basename "$desktop_deb")"; dpkg-deb -c "$desktop_deb"
  expect "desktop: Package" [ "$(field "$desktop_deb" Package)" = ehr-sessions ]
  expect "desktop: Version $expected_version" [ "$(field "$desktop_deb" Version)" = "$expected_version" ]
  expect "desktop: Recommends gnome-keyring | kwalletmanager" \
    sh -c "dpkg-deb -f '$desktop_deb' Recommends | grep -q 'gnome-keyring | kwalletmanager'"
  for dep in libqt6core6 libqt6dbus6 libqt6network6 libqt6keychain1 libc6; do
    expect "desktop: Depends has $dep" has_dep "$desktop_deb" Depends "$dep"
  done
  check_shlib_deps "$desktop_deb" /usr/bin/ehr-sessions-agent
  desktop_files=(/usr/bin/ehr-sessions-agent /usr/lib/systemd/user/ehr-sessions-agent.service
                 /usr/lib/systemd/user/ehr-sessions-agent.socket
                 /etc/xdg/autostart/ehr-sessions-agent.desktop /etc/ehr-sessions/client.conf
                 /usr/share/icons/hicolor/scalable/apps/ehr-sessions.svg /usr/share/doc/ehr-sessions/copyright
                 /usr/share/bash-completion/completions/ehr-sessions-agent)
  if [ "$have_app" = 1 ]; then
    desktop_files+=(/usr/bin/ehr-sessions /usr/share/applications/ehr-sessions.desktop)
    for dep in libqt6gui6 libqt6widgets6 libqt6svg6; do # libqt6gui6: xcb plugin; libqt6svg6: SVG icons
      expect "desktop: Depends has $dep" has_dep "$desktop_deb" Depends "$dep"
    done
    check_shlib_deps "$desktop_deb" /usr/bin/ehr-sessions
  else
    expect "desktop: no app .desktop file without the app" sh -c "! dpkg-deb -c '$desktop_deb' | grep applications/ >/dev/null"
  fi
  for f in "${desktop_files[@]}"; do
    expect "desktop: contains $f" has_file "$desktop_deb" "$f"
  done
  ctrl=$work/ctrl-desktop; mkdir -p "$ctrl"; dpkg-deb -e "$desktop_deb" "$ctrl"
  expect "desktop: conffiles lists the autostart entry" grep -qx /etc/xdg/autostart/ehr-sessions-agent.desktop "$ctrl/conffiles"
  expect "desktop: conffiles lists client.conf" grep -qx /etc/ehr-sessions/client.conf "$ctrl/conffiles"
  for s in postinst postrm; do
    expect "desktop: $s is executable and parses" sh -c "[ -x '$ctrl/$s' ] && sh -n '$ctrl/$s'"
  done
  files_of() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sort; }
  expect "no file is in both packages" [ -z "$(comm -12 <(files_of "$server_deb") <(files_of "$desktop_deb"))" ]
  if command -v desktop-file-validate >/dev/null; then
    xd=$work/x-$(basename "$desktop_deb")
    expect "autostart entry validates" desktop-file-validate "$xd/etc/xdg/autostart/ehr-sessions-agent.desktop"
    [ "$have_app" = 1 ] && expect "app .desktop validates" desktop-file-validate "$xd/usr/share/applications/ehr-sessions.desktop"
  fi
fi
for deb in "${debs[@]}"; do
  stray=$(contents "$deb" | grep -vE '^/?$|^/usr$|^/usr/(bin|share)(/|$)|^/usr/lib$|^/usr/lib/systemd(/|$)|^/etc(/|$)' || true)
  expect "$(basename "$deb"): only /usr/bin, /usr/lib/systemd, /usr/share and /etc${stray:+ (stray: $stray)}" [ -z "$stray" ]
done
[ "$failures" = 0 ] || die "$failures check(s) failed on the package files"

# ---------------------------------------------------------------------------------------------
# 3. Install.
installed_status() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep 'install ok installed' >/dev/null; }
if [ "$mode" = auto ]; then
  mode=destdir
  if [ "$(id -u)" = 0 ]; then
    if installed_status ehr-sessions-server || installed_status ehr-sessions || getent passwd ehr-sessions >/dev/null ||
       [ -e /var/lib/ehr-sessions ] || [ -e /etc/ehr-sessions ]; then
      log "EHR Sessions is already installed here: not touching it; checking in a DESTDIR instead"
    else
      mode=dpkg
    fi
  else
    log "not root: checking in a DESTDIR instead of dpkg -i"
  fi
fi
log "install mode: $mode"

secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
password="pkg-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
email=package-test@example.org

database_url=""
if [ -n "${EHRS_TEST_DATABASE_URL:-}" ]; then
  command -v psql >/dev/null || die "psql is missing (postgresql-client)"
  db_name="ehrs_pkg_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  psql_admin -c "CREATE DATABASE $db_name" >/dev/null || die "cannot create a database on $EHRS_TEST_DATABASE_URL"
  database_url=$(printf '%s' "$EHRS_TEST_DATABASE_URL" | sed -E "s#^(postgres(ql)?://[^/?]+)(/[^?]*)?(\?.*)?\$#\1/$db_name\4#")
  log "fresh database $db_name"
elif [ "${EHRS_REQUIRE_SERVICES:-}" = 1 ]; then
  die "EHRS_TEST_DATABASE_URL is not set (EHRS_REQUIRE_SERVICES=1)"
else
  log "no EHRS_TEST_DATABASE_URL: the round trip runs on the embedded SQLite default"
fi

port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
port=$((20000 + RANDOM % 20000))
while ! port_free "$port"; do port=$((port + 1)); done

rundir=$work/run
mkdir -p "$rundir"

if [ "$mode" = dpkg ]; then
  [ "$(id -u)" = 0 ] || die "dpkg mode needs root"
  bin=/usr/bin/ehr-sessions-server
  conf=/etc/ehr-sessions/server.env
  log "dpkg -i ${debs[*]##*/}"
  installed=1
  if ! dpkg -i "${debs[@]}" >"$work/install.log" 2>&1; then cat "$work/install.log"; die "dpkg -i failed"; fi
  cat "$work/install.log"
  expect "installed: ehr-sessions-server" installed_status ehr-sessions-server
  [ "$have_agent" = 1 ] && expect "installed: ehr-sessions" installed_status ehr-sessions
  expect "system user ehr-sessions (uid < 1000, nologin, home /var/lib/ehr-sessions)" \
    sh -c 'e=$(getent passwd ehr-sessions) && [ "$(echo "$e" | cut -d: -f3)" -lt 1000 ] &&
           [ "$(echo "$e" | cut -d: -f6)" = /var/lib/ehr-sessions ] && [ "$(echo "$e" | cut -d: -f7)" = /usr/sbin/nologin ]'
  expect "group ehr-sessions" getent group ehr-sessions
  expect "/var/lib/ehr-sessions is 700 ehr-sessions:ehr-sessions" [ "$(stat -c '%a %U:%G' /var/lib/ehr-sessions)" = "700 ehr-sessions:ehr-sessions" ]
  expect "$conf is 640 root:ehr-sessions" [ "$(stat -c '%a %U:%G' "$conf")" = "640 root:ehr-sessions" ]
  expect "postinst migrated the default (embedded) database as ehr-sessions" \
    [ "$(stat -c %U /var/lib/ehr-sessions/ehr-sessions.db 2>/dev/null)" = ehr-sessions ]
  expect "unit enabled (multi-user.target.wants)" [ -L /etc/systemd/system/multi-user.target.wants/ehr-sessions-server.service ]
  if [ "$have_agent" = 1 ]; then
    expect "agent user unit enabled globally (default.target.wants)" [ -L /etc/systemd/user/default.target.wants/ehr-sessions-agent.service ]
    expect "agent socket enabled globally (sockets.target.wants)" [ -L /etc/systemd/user/sockets.target.wants/ehr-sessions-agent.socket ]
    expect "installed agent runs (--help)" sh -c '/usr/bin/ehr-sessions-agent --help >/dev/null'
  fi
  if [ "$have_app" = 1 ]; then
    expect "installed app runs (--help)" sh -c 'QT_QPA_PLATFORM=offscreen /usr/bin/ehr-sessions --help >/dev/null'
  fi
  if command -v systemd-analyze >/dev/null; then
    expect "systemd-analyze verify (installed unit)" sh -c \
      "systemd-analyze verify /usr/lib/systemd/system/ehr-sessions-server.service >'$work/verify.log' 2>&1 || { cat '$work/verify.log'; false; }"
  fi

  # Upgrade path (same version re-installed: prerm upgrade, postinst configure <old>).
  if dpkg -i "$server_deb" >"$work/reinstall.log" 2>&1; then
    log "ok: re-install (upgrade path)"; grep -q 'schema is up to date' "$work/reinstall.log" ||
      fail "re-install did not migrate: $(cat "$work/reinstall.log")"
  else cat "$work/reinstall.log"; fail "re-install (upgrade path) failed"; fi
  # An unreachable database must not fail the installation.
  cp -p "$conf" "$work/server.env.orig"
  printf 'DATABASE_URL=postgres://ehr@127.0.0.1:1/none\nJWT_SECRET=%s\n' "$secret" >>"$conf"
  if dpkg -i "$server_deb" >"$work/unreachable.log" 2>&1; then
    expect "postinst notes an unreachable database" grep -q 'NOTE: could not migrate' "$work/unreachable.log"
  else cat "$work/unreachable.log"; fail "dpkg -i failed with an unreachable database"; fi
  cp -p "$work/server.env.orig" "$conf"

  # Without systemd (as here): the documented manual command, from the installed paths.
  chown ehr-sessions "$rundir"
  as_service() { runuser -u ehr-sessions -- env -i HOME=/var/lib/ehr-sessions LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                   ${database_url:+DATABASE_URL=$database_url} JWT_SECRET="$secret" "$@"; }
else
  root=$work/root
  for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
  bin=$root/usr/bin/ehr-sessions-server
  conf=$work/server.env
  sed "s#^EHRS_DATA_DIR=.*#EHRS_DATA_DIR=$work/data#" "$root/etc/ehr-sessions/server.env" >"$conf"
  expect "extracted agent runs (--help)" sh -c "[ '$have_agent' != 1 ] || '$root/usr/bin/ehr-sessions-agent' --help >/dev/null"
  as_service() { env -i HOME="$work" LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                   ${database_url:+DATABASE_URL=$database_url} JWT_SECRET="$secret" "$@"; }
fi

# ---------------------------------------------------------------------------------------------
# 4. The installed server: migrate, a user from the installed CLI, serve, round trip over HTTP.
expect "installed CLI: migrate" as_service "$bin" migrate --config "$conf"
if printf '%s\n' "$password" | as_service "$bin" user add "$email" --name "Package Test" --password-stdin --config "$conf" >/dev/null; then
  log "ok: installed CLI: user add"
else fail "installed CLI: user add"; fi
as_service "$bin" serve --config "$conf" --port "$port" --ready-file "$rundir/ready" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do [ -s "$rundir/ready" ] && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$rundir/ready" ] || die "the installed server did not start"
base=$(cat "$rundir/ready")
log "installed server listening at $base"
server_child=$(server_process)
if [ "$mode" = dpkg ]; then
  expect "the server runs as ehr-sessions" [ "$(stat -c %U "/proc/$server_child")" = ehr-sessions ]
fi

api() { # api METHOD PATH [TOKEN] [BODY] -> body in $work/resp, status on stdout
  local args=(-s -o "$work/resp" -w '%{http_code}' -X "$1" "$base$2" -H 'Content-Type: application/json')
  [ -n "${3:-}" ] && args+=(-H "Authorization: Bearer $3")
  [ -n "${4:-}" ] && args+=(-d "$4")
  curl "${args[@]}"
}
status=$(api GET /readyz); expect "readyz 200" [ "$status" = 200 ]
if [ -n "$database_url" ]; then
  expect "readyz: on PostgreSQL" sh -c "jq -e '.databaseKind | test(\"postgres\"; \"i\")' '$work/resp' >/dev/null"
fi
login_body=$(jq -nc --arg e "$email" --arg p "$password" '{email: $e, password: $p}')
status=$(api POST /api/auth/login "" "$login_body"); expect "login 200" [ "$status" = 200 ]
access1=$(jq -r .accessToken "$work/resp"); session1=$(jq -r .sessionId "$work/resp")
status=$(curl -s -o "$work/resp" -w '%{http_code}' -X POST "$base/api/auth/login" -H 'Content-Type: application/json' \
         -H 'User-Agent: package-test-second-device' -d "$login_body")
expect "second login 200" [ "$status" = 200 ]
access2=$(jq -r .accessToken "$work/resp"); session2=$(jq -r .sessionId "$work/resp")
status=$(api GET /api/sessions "$access1"); expect "list 200" [ "$status" = 200 ]
expect "list shows both sessions, the current one marked" jq -e --arg s1 "$session1" --arg s2 "$session2" \
  '.total == 2 and ([.sessions[].id] | sort) == ([$s1, $s2] | sort) and
   (.sessions[] | select(.id == $s1) | .isCurrent) == true' "$work/resp"
status=$(api DELETE "/api/sessions/$session2" "$access1"); expect "revoke the second session 200" [ "$status" = 200 ]
status=$(api GET /api/sessions "$access2"); expect "revoked session's access token is rejected (401)" [ "$status" = 401 ]
status=$(api GET /api/sessions "$access1"); expect "list after revoke 200" [ "$status" = 200 ]
expect "list after revoke shows only the current session" jq -e --arg s1 "$session1" \
  '.total == 1 and .sessions[0].id == $s1' "$work/resp"
status=$(api GET /api/sessions ""); expect "no token: 401" [ "$status" = 401 ]

stop_server
expect "server stopped on SIGTERM" sh -c "! kill -0 $server_child 2>/dev/null"
expect "server logged a clean stop" grep -q 'stopped' "$work/server.log"

# ---------------------------------------------------------------------------------------------
# 5. Purge and check that nothing is left.
if [ "$mode" = dpkg ]; then
  pkgs=(ehr-sessions-server); [ "$have_agent" = 1 ] && pkgs=(ehr-sessions "${pkgs[@]}")
  if dpkg --purge "${pkgs[@]}" >"$work/purge.log" 2>&1; then log "ok: dpkg --purge ${pkgs[*]}"; installed=0
  else cat "$work/purge.log"; fail "dpkg --purge failed"; fi
  for p in "${pkgs[@]}"; do expect "$p is gone" sh -c "! dpkg-query -W -f='\${Status}' $p 2>/dev/null | grep -q installed"; done
  expect "user ehr-sessions removed" sh -c '! getent passwd ehr-sessions'
  expect "group ehr-sessions removed" sh -c '! getent group ehr-sessions'
  for path in /var/lib/ehr-sessions /etc/ehr-sessions /usr/bin/ehr-sessions-server /usr/bin/ehr-sessions-agent \
              /usr/share/ehr-sessions /etc/systemd/system/multi-user.target.wants/ehr-sessions-server.service \
              /etc/systemd/system/ehr-sessions-server.service /etc/systemd/user/default.target.wants/ehr-sessions-agent.service \
              /etc/systemd/user/ehr-sessions-agent.service /etc/xdg/autostart/ehr-sessions-agent.desktop \
              /etc/systemd/user/sockets.target.wants/ehr-sessions-agent.socket /etc/systemd/user/ehr-sessions-agent.socket; do
    expect "purged: $path" sh -c "[ ! -e '$path' ] && [ ! -L '$path' ]"
  done
  expect "no systemd helper state left" sh -c \
    "! grep -rl ehr-sessions /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-user-helper-enabled \
       /var/lib/systemd/deb-systemd-helper-masked /var/lib/systemd/deb-systemd-user-helper-masked 2>/dev/null | grep -q . &&
     ! find /var/lib/systemd -name '*ehr-sessions*' 2>/dev/null | grep -q ."
  expect "no statoverride left" sh -c '! dpkg-statoverride --list | grep -q ehr-sessions'
fi

[ "$failures" = 0 ] || die "$failures check(s) failed"
log "PASS ($mode)"
