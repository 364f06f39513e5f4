// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "ipc/AgentMessages.h"
#include "storage/StoredAccount.h"

#include <QObject>
#include <QSet>
#include <QString>
#include <optional>

namespace ehrs::agent {

class ServerClient;

/// Looks at the signed-in account from the outside after each sign-in and refresh: sessions that
/// appeared (a new sign-in: `new-sign-in`) or disappeared (`session-revoked`, not current), and
/// changes of two-step verification (securityNotice). Split out of AgentService, which owns one
/// and tells it when the account changes.
class SessionWatcher : public QObject
{
    Q_OBJECT
public:
    explicit SessionWatcher(ServerClient& server, QObject* parent = nullptr);

    /// Forgets what it has seen, and drops the answers still on their way (a sign-out, another
    /// account): the next check only learns the current state.
    void reset();
    /// Asks the server now, with the account's current access token: both of the below.
    void check(const StoredAccount& account, const QString& accessToken);
    /// The session list alone (the event stream said the account's sessions changed).
    void checkSessions(const StoredAccount& account, const QString& accessToken);
    /// The two-step verification state alone.
    void checkMfa(const StoredAccount& account, const QString& accessToken);

Q_SIGNALS:
    void eventOccurred(const ehrs::ipc::Event& event);
    void securityNotice(const QString& summary, const QString& body);
    /// The server answered that the session is over (revoked, expired, ...).
    void sessionEnded(const ehrs::Error& error);

private:
    ServerClient& m_server;
    quint64 m_generation = 0;
    QSet<QString> m_knownSessions;
    bool m_sessionsSeeded = false;
    std::optional<QString> m_mfaChangedAt; // as last seen; unset until the first check after sign-in
};

} // namespace ehrs::agent
