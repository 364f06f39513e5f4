// SPDX-License-Identifier: Apache-2.0
#pragma once

// A stand-in for the agent's local socket, for widget tests of the window's logic: answers each
// request type with a canned JSON reply (per the contract in docs/agent-api.md) and pushes events
// to subscribers. Real agents are tested in the end-to-end tests.

#include "ipc/FrameDecoder.h"

#include <QHash>
#include <QLocalServer>
#include <QLocalSocket>
#include <QStringList>
#include <QTemporaryDir>
#include <nlohmann/json.hpp>

namespace ehrs::app::test {

class FakeAgentSocket : public QObject
{
public:
    FakeAgentSocket()
    {
        m_server.listen(m_dir.filePath(QStringLiteral("agent.sock")));
        QObject::connect(&m_server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket* s = m_server.nextPendingConnection()) {
                auto* decoder = new ipc::FrameDecoder;
                QObject::connect(s, &QObject::destroyed, this, [this, s, decoder] {
                    delete decoder;
                    m_subscribers.removeAll(s);
                });
                QObject::connect(s, &QLocalSocket::disconnected, s, &QObject::deleteLater);
                QObject::connect(s, &QLocalSocket::readyRead, this, [this, s, decoder] {
                    (void)decoder->feed(s->readAll());
                    while (auto payload = decoder->next())
                        answer(s, nlohmann::json::parse(payload->toStdString()));
                });
            }
        });
    }

    QString path() const { return m_server.fullServerName(); }

    /// The reply fields for a request type ("status", "token", ...), merged into {type, id, ok:true}.
    void setReply(const QString& type, nlohmann::json fields) { m_replies[type] = std::move(fields); }
    /// An error reply for a request type: {ok:false, error, message}.
    void setError(const QString& type, const std::string& code, const std::string& message = {})
    {
        m_replies[type] = nlohmann::json{{"ok", false}, {"error", code}, {"message", message}};
    }
    void push(nlohmann::json event)
    {
        event["type"] = "event";
        for (QLocalSocket* s : std::as_const(m_subscribers))
            send(s, event);
    }
    /// The request types received, in order.
    QStringList requests;

private:
    void answer(QLocalSocket* s, const nlohmann::json& request)
    {
        const QString type = QString::fromStdString(request.value("type", std::string()));
        requests << type;
        nlohmann::json reply{{"type", "reply"}, {"id", request.value("id", 0)}, {"ok", true}};
        if (type == u"subscribe")
            m_subscribers << s;
        else if (m_replies.contains(type))
            reply.update(m_replies.value(type));
        send(s, reply);
    }
    static void send(QLocalSocket* s, const nlohmann::json& j)
    {
        const auto frame = ipc::encodeFrame(QByteArray::fromStdString(j.dump()));
        if (frame)
            s->write(*frame);
    }

    // In this order: the server (and its sockets, whose destroyed() handlers use the list) goes first.
    QTemporaryDir m_dir;
    QHash<QString, nlohmann::json> m_replies;
    QList<QLocalSocket*> m_subscribers;
    QLocalServer m_server;
};

} // namespace ehrs::app::test
