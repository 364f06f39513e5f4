// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

namespace ehrs::ipc {

/// The private (0700) directory holding the agent's socket: `$XDG_RUNTIME_DIR/ehr-sessions`;
/// without XDG_RUNTIME_DIR, `/run/user/<uid>/ehr-sessions` when that runtime directory exists,
/// else `$TMPDIR/ehr-sessions-<uid>` (default /tmp), used only while it is a directory of this
/// user with no access for anyone else (checked here, by the agent and its clients alike: a name
/// another user created first is refused, so nobody can pose as the agent).
[[nodiscard]] Result<QString> socketDirectory();
/// `$XDG_RUNTIME_DIR/ehr-sessions/agent.sock`, or the EHRS_AGENT_SOCKET override (tests, and
/// more than one agent per user).
[[nodiscard]] Result<QString> socketPath();

} // namespace ehrs::ipc
