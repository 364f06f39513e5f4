// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "AgentMessages.h"
#include "FrameDecoder.h"
#include "Result.h"

#include <QDeadlineTimer>
#include <QFuture>
#include <QLocalSocket>
#include <QObject>
#include <QPromise>
#include <map>
#include <memory>

namespace ehrs::ipc {

/// Client of the agent's local API, used by the agent's sub-commands and the desktop app.
/// Requests are answered through futures (matched by id, so several may be in flight); events
/// after subscribe() arrive as the eventReceived() signal. When the connection drops, pending
/// requests fail with NetworkError and disconnected() is emitted.
class AgentClient : public QObject
{
    Q_OBJECT
public:
    explicit AgentClient(QObject* parent = nullptr);
    ~AgentClient() override;

    /// Connects to `path` (default: socketPath()). The future finishes once connected. With
    /// `waitForStartMs`, an agent that is not listening yet (starting, restarting after a crash
    /// or an upgrade) is waited for that long, trying again every 50 ms, before the connection
    /// fails; with socket activation systemd holds the socket and the wait is never needed.
    QFuture<Result<void>> connectToAgent(const QString& path = {}, int waitForStartMs = 0);
    bool isConnected() const;
    void disconnectFromAgent();

    /// Sends a request (its id is assigned here) and resolves with the raw reply payload, or the
    /// agent's error. Read the payload with the typed readers of AgentMessages.h.
    QFuture<Result<QByteArray>> request(Request request);

    /// The reads. If the connection drops before the answer (the agent crashed, is restarting or
    /// being upgraded), they are asked once more on a new connection to the same agent, which is
    /// waited for up to 2 s; the other requests are not repeated.
    QFuture<Result<TokenReply>> token(int minValidSeconds = 0);
    QFuture<Result<StatusReply>> status();
    /// `allowInsecureHttp`: the user's explicit opt-in to an http:// server that is not loopback.
    QFuture<Result<LoginReply>> login(const QString& serverUrl, const QString& email, const QString& password,
                                      bool allowInsecureHttp = false);
    /// `rememberDevice`: ask the server to remember this device (LoginReply::deviceRemembered).
    QFuture<Result<LoginReply>> verifyMfa(const QString& code, bool rememberDevice = false);
    QFuture<Result<void>> logout();
    QFuture<Result<void>> subscribe();

    // Shared workstations (issue 14; docs/agent-api.md, "Shared workstations").
    /// Sets the active clinician's PIN for this shift (4 to 8 digits, checked by the server).
    QFuture<Result<SetPinReply>> setPin(const QString& pin);
    /// Parks the active clinician; nobody is active afterwards. Conflict without a PIN.
    QFuture<Result<SwitchUserReply>> switchUser();
    /// Makes the parked clinician `email` active again with their PIN (parking whoever is active).
    /// Wrong PIN: isInvalidPin() (attemptsLeft); isFullSignInRequired(): sign in with the password.
    QFuture<Result<LoginReply>> resume(const QString& email, const QString& pin);

Q_SIGNALS:
    void eventReceived(const ehrs::ipc::Event& event);
    void disconnected();

private:
    QFuture<Result<QByteArray>> readRequest(Request request);
    void onReadyRead();
    void failAll(const Error& error);

    QLocalSocket m_socket;
    FrameDecoder m_decoder;
    qint64 m_nextId = 1;
    std::map<qint64, std::shared_ptr<QPromise<Result<QByteArray>>>> m_pending;
    std::shared_ptr<QPromise<Result<void>>> m_connectPromise;
    QString m_connectTarget;
    QDeadlineTimer m_connectDeadline;
};

} // namespace ehrs::ipc
