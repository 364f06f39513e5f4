// SPDX-License-Identifier: Apache-2.0
#include "LocalApiServer.h"

#include "ClientConnection.h"
#include "Logging.h"
#include "PeerCredentials.h"
#include "core/AgentService.h"

#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <cstdio>
#include <unistd.h>

namespace ehrs::agent {

LocalApiServer::LocalApiServer(AgentService& service, QObject* parent) : QObject(parent), m_service(service)
{
    connect(&m_server, &QLocalServer::newConnection, this, &LocalApiServer::onNewConnection);
    connect(&m_service, &AgentService::eventOccurred, this, &LocalApiServer::broadcast);
}

LocalApiServer::~LocalApiServer()
{
    if (!m_activated) {
        m_server.close(); // removes the socket file: nobody answers there any more
        return;
    }
    // QLocalServer::close() removes the socket file even for a descriptor it did not create, but
    // systemd's socket is still listening and the next agent will serve it: keep the name.
    const QString path = m_server.fullServerName();
    const QString keep = path + QStringLiteral(".keep");
    const bool linked = ::link(QFile::encodeName(path).constData(), QFile::encodeName(keep).constData()) == 0;
    m_server.close();
    if (linked)
        ::rename(QFile::encodeName(keep).constData(), QFile::encodeName(path).constData());
}

Result<void> LocalApiServer::listenActivated(int fd, const QString& socketPath)
{
    if (auto dir = preparePrivateDirectory(QFileInfo(socketPath).absolutePath()); !dir)
        return dir;
    if (!m_server.listen(fd))
        return fail(ErrorCode::StorageError, QStringLiteral("cannot use the socket systemd passed (%1): %2")
                                                 .arg(socketPath, m_server.errorString()));
    m_activated = true;
    if (auto r = restrictToOwner(socketPath); !r)
        return r;
    qCInfo(lcAgentLocalApi) << "listening on" << socketPath << "(socket activation)";
    return {};
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
