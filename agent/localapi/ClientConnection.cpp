// SPDX-License-Identifier: Apache-2.0
#include "ClientConnection.h"

#include "Logging.h"
#include "core/AgentService.h"

#include <QLocalSocket>

namespace ehrs::agent {

ClientConnection::ClientConnection(QLocalSocket* socket, AgentService& service, QObject* parent)
    : QObject(parent), m_socket(socket), m_service(service)
{
    m_socket->setParent(this);
    connect(m_socket, &QLocalSocket::readyRead, this, &ClientConnection::onReadyRead);
    connect(m_socket, &QLocalSocket::disconnected, this, [this] {
        m_closing = true;
        Q_EMIT closed();
    });
    // Data may have arrived between accept and now.
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &ClientConnection::onReadyRead, Qt::QueuedConnection);
}

ClientConnection::~ClientConnection() = default;

void ClientConnection::onReadyRead()
{
    if (m_closing)
        return;
    // Read at most what a maximal frame needs per round so a flooding client cannot make one
    // readyRead monopolise the event loop.
    const QByteArray bytes = m_socket->read(ipc::kMaxFrameSize + ipc::kFrameHeaderSize);
    if (auto fed = m_decoder.feed(bytes); !fed) {
        rejectAndClose(0, fed.error());
        return;
    }
    while (auto payload = m_decoder.next()) {
        handle(*payload);
        if (m_closing)
            return;
    }
    if (m_decoder.hasFailed()) {
        rejectAndClose(0, Error{ErrorCode::PayloadTooLarge, QStringLiteral("frame exceeds the size limit")});
        return;
    }
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &ClientConnection::onReadyRead, Qt::QueuedConnection);
}

void ClientConnection::handle(const QByteArray& payload)
{
    auto request = ipc::requestFromJson(payload);
    if (!request) {
        // The reply names the request, so the client can tell its caller why; a request that is
        // only wrong in its arguments does not cost the connection.
        const ipc::RequestHeader header = ipc::requestHeaderOf(payload);
        if (header.wellFormed) {
            qCInfo(lcAgentLocalApi) << "refusing a request:" << request.error().message;
            reply(ipc::errorPayload(header.id, request.error()));
        } else {
            rejectAndClose(header.id, request.error());
        }
        return;
    }
    const qint64 id = request->id;
    if (m_inFlight >= kMaxInFlight) {
        reply(ipc::errorPayload(id, Error{ErrorCode::RateLimited, QStringLiteral("too many requests in flight")}));
        return;
    }
    switch (request->type) {
    case ipc::RequestType::Status:
        reply(ipc::replyPayload(id, m_service.status()));
        break;
    case ipc::RequestType::Subscribe:
        m_subscribed = true;
        reply(ipc::okPayload(id));
        break;
    case ipc::RequestType::Token:
        ++m_inFlight;
        m_service.token(request->minValidSeconds).then(this, [this, id](const Result<ipc::TokenReply>& r) {
            --m_inFlight;
            reply(r ? ipc::replyPayload(id, *r) : ipc::errorPayload(id, r.error()));
        });
        break;
    case ipc::RequestType::Login:
    case ipc::RequestType::VerifyMfa: {
        QFuture<Result<LoginStep>> step;
        if (request->type == ipc::RequestType::Login) {
            m_pendingMfa.reset();
            step = m_service.login(request->serverUrl, request->email, request->password,
                                   request->allowInsecureHttp);
        } else if (!m_pendingMfa) {
            reply(ipc::errorPayload(id, Error{ErrorCode::InvalidRequest,
                                              QStringLiteral("no sign-in waiting for a code on this connection")}));
            break;
        } else {
            step = m_service.verifyMfa(*m_pendingMfa, request->code, request->rememberDevice);
        }
        ++m_inFlight;
        step.then(this, [this, id](const Result<LoginStep>& r) {
            --m_inFlight;
            if (!r) {
                reply(ipc::errorPayload(id, r.error()));
                return;
            }
            m_pendingMfa = r->pendingMfa;
            reply(ipc::replyPayload(id, r->reply));
        });
        break;
    }
    case ipc::RequestType::SetPin:
        ++m_inFlight;
        m_service.setPin(request->pin).then(this, [this, id](const Result<ipc::SetPinReply>& r) {
            --m_inFlight;
            reply(r ? ipc::replyPayload(id, *r) : ipc::errorPayload(id, r.error()));
        });
        break;
    case ipc::RequestType::SwitchUser:
        ++m_inFlight;
        m_service.switchUser().then(this, [this, id](const Result<ipc::SwitchUserReply>& r) {
            --m_inFlight;
            reply(r ? ipc::replyPayload(id, *r) : ipc::errorPayload(id, r.error()));
        });
        break;
    case ipc::RequestType::Resume:
        m_pendingMfa.reset();
        ++m_inFlight;
        m_service.resume(request->email, request->pin).then(this, [this, id](const Result<LoginStep>& r) {
            --m_inFlight;
            reply(r ? ipc::replyPayload(id, r->reply) : ipc::errorPayload(id, r.error()));
        });
        break;
    case ipc::RequestType::Logout:
        ++m_inFlight;
        m_service.logout().then(this, [this, id](const Result<void>& r) {
            --m_inFlight;
            reply(r ? ipc::okPayload(id) : ipc::errorPayload(id, r.error()));
        });
        break;
    }
}

void ClientConnection::sendEvent(const ipc::Event& event)
{
    if (m_subscribed)
        reply(ipc::toPayload(event));
}

void ClientConnection::reply(const QByteArray& payload)
{
    if (m_closing || m_socket->state() != QLocalSocket::ConnectedState)
        return;
    auto frame = ipc::encodeFrame(payload);
    if (!frame) {
        qCWarning(lcAgentLocalApi) << "reply too large:" << frame.error().message;
        return;
    }
    if (m_socket->bytesToWrite() + frame->size() > kMaxPendingWriteBytes) {
        qCWarning(lcAgentLocalApi) << "a client stopped reading its replies; disconnecting it";
        m_closing = true;
        m_socket->abort();
        return;
    }
    m_socket->write(*frame);
}

void ClientConnection::rejectAndClose(qint64 id, const Error& error)
{
    qCInfo(lcAgentLocalApi) << "rejecting a malformed message:" << error.message;
    reply(ipc::errorPayload(id, error));
    m_closing = true;
    // disconnectFromServer() flushes the error reply before closing.
    m_socket->disconnectFromServer();
}

} // namespace ehrs::agent
