// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "ipc/AgentMessages.h"

#include <QLocalServer>
#include <QObject>

namespace ehrs::agent {

class AgentService;
class ClientConnection;

/// The agent's local API endpoint (docs/agent-api.md): a QLocalServer socket in a private
/// directory; every connection's peer uid is checked with SO_PEERCRED before a byte is read and
/// connections of other users are closed at once (like ssh-agent). Events of the AgentService are
/// fanned out to subscribed clients.
class LocalApiServer : public QObject
{
    Q_OBJECT
public:
    explicit LocalApiServer(AgentService& service, QObject* parent = nullptr);
    ~LocalApiServer() override;

    /// Listens on `socketPath`, creating its directory 0700. Fails if another agent already
    /// answers there; a stale socket file of a crashed agent is replaced.
    [[nodiscard]] Result<void> listen(const QString& socketPath);
    /// Serves on a socket systemd already listens on (ehr-sessions-agent.socket). The socket file
    /// stays when the agent stops: systemd keeps accepting connections into its queue, and the
    /// next agent answers them, so a restart or an upgrade refuses no client.
    [[nodiscard]] Result<void> listenActivated(int fd, const QString& socketPath);
    QString socketPath() const { return m_server.fullServerName(); }
    int clientCount() const { return m_clients; }

Q_SIGNALS:
    /// A connection was refused because its peer is another user (tests, audit).
    void peerRejected(uint uid);

private:
    void onNewConnection();
    void broadcast(const ipc::Event& event);

    AgentService& m_service;
    QLocalServer m_server;
    int m_clients = 0;
    bool m_activated = false;
};

} // namespace ehrs::agent
