#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start command 1: installs what is missing, builds, and runs the server on its embedded
# default (SQLite + in-process cache, no setup) on http://127.0.0.1:8000, with a demo account.
# Arguments go to `ehr-sessions-server serve` (e.g. --port 9000). Stop with Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${EHRS_RELEASE_BUILD_DIR:-$root/build-release}

bash "$root/scripts/install-deps.sh" build
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEHRS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"

server=$build/server/ehr-sessions-server
data=${EHRS_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/ehr-sessions}
export EHRS_DATA_DIR=$data
mkdir -p "$data" && chmod 700 "$data"

demo=$data/demo-account
if [ ! -s "$demo" ]; then
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-20)
  if printf '%s\n' "$password" | "$server" user add demo@example.org --name "Demo Clinician" --password-stdin >/dev/null; then
    (umask 077 && printf 'email=demo@example.org\npassword=%s\n' "$password" >"$demo")
  fi
fi

echo "EHR Sessions server: http://127.0.0.1:8000 (data in $data)"
if [ -s "$demo" ]; then
  echo "Demo account: $(sed -n 's/^email=//p' "$demo")  password: $(sed -n 's/^password=//p' "$demo")  (kept in $demo)"
fi
echo "Try: curl -s -X POST http://127.0.0.1:8000/api/auth/login -H 'Content-Type: application/json' \\"
echo "       -d '{\"email\":\"demo@example.org\",\"password\":\"...\"}'"
exec "$server" serve "$@"
