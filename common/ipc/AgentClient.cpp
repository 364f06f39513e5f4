// SPDX-License-Identifier: Apache-2.0
#include "AgentClient.h"

#include "FutureHelpers.h"
#include "SocketPath.h"

#include <QTimer>

namespace ehrs::ipc {
namespace {
constexpr int kConnectRetryMs = 50;
/// How long a read (`token`, `status`) whose connection dropped waits for the agent to be back.
constexpr int kRestartWaitMs = 2000;

template <typename T>
QFuture<Result<T>> ready(Result<T> value)
{
    return readyFuture(std::move(value));
}
} // namespace

AgentClient::AgentClient(QObject* parent) : QObject(parent)
{
    connect(&m_socket, &QLocalSocket::readyRead, this, &AgentClient::onReadyRead);
    connect(&m_socket, &QLocalSocket::connected, this, [this] {
        if (auto p = std::exchange(m_connectPromise, nullptr)) {
            p->addResult(Result<void>{});
            p->finish();
        }
    });
    connect(&m_socket, &QLocalSocket::errorOccurred, this, [this](QLocalSocket::LocalSocketError error) {
        const bool notListening =
            error == QLocalSocket::ServerNotFoundError || error == QLocalSocket::ConnectionRefusedError;
        if (m_connectPromise && notListening && !m_connectDeadline.hasExpired()) {
            // The agent is starting (or restarting): try again shortly, until the deadline.
            m_socket.abort();
            QTimer::singleShot(kConnectRetryMs, this, [this] {
                if (m_connectPromise && m_socket.state() == QLocalSocket::UnconnectedState)
                    m_socket.connectToServer(m_connectTarget);
            });
            return;
        }
        const Error e{ErrorCode::NetworkError,
                      QStringLiteral("cannot talk to the agent: %1").arg(m_socket.errorString())};
        if (auto p = std::exchange(m_connectPromise, nullptr)) {
            p->addResult(Result<void>(fail(e)));
            p->finish();
        }
        failAll(e);
    });
    connect(&m_socket, &QLocalSocket::disconnected, this, [this] {
        failAll(Error{ErrorCode::NetworkError, QStringLiteral("the agent closed the connection")});
        Q_EMIT disconnected();
    });
}

AgentClient::~AgentClient()
{
    // Pending futures must finish, or their waiters would hang forever.
    failAll(Error{ErrorCode::NetworkError, QStringLiteral("client destroyed")});
    if (auto p = std::exchange(m_connectPromise, nullptr)) {
        p->addResult(Result<void>(fail(ErrorCode::NetworkError, QStringLiteral("client destroyed"))));
        p->finish();
    }
    m_socket.disconnect(this);
    m_socket.abort();
}

QFuture<Result<void>> AgentClient::connectToAgent(const QString& path, int waitForStartMs)
{
    QString target = path;
    if (target.isEmpty()) {
        auto p = socketPath();
        if (!p)
            return ready<void>(fail(p.error()));
        target = *p;
    }
    m_decoder = FrameDecoder();
    m_connectPromise = std::make_shared<QPromise<Result<void>>>();
    m_connectPromise->start();
    auto future = m_connectPromise->future();
    m_connectTarget = target;
    m_connectDeadline = QDeadlineTimer(std::max(0, waitForStartMs));
    m_socket.connectToServer(target);
    return future;
}

bool AgentClient::isConnected() const
{
    return m_socket.state() == QLocalSocket::ConnectedState;
}

void AgentClient::disconnectFromAgent()
{
    m_socket.disconnectFromServer();
}

QFuture<Result<QByteArray>> AgentClient::request(Request request)
{
    if (!isConnected())
        return ready<QByteArray>(fail(ErrorCode::NetworkError, QStringLiteral("not connected to the agent")));
    request.id = m_nextId++;
    auto frame = encodeFrame(toPayload(request));
    if (!frame)
        return ready<QByteArray>(fail(frame.error()));
    auto promise = std::make_shared<QPromise<Result<QByteArray>>>();
    promise->start();
    m_pending.emplace(request.id, promise);
    m_socket.write(*frame);
    return promise->future();
}

QFuture<Result<QByteArray>> AgentClient::readRequest(Request r)
{
    // A read has no effect on the agent, so when the connection drops before its answer (the
    // agent crashed, or is being restarted or upgraded) it is asked once more on a new connection
    // to the same agent, which is waited for briefly: the caller does not see the restart.
    auto promise = std::make_shared<QPromise<Result<QByteArray>>>();
    promise->start();
    auto finish = [promise](Result<QByteArray> value) {
        promise->addResult(std::move(value));
        promise->finish();
    };
    request(r).then(this, [this, r, finish](const Result<QByteArray>& reply) {
        if (reply || reply.error().code != ErrorCode::NetworkError || m_connectTarget.isEmpty())
            return finish(reply);
        // Once the socket has finished telling of the drop (this may run inside its signal).
        QTimer::singleShot(0, this, [this, r, finish] {
            if (m_socket.state() != QLocalSocket::UnconnectedState)
                m_socket.abort(); // what is left of the dropped connection
            connectToAgent(m_connectTarget, kRestartWaitMs)
                .then(this, [this, r, finish](const Result<void>& connected) {
                    if (!connected)
                        return finish(fail(connected.error()));
                    request(r).then(this, [finish](const Result<QByteArray>& again) { finish(again); });
                });
        });
    });
    return promise->future();
}

QFuture<Result<TokenReply>> AgentClient::token(int minValidSeconds)
{
    Request r;
    r.type = RequestType::Token;
    r.minValidSeconds = minValidSeconds;
    return readRequest(r).then(this, [](const Result<QByteArray>& reply) -> Result<TokenReply> {
        if (!reply)
            return fail(reply.error());
        return tokenReplyFromPayload(*reply);
    });
}

QFuture<Result<StatusReply>> AgentClient::status()
{
    Request r;
    r.type = RequestType::Status;
    return readRequest(r).then(this, [](const Result<QByteArray>& reply) -> Result<StatusReply> {
        if (!reply)
            return fail(reply.error());
        return statusReplyFromPayload(*reply);
    });
}

QFuture<Result<LoginReply>> AgentClient::login(const QString& serverUrl, const QString& email,
                                               const QString& password, bool allowInsecureHttp)
{
    Request r;
    r.type = RequestType::Login;
    r.allowInsecureHttp = allowInsecureHttp;
    r.serverUrl = serverUrl;
    r.email = email;
    r.password = password;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<LoginReply> {
        if (!reply)
            return fail(reply.error());
        return loginReplyFromPayload(*reply);
    });
}

