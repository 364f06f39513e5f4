// SPDX-License-Identifier: Apache-2.0
#include "LocalApiServer.h"

#include "ClientConnection.h"
#include "Logging.h"
#include "PeerCredentials.h"
#include "core/AgentService.h"

#include <QFileInfo>
#include <QLocalSocket>

namespace ehrs::agent {

LocalApiServer::LocalApiServer(AgentService& service, QObject* parent) : QObject(parent), m_service(service)
{
    connect(&m_server, &QLocalServer::newConnection, this, &LocalApiServer::onNewConnection);
    connect(&m_service, &AgentService::eventOccurred, this, &LocalApiServer::broadcast);
}

LocalApiServer::~LocalApiServer()
{
    m_server.close();
}

Result<void> LocalApiServer::listen(const QString& socketPath)
{
    if (auto dir = preparePrivateDirectory(QFileInfo(socketPath).absolutePath()); !dir)
        return dir;
    {
        // Is somebody already serving there? Then we must not steal the name.
        QLocalSocket probe;
        probe.connectToServer(socketPath);
        if (probe.waitForConnected(500)) {
            probe.abort();
            return fail(ErrorCode::Conflict, QStringLiteral("another agent is already listening on %1").arg(socketPath));
        }
    }
    QLocalServer::removeServer(socketPath); // a stale socket of a crashed agent
    m_server.setSocketOptions(QLocalServer::UserAccessOption);
    m_server.setMaxPendingConnections(64);
    if (!m_server.listen(socketPath))
        return fail(ErrorCode::StorageError,
                    QStringLiteral("cannot listen on %1: %2").arg(socketPath, m_server.errorString()));
    if (auto r = restrictToOwner(socketPath); !r)
        return r;
    qCInfo(lcAgentLocalApi) << "listening on" << socketPath;
    return {};
}

void LocalApiServer::onNewConnection()
{
    while (QLocalSocket* socket = m_server.nextPendingConnection()) {
        auto uid = peerUid(socket->socketDescriptor());
        if (!uid || *uid != currentUid()) {
            qCWarning(lcAgentLocalApi) << "refused a connection from uid" << (uid ? int(*uid) : -1);
            Q_EMIT peerRejected(uid ? *uid : uint(-1));
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto* client = new ClientConnection(socket, m_service, this);
        ++m_clients;
        connect(client, &ClientConnection::closed, this, [this, client] {
            --m_clients;
            client->deleteLater();
        });
    }
}

void LocalApiServer::broadcast(const ipc::Event& event)
{
    const auto clients = findChildren<ClientConnection*>(QString(), Qt::FindDirectChildrenOnly);
    for (ClientConnection* client : clients)
        client->sendEvent(event);
}

} // namespace ehrs::agent
