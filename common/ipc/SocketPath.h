// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

namespace ehrs::ipc {

/// `$XDG_RUNTIME_DIR/ehr-sessions`: the private (0700) directory holding the agent's socket.
/// Fails when XDG_RUNTIME_DIR is unset: a shared /tmp fallback would let other users squat on
/// the name, so the agent and its clients refuse instead.
[[nodiscard]] Result<QString> socketDirectory();
/// `$XDG_RUNTIME_DIR/ehr-sessions/agent.sock`, or the EHRS_AGENT_SOCKET override (tests, and
/// more than one agent per user).
[[nodiscard]] Result<QString> socketPath();

} // namespace ehrs::ipc
