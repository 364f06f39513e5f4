// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ClientConnectionCounter.h"
#include "HttpConnection.h"
#include "HttpLimits.h"
#include "Result.h"

#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <QTcpServer>
#include <memory>
#include <optional>

namespace ehrs::server {

/// Creates a listening TCP socket with SO_REUSEPORT so that each worker thread can own one
/// listener on the same port and the kernel spreads connections between them. `port` 0 picks a
/// free port; pass the port actually bound (see boundPort()) for the following sockets.
[[nodiscard]] Result<qintptr> createListeningSocket(const QHostAddress& address, quint16 port);
quint16 boundPort(qintptr fd);

/// Accepts connections on one listening socket, in the thread it lives in.
class HttpListener : public QObject
{
    Q_OBJECT
public:
    /// With `tls`, connections are TLS (QSslServer): the handshake must finish within the request
    /// deadline, and plain-text clients are dropped.
    /// `perClient` (shared by the listeners of a process) caps connections per client address;
    /// without it, the cap is this listener's own.
    HttpListener(HttpLimits limits, HttpConnection::Handler handler,
                 std::optional<QSslConfiguration> tls = std::nullopt,
                 std::shared_ptr<ClientConnectionCounter> perClient = nullptr, QObject* parent = nullptr);
    /// Takes ownership of a listening socket from createListeningSocket().
    [[nodiscard]] Result<void> listen(qintptr socketDescriptor);
    void close();
    int connectionCount() const { return m_connections; }

private:
    void onNewConnection();

    std::unique_ptr<QTcpServer> m_server;
    HttpLimits m_limits;
    HttpConnection::Handler m_handler;
    std::shared_ptr<ClientConnectionCounter> m_perClient;
    int m_connections = 0;
};

} // namespace ehrs::server
