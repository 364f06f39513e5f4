// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "WorkstationStatus.h"
#include "ipc/AgentMessages.h"

#include <QDateTime>
#include <QFuture>

namespace ehrs::app {

/// The agent's shared-workstation requests (docs/agent-api.md, issue 14) as the app's screens use
/// them: AgentConnection is the real one, tests give a fake.
class WorkstationAgent
{
public:
    virtual ~WorkstationAgent() = default;

    /// Sets (or changes) the active clinician's shift PIN; until when it works.
    virtual QFuture<Result<QDateTime>> setPin(const QString& pin) = 0;
    /// Parks the active clinician (Conflict when they have no PIN yet); who was parked.
    virtual QFuture<Result<ParkedAccount>> switchUser() = 0;
    /// Brings a parked clinician back with their PIN (wrong PIN: isInvalidPin(), with the attempts
    /// left; PIN no longer usable: isFullSignInRequired()).
    virtual QFuture<Result<ipc::LoginReply>> resume(const QString& email, const QString& pin) = 0;
    /// The workstation part of the agent's status.
    virtual QFuture<Result<WorkstationStatus>> workstationStatus() = 0;
};

} // namespace ehrs::app
