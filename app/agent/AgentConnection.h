// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "ClientErrors.h"
#include "Result.h"
#include "api/AccessTokenSource.h"
#include "ipc/AgentClient.h"
#include "workstation/WorkstationAgent.h"

#include <QFuture>
#include <QObject>
#include <QTimer>

namespace ehrs::app {

/// The app's link to the per-user agent: one AgentClient connection for requests and events.
/// start() connects, launching `ehr-sessions-agent run` when nothing listens on the socket, and
/// subscribes to the agent's events, which come out as the signals below.
class AgentConnection : public QObject, public AccessTokenSource, public WorkstationAgent
{
    Q_OBJECT
public:
    struct Options
    {
        QString socketPath;   // empty: the default ($XDG_RUNTIME_DIR/ehr-sessions/agent.sock)
        QString agentProgram; // empty: next to the app, in the build tree, or on PATH
        bool autoStart = true;
    };
    explicit AgentConnection(Options options, QObject* parent = nullptr);

    /// Connected and subscribed, then the agent's status.
    QFuture<Result<ipc::StatusReply>> start();
    QFuture<Result<ipc::StatusReply>> status();
    QFuture<Result<ipc::LoginReply>> login(const QString& serverUrl, const QString& email,
                                           const QString& password);
    QFuture<Result<ipc::LoginReply>> verifyMfa(const QString& code, bool rememberDevice = false);
    QFuture<Result<void>> logout();
    QFuture<Result<QString>> accessToken(bool fresh) override;

    // Shared workstations (issue 14).
    QFuture<Result<ipc::SetPinReply>> setPin(const QString& pin) override;
    QFuture<Result<ipc::SwitchUserReply>> switchUser() override;
    QFuture<Result<ipc::LoginReply>> resume(const QString& email, const QString& pin) override;

    /// Where the agent program is looked for when it must be started.
    QString agentProgram() const;

Q_SIGNALS:
    /// The agent's session ended. `reason`: session_revoked, session_expired,
    /// refresh_token_reused, unauthorized or logout (see signedOutMessage()).
    void signedOut(const QString& reason, const QString& message);
    /// Another session of the account appeared or disappeared.
    void sessionsChanged();
    void tokenRefreshed();
    /// Whether the agent's event stream from the server is connected: while it is, account
    /// changes arrive as events and the app need not poll. Also emitted by start() with the
    /// agent's current value, and with false when the agent goes away.
    void liveUpdatesChanged(bool live);
    /// The agent went away; start() reconnects (and relaunches it).
    void connectionLost();
    /// A token was refused because the desktop is locked (`workstation_locked`).
    void workstationLocked();
    /// The desktop session was locked or unlocked (the agent's `lock-changed` event).
    void lockChanged(bool locked);
    /// The active clinician changed on a shared workstation (`user-switched`; also a token refused
    /// with `no_active_clinician`): `email` is empty when nobody is active.
    void userSwitched(const QString& email);

private:
    QFuture<Result<void>> connectOrLaunch();
    void tryConnect(std::shared_ptr<QPromise<Result<void>>> promise, int attemptsLeft);
    void onEvent(const ipc::Event& event);

    Options m_options;
    ipc::AgentClient m_client;
    bool m_launched = false;
};

// signedOutMessage(reason): what to tell the person after the agent signed out (common/ClientErrors.h).

} // namespace ehrs::app
