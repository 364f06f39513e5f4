// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "core/LoginStep.h"
#include "ipc/AgentMessages.h"
#include "ipc/FrameDecoder.h"

#include <QObject>
#include <QPointer>

#include <optional>

class QLocalSocket;

namespace ehrs::agent {

class AgentService;

/// One accepted, uid-checked client of the local API: decodes its frames, runs its requests on
/// the AgentService and writes replies and (after `subscribe`) events. Everything is
/// asynchronous, so a client that stops reading or sends half a frame only holds up itself.
class ClientConnection : public QObject
{
    Q_OBJECT
public:
    /// Takes ownership of `socket`.
    ClientConnection(QLocalSocket* socket, AgentService& service, QObject* parent = nullptr);
    ~ClientConnection() override;

    bool isSubscribed() const { return m_subscribed; }
    /// Queues an event for this client (dropped when it does not keep up; see send()).
    void sendEvent(const ipc::Event& event);

    /// Replies/events waiting in a client's queue beyond this mean it stopped reading: it is
    /// disconnected rather than allowed to grow the agent's memory.
    static constexpr qint64 kMaxPendingWriteBytes = 1024 * 1024;
    /// Requests of one client being worked on at once.
    static constexpr int kMaxInFlight = 32;

Q_SIGNALS:
    void closed();

private:
    void onReadyRead();
    void handle(const QByteArray& payload);
    void reply(const QByteArray& payload);
    void rejectAndClose(qint64 id, const Error& error);

    QLocalSocket* m_socket;
    AgentService& m_service;
    ipc::FrameDecoder m_decoder;
    bool m_subscribed = false;
    bool m_closing = false;
    int m_inFlight = 0;
    std::optional<PendingMfa> m_pendingMfa;
};

} // namespace ehrs::agent
