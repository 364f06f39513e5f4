// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ipc/AgentMessages.h"

#include <QString>
#include <QUrl>

#include <optional>

namespace ehrs::agent {

/// A second factor the server asked for. It stays inside the agent (with the connection that
/// started the login): the MFA token is a credential and does not cross the local socket.
struct PendingMfa
{
    QUrl server;
    QString email;
    QString mfaToken;
    QString deviceCredential; // presented at login; presented again with the code
};

/// Outcome of `login` / `verify-mfa`: the reply for the client and, when a code is needed, the
/// challenge to keep for the next step.
struct LoginStep
{
    ipc::LoginReply reply;
    std::optional<PendingMfa> pendingMfa;
};

} // namespace ehrs::agent
