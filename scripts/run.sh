#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start command 1: installs what is missing, builds, and runs the product on this machine:
# the server on its embedded default (SQLite + in-process cache, no setup) on
# http://127.0.0.1:8000 with a demo account, the per-user agent, and the desktop app when a
# display is available. Arguments go to `ehr-sessions-server serve` (e.g. --port 9000).
# Stop with Ctrl-C: everything started here is stopped.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EHRS_RELEASE_BUILD_DIR:-$root/build-release}

bash "$root/scripts/install-deps.sh" run
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEHRS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"

server=$build/server/ehr-sessions-server
agent=$build/agent/ehr-sessions-agent
app=$build/app/ehr-sessions
data=${EHRS_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/ehr-sessions}
export EHRS_DATA_DIR=$data
mkdir -p "$data" && chmod 700 "$data"
# The agent finds its socket directory by itself, also without XDG_RUNTIME_DIR (then
# /run/user/UID or a private /tmp/ehr-sessions-UID; docs/agent-api.md), and so do its commands in
# another terminal: nothing to export here, so README's commands work as written.

demo=$data/demo-account
if [ ! -s "$demo" ]; then
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-20)
  if printf '%s\n' "$password" | "$server" user add demo@example.org --name "Demo Clinician" --password-stdin >/dev/null; then
    (umask 077 && printf 'email=demo@example.org\npassword=%s\n' "$password" >"$demo")
  fi
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ready=$(mktemp)
"$server" serve --ready-file "$ready" "$@" &
pids+=($!)
for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.1; done
url=$(cat "$ready"); rm -f "$ready"
[ -n "$url" ] || { echo "run.sh: the server did not start" >&2; exit 1; }

echo
echo "EHR Sessions server: $url   (data in $data)"
if [ -s "$demo" ]; then
  echo "Demo account: $(sed -n 's/^email=//p' "$demo")   password: $(sed -n 's/^password=//p' "$demo")   (kept in $demo)"
fi

if [ -x "$agent" ]; then
  "$agent" run &
  pids+=($!)
  echo "Agent: running."
fi
if [ -x "$app" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "Starting the desktop app; sign in with the demo account (server URL $url)."
  "$app" &
  pids+=($!)
else
  echo "No display here: use the agent from another terminal (same user), e.g."
  echo "  $agent login --server $url demo@example.org"
  echo "  $agent status"
  echo "  curl -H \"Authorization: Bearer \$($agent token)\" $url/api/sessions"
fi
echo "Ctrl-C stops everything."
wait "${pids[0]}"
