// SPDX-License-Identifier: Apache-2.0
#include "AgentConnection.h"

#include "FutureHelpers.h"
#include "Logging.h"
#include "ipc/SocketPath.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

namespace ehrs::app {
namespace {
template <typename T> QFuture<Result<T>> readyResult(Result<T> value)
{
    return readyFuture(std::move(value));
}

constexpr int kConnectAttempts = 50; // x 200 ms: how long a freshly launched agent may take
} // namespace

AgentConnection::AgentConnection(Options options, QObject* parent)
    : QObject(parent), m_options(std::move(options))
{
    connect(&m_client, &ipc::AgentClient::eventReceived, this, &AgentConnection::onEvent);
    connect(&m_client, &ipc::AgentClient::disconnected, this, [this] {
        Q_EMIT liveUpdatesChanged(false);
        Q_EMIT connectionLost();
    });
}

QString AgentConnection::agentProgram() const
{
    if (!m_options.agentProgram.isEmpty())
        return m_options.agentProgram;
    const QString name = QStringLiteral("ehr-sessions-agent");
    const QDir here(QCoreApplication::applicationDirPath());
    for (const QString& candidate :
         {here.filePath(name), here.filePath(QStringLiteral("../agent/") + name)}) {
        if (QFileInfo(candidate).isExecutable())
            return QFileInfo(candidate).canonicalFilePath();
    }
    return QStandardPaths::findExecutable(name);
}

QFuture<Result<void>> AgentConnection::connectOrLaunch()
{
    if (m_client.isConnected())
        return readyResult(Result<void>{});
    auto promise = std::make_shared<QPromise<Result<void>>>();
    promise->start();
    tryConnect(promise, kConnectAttempts);
    return promise->future();
}

void AgentConnection::tryConnect(std::shared_ptr<QPromise<Result<void>>> promise, int attemptsLeft)
{
    m_client.connectToAgent(m_options.socketPath)
        .then(this, [this, promise, attemptsLeft](const Result<void>& r) {
            if (r) {
                m_launched = false; // if this agent goes away, starting another one is right again
                promise->addResult(r);
                promise->finish();
                return;
            }
            if (!m_options.autoStart || attemptsLeft <= 0) {
                promise->addResult(Result<void>(
                    fail(ErrorCode::NetworkError,
                         tr("The EHR Sessions agent is not running (%1).").arg(r.error().message))));
                promise->finish();
                return;
            }
            if (!m_launched) {
                m_launched = true;
                const QString program = agentProgram();
                // Detached and silent: the agent outlives the app and must not hold its terminal.
                QProcess launcher;
                launcher.setProgram(program);
                launcher.setArguments({QStringLiteral("run")});
                launcher.setStandardInputFile(QProcess::nullDevice());
                launcher.setStandardOutputFile(QProcess::nullDevice());
                launcher.setStandardErrorFile(QProcess::nullDevice());
                if (program.isEmpty() || !launcher.startDetached()) {
                    promise->addResult(
                        Result<void>(fail(ErrorCode::NetworkError,
                                          tr("Cannot start the EHR Sessions agent (ehr-sessions-agent)."))));
                    promise->finish();
                    return;
                }
                qCInfo(lcApp) << "started" << program;
            }
            QTimer::singleShot(200, this,
                               [this, promise, attemptsLeft] { tryConnect(promise, attemptsLeft - 1); });
        });
}

QFuture<Result<ipc::StatusReply>> AgentConnection::start()
{
    using R = Result<ipc::StatusReply>;
    auto promise = std::make_shared<QPromise<R>>();
    promise->start();
    connectOrLaunch().then(this, [this, promise](const Result<void>& connected) {
        if (!connected) {
            promise->addResult(R(fail(connected.error())));
            promise->finish();
            return;
        }
        m_client.subscribe().then(this, [this, promise](const Result<void>& subscribed) {
            if (!subscribed) {
                promise->addResult(R(fail(subscribed.error())));
                promise->finish();
                return;
            }
            m_client.status().then(this, [this, promise](const R& s) {
                Q_EMIT liveUpdatesChanged(s && s->liveUpdates);
                promise->addResult(s);
                promise->finish();
            });
        });
    });
    return promise->future();
}

QFuture<Result<ipc::StatusReply>> AgentConnection::status()
{
    return m_client.status();
}

QFuture<Result<ipc::LoginReply>> AgentConnection::login(const QString& serverUrl, const QString& email,
                                                        const QString& password)
{
    return m_client.login(serverUrl, email, password);
}

QFuture<Result<ipc::LoginReply>> AgentConnection::verifyMfa(const QString& code, bool rememberDevice)
{
    return m_client.verifyMfa(code, rememberDevice);
}

QFuture<Result<void>> AgentConnection::logout()
{
    return m_client.logout();
}

QFuture<Result<QString>> AgentConnection::accessToken(bool fresh)
{
    // A token the server refused may have been rotated away meanwhile: ask for one that stays
    // valid for long, which makes the agent refresh unless its token is brand new.
    return m_client.token(fresh ? 86400 : 0)
        .then(this, [this](const Result<ipc::TokenReply>& r) -> Result<QString> {
            if (!r) {
                // Not a sign-out: the window shows the lock screen or the switch-user screen.
                if (ipc::isWorkstationLocked(r.error()))
                    Q_EMIT workstationLocked();
                else if (ipc::isNoActiveClinician(r.error()))
                    Q_EMIT userSwitched(QString());
                return fail(r.error());
            }
            return r->accessToken;
        });
}

QFuture<Result<ipc::SetPinReply>> AgentConnection::setPin(const QString& pin)
{
    return m_client.setPin(pin);
}

QFuture<Result<ipc::SwitchUserReply>> AgentConnection::switchUser()
{
    return m_client.switchUser();
}

QFuture<Result<ipc::LoginReply>> AgentConnection::resume(const QString& email, const QString& pin)
{
    return m_client.resume(email, pin);
}

void AgentConnection::onEvent(const ipc::Event& event)
{
    if (const auto* out = std::get_if<ipc::SignedOutEvent>(&event)) {
        Q_EMIT signedOut(out->reason, out->message);
    } else if (const auto* revoked = std::get_if<ipc::SessionRevokedEvent>(&event)) {
        if (!revoked->current)
            Q_EMIT sessionsChanged();
    } else if (std::holds_alternative<ipc::NewSignInEvent>(event)) {
        Q_EMIT sessionsChanged();
    } else if (std::holds_alternative<ipc::TokenRefreshedEvent>(event)) {
        Q_EMIT tokenRefreshed();
    } else if (const auto* live = std::get_if<ipc::LiveUpdatesEvent>(&event)) {
        Q_EMIT liveUpdatesChanged(live->live);
    } else if (const auto* switched = std::get_if<ipc::UserSwitchedEvent>(&event)) {
        Q_EMIT userSwitched(switched->email);
    } else if (const auto* lock = std::get_if<ipc::LockChangedEvent>(&event)) {
        Q_EMIT lockChanged(lock->locked);
    }
}

} // namespace ehrs::app