QFuture<Result<LoginReply>> AgentClient::verifyMfa(const QString& code, bool rememberDevice)
{
    Request r;
    r.type = RequestType::VerifyMfa;
    r.code = code;
    r.rememberDevice = rememberDevice;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<LoginReply> {
        if (!reply)
            return fail(reply.error());
        return loginReplyFromPayload(*reply);
    });
}

QFuture<Result<void>> AgentClient::logout()
{
    Request r;
    r.type = RequestType::Logout;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<void> {
        if (!reply)
            return fail(reply.error());
        return {};
    });
}

QFuture<Result<void>> AgentClient::subscribe()
{
    Request r;
    r.type = RequestType::Subscribe;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<void> {
        if (!reply)
            return fail(reply.error());
        return {};
    });
}

QFuture<Result<SetPinReply>> AgentClient::setPin(const QString& pin)
{
    Request r;
    r.type = RequestType::SetPin;
    r.pin = pin;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<SetPinReply> {
        if (!reply)
            return fail(reply.error());
        return setPinReplyFromPayload(*reply);
    });
}

QFuture<Result<SwitchUserReply>> AgentClient::switchUser()
{
    Request r;
    r.type = RequestType::SwitchUser;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<SwitchUserReply> {
        if (!reply)
            return fail(reply.error());
        return switchUserReplyFromPayload(*reply);
    });
}

QFuture<Result<LoginReply>> AgentClient::resume(const QString& email, const QString& pin)
{
    Request r;
    r.type = RequestType::Resume;
    r.email = email;
    r.pin = pin;
    return request(r).then(this, [](const Result<QByteArray>& reply) -> Result<LoginReply> {
        if (!reply)
            return fail(reply.error());
        return loginReplyFromPayload(*reply);
    });
}

void AgentClient::onReadyRead()
{
    if (!m_decoder.feed(m_socket.readAll())) {
        failAll(Error{ErrorCode::InvalidRequest, QStringLiteral("the agent sent an invalid frame")});
        m_socket.abort();
        return;
    }
    while (auto payload = m_decoder.next()) {
        auto in = incomingFromPayload(*payload);
        if (!in)
            continue; // a newer agent's message this client does not know
        if (in->isEvent) {
            if (auto event = eventFromPayload(*payload))
                Q_EMIT eventReceived(*event);
            continue;
        }
        auto it = m_pending.find(in->id);
        if (it == m_pending.end())
            continue;
        auto promise = it->second;
        m_pending.erase(it);
        if (in->error)
            promise->addResult(Result<QByteArray>(fail(*in->error)));
        else
            promise->addResult(Result<QByteArray>(std::move(in->payload)));
        promise->finish();
    }
    if (m_decoder.hasFailed()) {
        failAll(Error{ErrorCode::InvalidRequest, QStringLiteral("the agent sent an invalid frame")});
        m_socket.abort();
    }
}

void AgentClient::failAll(const Error& error)
{
    auto pending = std::exchange(m_pending, {});
    for (auto& [id, promise] : pending) {
        promise->addResult(Result<QByteArray>(fail(error)));
        promise->finish();
    }
}

} // namespace ehrs::ipc
