// SPDX-License-Identifier: Apache-2.0
#include "FakeHttpServer.h"

#include <QTcpSocket>
#include <QTimer>

namespace ehrs::agent::test {

FakeHttpServer::FakeHttpServer(QObject* parent) : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &FakeHttpServer::onConnection);
}

bool FakeHttpServer::start()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

QUrl FakeHttpServer::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort()));
}

void FakeHttpServer::onConnection()
{
    while (QTcpSocket* socket = m_server.nextPendingConnection()) {
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            *buffer += socket->readAll();
            const qsizetype headerEnd = buffer->indexOf("\r\n\r\n");
            if (headerEnd < 0)
                return;
            const QList<QByteArray> lines = buffer->left(headerEnd).split('\n');
            Request r;
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            r.method = requestLine.value(0);
            r.path = requestLine.value(1);
            qsizetype length = 0;
            for (const QByteArray& line : lines.mid(1)) {
                const qsizetype colon = line.indexOf(':');
                const QByteArray name = line.left(colon).trimmed().toLower();
                const QByteArray value = line.mid(colon + 1).trimmed();
                if (name == "content-length")
                    length = value.toLongLong();
                else if (name == "authorization")
                    r.authorization = value;
            }
            if (buffer->size() < headerEnd + 4 + length)
                return;
            r.body = buffer->mid(headerEnd + 4, length);
            buffer->clear();
            requests << r;
            const Response response = handler ? handler(r) : Response{};
            QByteArray out = "HTTP/1.1 " + QByteArray::number(response.status) + " X\r\nContent-Type: "
                             "application/json\r\nConnection: close\r\nContent-Length: " +
                             QByteArray::number(response.body.size()) + "\r\n";
            for (const auto& [name, value] : response.headers)
                out += name + ": " + value + "\r\n";
            out += "\r\n" + response.body;
            QTimer::singleShot(delayMs, socket, [socket, out] {
                socket->write(out);
                socket->disconnectFromHost();
            });
        });
    }
}

} // namespace ehrs::agent::test
