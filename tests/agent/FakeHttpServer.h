// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QList>
#include <QTcpServer>
#include <QUrl>

#include <functional>

namespace ehrs::agent::test {

/// A minimal HTTP/1.1 server on 127.0.0.1 for unit tests of the agent's server client: records
/// each request and answers it with what `handler` returns. One request per connection.
class FakeHttpServer : public QObject
{
    Q_OBJECT
public:
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QByteArray body;
        QByteArray authorization;
    };
    struct Response
    {
        int status = 200;
        QByteArray body = "{}";
        QList<std::pair<QByteArray, QByteArray>> headers;
    };

    explicit FakeHttpServer(QObject* parent = nullptr);
    bool start();
    QUrl url() const;

    std::function<Response(const Request&)> handler;
    QList<Request> requests;
    /// Delay before answering, to keep requests in flight while a test piles up callers.
    int delayMs = 0;

private:
    void onConnection();
    QTcpServer m_server;
};

} // namespace ehrs::agent::test
