#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Renders the desktop app's main screens into docs/screenshots/: sign-in, Active sessions (six
# devices of different kinds, at IT's named network "St Mary's, Ward 3") and Security with the
# TOTP QR code, in light, dark and at 2x; then a dialog showing an error, the recent security
# activity and the offline state (the server stopped under the running app).
# Builds nothing: pass the build dir (default: build/) that holds ehr-sessions-server,
# ehr-sessions-agent and tests/app/ehrs-app-screenshots (configure with -DEHRS_BUILD_TESTS=ON).
# Needs xvfb-run (Debian: xvfb xauth), curl and python3. Everything runs in a private temp dir.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=$root/docs/screenshots
server_bin=$build/server/ehr-sessions-server
agent_bin=$build/agent/ehr-sessions-agent
shot_bin=$build/tests/app/ehrs-app-screenshots
for f in "$server_bin" "$agent_bin" "$shot_bin"; do
  [ -x "$f" ] || { echo "screenshots.sh: $f is missing; build it first" >&2; exit 1; }
done
command -v xvfb-run >/dev/null || { echo "screenshots.sh: xvfb-run is missing (apt-get install xvfb xauth)" >&2; exit 1; }

work=$(mktemp -d /tmp/ehrs-shots.XXXXXX)
server_pid="" agent_pid=""
cleanup() {
  set +e
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=18080
while (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; do port=$((port + 1)); done
url=http://127.0.0.1:$port
email=a.morgan@stmarys.example
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-20)

export EHRS_DATA_DIR=$work/data XDG_RUNTIME_DIR=$work/runtime XDG_CONFIG_HOME=$work/config
export EHRS_AGENT_KEYCHAIN_SERVICE=ehr-sessions-screenshots-$$ EHRS_AGENT_NOTIFY=0
mkdir -p "$EHRS_DATA_DIR" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$out"
chmod 700 "$EHRS_DATA_DIR" "$XDG_RUNTIME_DIR"

printf '%s\n' "$password" | "$server_bin" user add "$email" --name "Dr Alex Morgan" --password-stdin >/dev/null
# IT has named the hospital's network (here: loopback, where every device of the demo signs in).
NETWORK_LOCATIONS="127.0.0.0/8=St Mary's, Ward 3" "$server_bin" serve --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# Other devices: browsers (the server reads their User-Agent) and native clients (deviceInfo).
login() { # user-agent [deviceInfo-json] -> prints "sessionId accessToken"
  local body="{\"email\":\"$email\",\"password\":\"$password\"${2:+,\"deviceInfo\":$2}}"
  curl -fs -X POST "$url/api/auth/login" -H 'Content-Type: application/json' -H "User-Agent: $1" -d "$body" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["sessionId"], j["accessToken"])'
}
login 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36' >/dev/null
login 'curl/7.88.1' >/dev/null
login 'Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1' >/dev/null
login 'EHR Sessions Agent/0.1.0' '{"type":"laptop","name":"MacBook Air","os":"macOS 14.2","browser":"EHR Sessions Agent 0.1.0"}' >/dev/null
read -r ward_id ward_token < <(login 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36')
curl -fs -X PATCH "$url/api/sessions/$ward_id" -H "Authorization: Bearer $ward_token" \
  -H 'Content-Type: application/json' -d '{"name":"Ward 3 nurses'"'"' station"}' >/dev/null
login 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1' >/dev/null

# The agent of "this device"; the app signs in through it like a person would.
"$agent_bin" run >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do [ -S "$XDG_RUNTIME_DIR/ehr-sessions/agent.sock" ] && break; sleep 0.1; done

shoot() { # extra arguments for ehrs-app-screenshots
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1440x24" "$shot_bin" \
    --socket "$XDG_RUNTIME_DIR/ehr-sessions/agent.sock" --server "$url" --email "$email" --password "$password" \
    --out "$out" "$@"
}
shoot --theme light
shoot --theme dark --suffix -dark
QT_SCALE_FACTOR=2 shoot --theme light --suffix @2x
# Shared workstation (issue 14): the switch-user and lock screens, on the agent's canned answers.
shoot --theme light --workstation
# The states around them: a dialog showing an error, the recent activity (with two failed
# sign-ins from a browser), and offline: the server stops under the running app.
for attempt in 1 2; do
  curl -s -o /dev/null -X POST "$url/api/auth/login" -H 'Content-Type: application/json' \
    -H 'User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' \
    -d "{\"email\":\"$email\",\"password\":\"not the password $attempt\"}"
done
shoot --theme light --extra "$work/offline" &
shot_pid=$!
for _ in $(seq 600); do [ -e "$work/offline.ready" ] && break; sleep 0.1; done
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=""
touch "$work/offline.stopped"
wait "$shot_pid"
echo "screenshots.sh: PNGs in $out"
