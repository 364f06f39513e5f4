// SPDX-License-Identifier: Apache-2.0
#include "HttpListener.h"

#include <QSslServer>
#include <QTcpSocket>
#include <QTimer>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ehrs::server {

Result<qintptr> createListeningSocket(const QHostAddress& address, quint16 port)
{
    sockaddr_storage storage{};
    socklen_t len = 0;
    int family = AF_INET;
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        family = AF_INET6;
        auto* sa = reinterpret_cast<sockaddr_in6*>(&storage);
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(port);
        const Q_IPV6ADDR a = address.toIPv6Address();
        std::memcpy(&sa->sin6_addr, &a, sizeof(a));
        len = sizeof(sockaddr_in6);
    } else {
        auto* sa = reinterpret_cast<sockaddr_in*>(&storage);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(port);
        sa->sin_addr.s_addr = htonl(address.toIPv4Address());
        len = sizeof(sockaddr_in);
    }
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(ErrorCode::Internal,
                    QStringLiteral("socket(): %1").arg(QString::fromLocal8Bit(strerror(errno))));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0 || ::listen(fd, 1024) != 0) {
        const QString why = QString::fromLocal8Bit(strerror(errno));
        ::close(fd);
        return fail(ErrorCode::Unavailable,
                    QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(why));
    }
    return qintptr(fd);
}

quint16 boundPort(qintptr fd)
{
    sockaddr_storage storage{};
    socklen_t len = sizeof(storage);
    if (::getsockname(int(fd), reinterpret_cast<sockaddr*>(&storage), &len) != 0)
        return 0;
    if (storage.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

HttpListener::HttpListener(HttpLimits limits, HttpConnection::Handler handler,
                           std::optional<QSslConfiguration> tls,
                           std::shared_ptr<ClientConnectionCounter> perClient, QObject* parent)
    : QObject(parent), m_limits(limits), m_handler(std::move(handler)), m_perClient(std::move(perClient))
{
    if (!m_perClient)
        m_perClient = std::make_shared<ClientConnectionCounter>(limits.maxConnectionsPerClient);
    if (tls) {
        auto ssl = std::make_unique<QSslServer>();
        ssl->setSslConfiguration(*tls);
        ssl->setHandshakeTimeout(limits.requestTimeoutMs);
        m_server = std::move(ssl);
    } else {
        m_server = std::make_unique<QTcpServer>();
    }
    m_server->setMaxPendingConnections(1024);
    // QSslServer announces a connection once its handshake is done; plain servers at accept.
    connect(m_server.get(), &QTcpServer::pendingConnectionAvailable, this, &HttpListener::onNewConnection);
    connect(m_server.get(), &QTcpServer::newConnection, this, &HttpListener::onNewConnection);
}

Result<void> HttpListener::listen(qintptr socketDescriptor)
{
    if (!m_server->setSocketDescriptor(socketDescriptor))
        return fail(ErrorCode::Internal,
                    QStringLiteral("cannot adopt listening socket: %1").arg(m_server->errorString()));
    return {};
}

void HttpListener::close()
{
    m_server->close();
}

namespace {
// Answers a connection that is not taken and closes it; the socket deletes itself once closed or
// after a short while (a client that does not read cannot keep it).
void refuse(QTcpSocket* socket, QByteArrayView statusLine, int retryAfter, QByteArrayView body)
{
    QByteArray response = statusLine.toByteArray();
    response += "\r\nContent-Type: application/json\r\nRetry-After: " + QByteArray::number(retryAfter) +
                "\r\nConnection: close\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
    response += body;
    socket->write(response);
    // Half-close once the answer is out and drop what the client sends meanwhile: closing with
    // its request unread would reset the connection, and the client could lose the answer.
    QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->readAll(); });
    auto halfClose = [socket] {
        if (socket->bytesToWrite() == 0)
            ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
    };
    QObject::connect(socket, &QTcpSocket::bytesWritten, socket, halfClose);
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(2000, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
}
} // namespace

void HttpListener::onNewConnection()
{
    while (QTcpSocket* socket = m_server->nextPendingConnection()) {
        if (m_connections >= m_limits.maxConnections) {
            refuse(socket, "HTTP/1.1 503 Service Unavailable", 1,
                   R"({"error":"unavailable","message":"Too many connections; retry"})");
            continue;
        }
        const QHostAddress peer = socket->peerAddress();
        if (!m_perClient->tryAcquire(peer)) {
            refuse(
                socket, "HTTP/1.1 429 Too Many Requests", 5,
                R"({"error":"rate_limited","message":"Too many open connections from your address; retry"})");
            continue;
        }
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        ++m_connections;
        auto* connection = new HttpConnection(socket, m_limits, m_handler, this);
        connect(connection, &HttpConnection::closed, this, [this, peer] {
            --m_connections;
            m_perClient->release(peer);
        });
    }
}

} // namespace ehrs::server
