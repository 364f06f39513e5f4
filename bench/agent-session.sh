#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs inside `dbus-run-session` (started by bench/run): a private gnome-keyring (Secret Service),
# the agent daemon signed in to the benchmark server, then
#   1. `token` latency (IPC on a kept-open socket, and the `ehr-sessions-agent token` command),
#   2. the idle daemon's RSS and context switches over a window.
# Writes agent-token.json, agent-token.done (so bench/run can start its load) and agent-idle.json
# into OUT. Stops the two processes it started, by PID.
set -euo pipefail
agent=$1 url=$2 email=$3 password_file=$4 n=$5 idle=$6 out=$7
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keyring_pid="" agent_pid=""

stop_pid() { # pid: TERM, wait up to 5 s, then KILL
  local p=$1
  kill -0 "$p" 2>/dev/null || return 0
  kill "$p" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
}
cleanup() {
  set +e
  [ -n "$agent_pid" ] && stop_pid "$agent_pid"
  [ -n "$keyring_pid" ] && stop_pid "$keyring_pid"
}
trap cleanup EXIT

printf pw | gnome-keyring-daemon --foreground --unlock --components=secrets >"$out/keyring.env" 2>"$out/keyring.log" &
keyring_pid=$!
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && break
  sleep 0.1
done

sock="$XDG_RUNTIME_DIR/ehr-sessions/agent.sock"
"$agent" run >"$out/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "agent-session: the agent did not listen on $sock" >&2; exit 1; }

timeout 60 "$agent" login --server "$url" --password-stdin "$email" <"$password_file" >"$out/agent-login.log" 2>&1 ||
  { echo "agent-session: login failed: $(tail -3 "$out/agent-login.log")" >&2; exit 1; }
timeout 120 python3 "$here/bench.py" agent --socket "$sock" --agent "$agent" --n "$n" >"$out/agent-token.json"
echo "$agent_pid" >"$out/agent.pid"
touch "$out/agent-token.done"
# The agent's main thread also wakes when the machine's wall clock is set (its refresh deadline
# is re-checked: timerfd TFD_TIMER_CANCEL_ON_SET); it logs each one, and the window's count is
# reported apart (a VM whose clock is stepped by its host does this several times a minute).
clock0=$(grep -c "wall clock set" "$out/agent.log" || true)
python3 "$here/bench.py" idle --pid "$agent_pid" --seconds "$idle" >"$out/agent-idle.raw.json"
clock1=$(grep -c "wall clock set" "$out/agent.log" || true)
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["clock_sets"] = int(sys.argv[3]) - int(sys.argv[2]); print(json.dumps(d))' \
  "$out/agent-idle.raw.json" "${clock0:-0}" "${clock1:-0}" >"$out/agent-idle.json"
grep -E '^(Name|VmRSS|VmHWM|Threads)' "/proc/$agent_pid/status" >"$out/agent-status.txt" || true
grep -c . "$out/agent.log" >/dev/null 2>&1 || true
