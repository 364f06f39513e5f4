// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "ipc/AgentMessages.h"

#include <QFuture>

namespace ehrs::app {

/// The agent's shared-workstation requests (docs/agent-api.md, issue 14) as the app's screens use
/// them: AgentConnection is the real one, tests give a fake.
class WorkstationAgent
{
public:
    virtual ~WorkstationAgent() = default;

    /// Sets (or changes) the active clinician's shift PIN; until when it works.
    virtual QFuture<Result<ipc::SetPinReply>> setPin(const QString& pin) = 0;
    /// Parks the active clinician (Conflict when they have no PIN yet); who was parked.
    virtual QFuture<Result<ipc::SwitchUserReply>> switchUser() = 0;
    /// Brings a parked clinician back with their PIN (wrong PIN: ipc::isInvalidPin(), with the
    /// attempts left; PIN no longer usable: ipc::isFullSignInRequired()).
    virtual QFuture<Result<ipc::LoginReply>> resume(const QString& email, const QString& pin) = 0;
};

} // namespace ehrs::app
