// SPDX-License-Identifier: Apache-2.0
#include "ApiClient.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QTcpSocket>
#include <QTimer>

#include <memory>
#include <vector>

namespace ehrs::test {

QByteArray ApiResponse::header(const QByteArray& lowerName) const
{
    for (const auto& [name, value] : headers) {
        if (name.toLower() == lowerName)
            return value;
    }
    return {};
}

QByteArray ApiClient::hostHeader() const
{
    return m_base.host().toLatin1() + ':' + QByteArray::number(m_base.port());
}

QByteArray ApiClient::build(const QByteArray& method, const QByteArray& path, const QByteArray& host,
                            const nlohmann::json& body, const QByteArray& bearer,
                            const QList<QPair<QByteArray, QByteArray>>& headers)
{
    QByteArray payload;
    if (!body.is_null()) {
        const std::string text = body.dump();
        payload = QByteArray(text.data(), qsizetype(text.size()));
    }
    QByteArray out = method + ' ' + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
    if (!bearer.isEmpty())
        out += "Authorization: Bearer " + bearer + "\r\n";
    for (const auto& [name, value] : headers)
        out += name + ": " + value + "\r\n";
    if (!payload.isEmpty() || method == "POST" || method == "PATCH" || method == "DELETE") {
        out += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(payload.size()) + "\r\n";
    }
    out += "\r\n" + payload;
    return out;
}

ApiResponse ApiClient::request(const QByteArray& method, const QByteArray& path, const nlohmann::json& body,
                               const QByteArray& bearer, const QList<QPair<QByteArray, QByteArray>>& headers) const
{
    return raw(build(method, path, hostHeader(), body, bearer, headers));
}

ApiResponse ApiClient::raw(const QByteArray& bytes, int timeoutMs) const
{
    const auto all = parallel({bytes}, timeoutMs);
    return all.value(0);
}

QList<ApiResponse> ApiClient::parallel(const QList<QByteArray>& rawRequests, int timeoutMs) const
{
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    std::vector<QByteArray> received(size_t(rawRequests.size()));
    QEventLoop loop;
    int open = int(rawRequests.size());
    for (qsizetype i = 0; i < rawRequests.size(); ++i) {
        auto s = std::make_unique<QTcpSocket>();
        QTcpSocket* socket = s.get();
        QObject::connect(socket, &QTcpSocket::connected, socket, [socket, data = rawRequests[i]] { socket->write(data); });
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket, &received, i] {
            received[size_t(i)] += socket->readAll();
        });
        bool* done = new bool(false);
        auto finish = [&, socket, done, i] {
            if (*done)
                return;
            *done = true;
            received[size_t(i)] += socket->readAll();
            if (--open == 0)
                loop.quit();
        };
        QObject::connect(socket, &QTcpSocket::disconnected, socket, finish);
        QObject::connect(socket, &QTcpSocket::errorOccurred, socket, [finish](QAbstractSocket::SocketError e) {
            if (e != QAbstractSocket::RemoteHostClosedError)
                finish();
        });
        QObject::connect(socket, &QObject::destroyed, [done] { delete done; });
        socket->connectToHost(m_base.host(), quint16(m_base.port()));
        sockets.push_back(std::move(s));
    }
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (open > 0)
        loop.exec();
    QList<ApiResponse> out;
    for (auto& r : received)
        out.append(parse(r));
    for (auto& s : sockets)
        s->disconnect();
    return out;
}

ApiResponse ApiClient::parse(const QByteArray& bytes)
{
    ApiResponse r;
    const qsizetype end = bytes.indexOf("\r\n\r\n");
    if (end < 0 || !bytes.startsWith("HTTP/1.1 "))
        return r;
    const QList<QByteArray> lines = bytes.left(end).split('\n');
    r.status = lines.value(0).mid(9, 3).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            r.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
    }
    r.body = bytes.mid(end + 4);
    const QByteArray length = r.header("content-length");
    if (!length.isEmpty())
        r.body.truncate(length.toLongLong());
    r.json = nlohmann::json::parse(r.body.begin(), r.body.end(), nullptr, false);
    return r;
}

} // namespace ehrs::test
