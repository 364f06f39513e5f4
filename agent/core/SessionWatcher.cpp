// SPDX-License-Identifier: Apache-2.0
#include "SessionWatcher.h"

#include "ClientErrors.h"
#include "Logging.h"
#include "net/ServerClient.h"

namespace ehrs::agent {
namespace {
QString describeDevice(const SessionDto& s)
{
    const DeviceInfo& d = s.deviceInfo;
    if (!d.browser.isEmpty() && !d.os.isEmpty())
        return QStringLiteral("%1 on %2").arg(d.browser, d.os);
    if (!d.name.isEmpty())
        return d.name;
    if (!s.userAgent.isEmpty())
        return s.userAgent.left(80);
    return QStringLiteral("Unknown device");
}
} // namespace

SessionWatcher::SessionWatcher(ServerClient& server, QObject* parent) : QObject(parent), m_server(server) {}

void SessionWatcher::reset()
{
    ++m_generation;
    m_knownSessions.clear();
    m_sessionsSeeded = false;
    m_mfaChangedAt.reset();
}

void SessionWatcher::check(const StoredAccount& account, const QString& accessToken)
{
    if (accessToken.isEmpty())
        return;
    checkSessions(account, accessToken);
    checkMfa(account, accessToken);
}

void SessionWatcher::checkSessions(const StoredAccount& account, const QString& accessToken)
{
    const quint64 generation = m_generation;
    m_server.sessions(QUrl(account.serverUrl), accessToken)
        .then(this, [this, generation, account](const Result<std::vector<SessionDto>>& list) {
            if (generation != m_generation)
                return;
            if (!list) {
                if (isSessionEnded(list.error().code))
                    Q_EMIT sessionEnded(list.error());
                return; // otherwise: checked again after the next refresh
            }
            QSet<QString> current;
            for (const SessionDto& s : *list) {
                current.insert(s.id);
                if (!m_sessionsSeeded || m_knownSessions.contains(s.id) || s.id == account.sessionId)
                    continue;
                qCInfo(lcAgent) << "new sign-in on the account from" << s.ipAddress;
                Q_EMIT eventOccurred(
                    ipc::NewSignInEvent{s.id, describeDevice(s), s.ipAddress, s.location, s.createdAt});
            }
            if (m_sessionsSeeded) {
                for (const QString& id : std::as_const(m_knownSessions)) {
                    if (!current.contains(id) && id != account.sessionId)
                        Q_EMIT eventOccurred(ipc::SessionRevokedEvent{id, false});
                }
            }
            m_knownSessions = current;
            m_sessionsSeeded = true;
        });
}

void SessionWatcher::checkMfa(const StoredAccount& account, const QString& accessToken)
{
    // The server has no event stream yet: the account's mfaChangedAt is polled alongside the
    // session list, and a change since the last look is told to the user (the agent's own
    // enrolment included: the notice then confirms it).
    const quint64 generation = m_generation;
    m_server.mfaState(QUrl(account.serverUrl), accessToken)
        .then(this, [this, generation, account](const Result<ServerClient::MfaState>& state) {
            if (generation != m_generation || !state)
                return; // checked again after the next refresh
            const bool changed = m_mfaChangedAt && *m_mfaChangedAt != state->changedAt;
            m_mfaChangedAt = state->changedAt;
            if (!changed)
                return;
            qCInfo(lcAgent) << "two-step verification was turned" << (state->enabled ? "on" : "off");
            Q_EMIT securityNotice(
                state->enabled ? QStringLiteral("Two-step verification turned on")
                               : QStringLiteral("Two-step verification turned off"),
                (state->enabled
                     ? QStringLiteral("Signing in to %1 now asks for a code from an authenticator app.")
                     : QStringLiteral("Signing in to %1 now needs only the password."))
                        .arg(account.email) +
                    QStringLiteral("\nNot you? Contact IT now."));
        });
}

} // namespace ehrs::agent
