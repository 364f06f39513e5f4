// SPDX-License-Identifier: Apache-2.0
#include "SessionEventWatcher.h"

#include "Logging.h"
#include "core/AgentService.h"

#include <QDateTime>

namespace ehrs::agent {
namespace {
std::string text(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
} // namespace

SessionEventWatcher::SessionEventWatcher(AgentService& service, QNetworkAccessManager& network,
                                         QObject* parent)
    : QObject(parent), m_service(service), m_client(network)
{
    connect(&m_service, &AgentService::stateChanged, this, &SessionEventWatcher::sync);
    // A stream refused for its token (expired, replaced) comes back with the new one at once
    // rather than after its back-off.
    connect(&m_service, &AgentService::eventOccurred, this, [this](const ipc::Event& e) {
        if (std::holds_alternative<ipc::TokenRefreshedEvent>(e) && m_client.isRunning() &&
            !m_client.isConnected())
            m_client.reconnectNow();
    });
    connect(&m_client, &EventStreamClient::eventReceived, this, &SessionEventWatcher::onEvent);
    connect(&m_client, &EventStreamClient::refused, this, &SessionEventWatcher::onRefused);
    connect(&m_client, &EventStreamClient::connectedChanged, this, [this](bool up) {
        qCDebug(lcAgent) << "account event stream" << (up ? "connected" : "disconnected");
        if (!up)
            m_service.setPushConnected(false);
    });
}

void SessionEventWatcher::sync()
{
    const ipc::StatusReply status = m_service.status();
    if (!status.signedIn) {
        if (m_client.isRunning())
            m_client.stop();
        m_sessionId.clear();
        m_seeded = false;
        return;
    }
    if (m_service.pushToken().isEmpty())
        return; // connected once a token is in hand (the next state change)
    if (m_client.isRunning() && status.sessionId == m_sessionId && status.serverUrl == m_serverUrl)
        return;
    const bool sameSession = status.sessionId == m_sessionId && status.serverUrl == m_serverUrl;
    m_sessionId = status.sessionId;
    m_serverUrl = status.serverUrl;
    if (!sameSession)
        m_seeded = false;
    m_client.start(
        QUrl(status.serverUrl), [service = &m_service] { return service->pushToken(); },
        sameSession ? m_client.lastEventId() : QString());
}

void SessionEventWatcher::onEvent(const QByteArray& type, const nlohmann::json& data, const QString&)
{
    if (type == "ready") {
        m_service.setPushConnected(true);
        if (!m_seeded) {
            m_seeded = true; // what the session list looks like now; later changes come as events
            m_service.accountChanged(AgentService::AccountChange::Sessions);
        }
    } else if (type == "revoked") {
        const std::string reason = text(data, "reason");
        qCWarning(lcAgent) << "the server ended this session:" << reason.c_str();
        // A logout of this session is this agent's own (its logout() may still be waiting for the
        // server's answer): the same reason, so nobody is told "ended from another device".
        const QString why = reason == "refresh_token_reused" ? QStringLiteral("refresh_token_reused")
                            : reason == "logout"             ? QStringLiteral("logout")
                                                             : QStringLiteral("session_revoked");
        m_service.endedByServer(why, QString::fromStdString(text(data, "message")));
    } else if (type == "session-created" || type == "session-ended" || type == "session-renamed") {
        m_service.accountChanged(AgentService::AccountChange::Sessions);
    } else if (type == "mfa-changed") {
        m_service.accountChanged(AgentService::AccountChange::Mfa);
    } else if (type == "password-changed") {
        m_service.accountChanged(AgentService::AccountChange::Password);
    } else if (type == "suspicious-sign-in") {
        // Issue 18: told to local apps and (unless turned off) as a desktop notification. Nothing
        // to reload: a step-up sign-in has no session until its second factor, which then comes
        // as session-created.
        // Bounded, so the event always fits a local frame (64 KiB) whatever the stream carried.
        const auto field = [&data](const char* key) {
            return QString::fromStdString(text(data, key)).left(512);
        };
        ipc::SuspiciousSignInEvent e;
        if (const auto reasons = data.find("reasons"); reasons != data.end() && reasons->is_array()) {
            for (const auto& reason : *reasons) {
                if (reason.is_string() && e.reasons.size() < 10)
                    e.reasons << QString::fromStdString(reason.get<std::string>()).left(512);
            }
        }
        // The server's reading of the User-Agent ("Firefox 121 on Windows 10/11"); the raw string
        // only from a server that does not send it.
        e.device = field("device");
        if (e.device.isEmpty())
            e.device = field("userAgent").left(120);
        e.location = field("place");
        if (e.location.isEmpty())
            e.location = field("ipAddress");
        e.time = QDateTime::fromString(field("at"), Qt::ISODateWithMs);
        qCInfo(lcAgent) << "the server reports a suspicious sign-in on the account";
        Q_EMIT m_service.eventOccurred(e);
    } else if (type == "policy-changed") {
        if (const auto policy = SessionPolicyInfo::fromBody(data))
            m_service.policyChanged(*policy);
    }
}

void SessionEventWatcher::onRefused(const Error& error)
{
    m_service.setPushConnected(false);
    // The stream's word that the session is over: the refresh path confirms it and signs out with
    // the server's reason (it also covers a token that merely expired: then it just refreshes).
    if (error.code == ErrorCode::SessionRevoked || error.code == ErrorCode::RefreshReused ||
        error.code == ErrorCode::SessionExpired)
        m_service.sessionMayHaveEnded();
}

} // namespace ehrs::agent
