// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sse/EventStreamClient.h"

#include <QObject>
#include <QString>

class QNetworkAccessManager;

namespace ehrs::agent {

class AgentService;

/// Keeps the server's account event stream (GET /api/sessions/events) open while the agent is
/// signed in, and turns its events into the agent's actions: its own session `revoked` signs the
/// agent out at once (keychain entry removed, local apps told, desktop notification), a sign-in
/// or sign-out elsewhere makes the agent look at the session list (new-sign-in notifications, the
/// app's list), a password or two-step change is told to the user. Resumes after the last event
/// it saw (Last-Event-ID) across reconnects and server restarts. Idle, the stream costs one wake-up
/// per server heartbeat (about a minute).
class SessionEventWatcher : public QObject
{
    Q_OBJECT
public:
    SessionEventWatcher(AgentService& service, QNetworkAccessManager& network, QObject* parent = nullptr);

    bool isConnected() const { return m_client.isConnected(); }
    EventStreamClient& client() { return m_client; }

private:
    void sync();
    void onEvent(const QByteArray& type, const nlohmann::json& data, const QString& id);
    void onRefused(const Error& error);

    AgentService& m_service;
    EventStreamClient m_client;
    QString m_serverUrl;
    QString m_sessionId; // the session the stream is for; a new one starts without a last id
    bool m_seeded = false;
};

} // namespace ehrs::agent
