// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ipc/AgentMessages.h"

namespace ehrs::app {

// The agent's `status` says what the window shows on a shared workstation (issue 14,
// docs/agent-api.md): its device class, the active clinician's shift PIN, the parked clinicians,
// and whether the desktop is locked. The fields are read by common/ipc/AgentMessages.

/// A clinician whose session the agent parked on this workstation: they come back with their PIN.
using ParkedAccount = ipc::StatusReply::ParkedAccount;

inline bool isSharedWorkstation(const ipc::StatusReply& status)
{
    return status.deviceClass == QLatin1String("shared_workstation");
}

/// Nobody is active, but clinicians wait to resume with their PIN: the switch-user screen.
inline bool wantsSwitchUser(const ipc::StatusReply& status)
{
    return !status.signedIn && !status.parkedAccounts.empty();
}

} // namespace ehrs::app
