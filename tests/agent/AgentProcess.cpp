// SPDX-License-Identifier: Apache-2.0
#include "AgentProcess.h"

#include "core/Await.h"
#include "storage/KeychainTokenStore.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QUuid>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace ehrs::agent::test {

bool AgentProcess::signIn(const QString& serverUrl, const QString& email, const QString& password) const
{
    auto r = cli({QStringLiteral("login"), QStringLiteral("--server"), serverUrl, QStringLiteral("--password-stdin"),
                  email},
                 password.toUtf8() + '\n');
    if (r.exitCode != 0)
        qWarning("login failed (%d): %s\nagent log:\n%s", r.exitCode, r.err.constData(), log().constData());
    return r.exitCode == 0;
}

QString AgentProcess::missingKeychain()
{
    KeychainTokenStore probe(QStringLiteral("ehr-sessions-test-probe"));
    auto loaded = await(probe.load());
    if (!loaded && loaded.error().code == ErrorCode::Unavailable)
        return QStringLiteral("no keychain: ") + loaded.error().message;
    return {};
}

AgentProcess::AgentProcess()
    : m_service(QStringLiteral("ehr-sessions-test-") + QUuid::createUuid().toString(QUuid::Id128).left(12)),
      m_env(QProcessEnvironment::systemEnvironment())
{
    m_env.insert(QStringLiteral("EHRS_AGENT_KEYCHAIN_SERVICE"), m_service);
    m_env.insert(QStringLiteral("EHRS_AGENT_NOTIFY"), QStringLiteral("0"));
    m_env.insert(QStringLiteral("XDG_RUNTIME_DIR"), m_runtime.path());
    m_env.remove(QStringLiteral("EHRS_AGENT_SOCKET"));
}

AgentProcess::~AgentProcess()
{
    stop();
    if (m_listenFd >= 0)
        ::close(m_listenFd);
}

bool AgentProcess::enableSocketActivation()
{
    const QString path = socketPath();
    const QByteArray dir = QFile::encodeName(QFileInfo(path).absolutePath());
    if (::mkdir(dir.constData(), 0700) != 0 && errno != EEXIST)
        return false;
    // Not close-on-exec: the agent inherits it, as from systemd.
    m_listenFd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const QByteArray name = QFile::encodeName(path);
    if (m_listenFd < 0 || name.size() >= qsizetype(sizeof address.sun_path))
        return false;
    std::memcpy(address.sun_path, name.constData(), size_t(name.size()));
    ::unlink(name.constData());
    return ::bind(m_listenFd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
           ::chmod(name.constData(), 0600) == 0 && ::listen(m_listenFd, 64) == 0;
}

void AgentProcess::setEnv(const QString& name, const QString& value)
{
    m_env.insert(name, value);
}

void AgentProcess::unsetEnv(const QString& name)
{
    m_env.remove(name);
}

QString AgentProcess::socketPath() const
{
    return m_socketPath.isEmpty() ? m_runtime.filePath(QStringLiteral("ehr-sessions/agent.sock"))
                                  : m_socketPath;
}

bool AgentProcess::start()
{
    stop();
    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(m_env);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    const qsizetype logStart = m_log.size(); // earlier runs' output is in there too
    if (m_listenFd >= 0) {
        // LISTEN_PID must be the agent's pid: the shell sets it to its own, then becomes the agent.
        m_process->start(
            QStringLiteral("/bin/bash"), // dash takes one-digit descriptors only
            {QStringLiteral("-c"),
             QStringLiteral("export LISTEN_PID=$$ LISTEN_FDS=1; exec \"$0\" run 3<&%1 %1<&-").arg(m_listenFd),
             QStringLiteral(EHRS_AGENT_BINARY)});
    } else {
        m_process->start(QStringLiteral(EHRS_AGENT_BINARY), {QStringLiteral("run")});
    }
    if (!m_process->waitForStarted(10000))
        return false;
    QDeadlineTimer deadline(15000);
    while (m_listenFd >= 0 && !deadline.hasExpired()) {
        // The socket answers before the agent does (it is ours): wait for the agent to take it.
        if (log().indexOf("(socket activation)", logStart) >= 0)
            return true;
        if (m_process->state() == QProcess::NotRunning || m_process->waitForFinished(50)) {
            qWarning("agent exited early:\n%s", log().constData());
            return false;
        }
    }
    while (!deadline.hasExpired()) {
        QLocalSocket probe;
        probe.connectToServer(socketPath());
        if (probe.waitForConnected(200)) {
            probe.abort();
            return true;
        }
        // waitForFinished() also lets QProcess notice an exit; a plain sleep would not.
        if (m_process->state() == QProcess::NotRunning || m_process->waitForFinished(50)) {
            qWarning("agent exited early:\n%s", log().constData());
            return false;
        }
    }
    qWarning("agent did not start listening:\n%s", log().constData());
    return false;
}

void AgentProcess::kill()
{
    if (!m_process)
        return;
    m_process->kill();
    m_process->waitForFinished(5000);
    m_log += m_process->readAll();
    m_process.reset();
}

void AgentProcess::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(10000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_log += m_process->readAll();
    m_process.reset();
}

int AgentProcess::waitForExit(int timeoutMs)
{
    if (!m_process)
        return -1;
    // waitForFinished() is false for a process that has already finished.
    if (m_process->state() != QProcess::NotRunning && !m_process->waitForFinished(timeoutMs))
        return -1;
    m_log += m_process->readAll();
    const int code = m_process->exitStatus() == QProcess::NormalExit ? m_process->exitCode() : -1;
    m_process.reset();
    return code;
}

bool AgentProcess::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

AgentProcess::CliResult AgentProcess::cli(const QStringList& args, const QByteArray& stdinData) const
{
    auto p = startCli(args, stdinData);
    return finish(*p);
}

std::unique_ptr<QProcess> AgentProcess::startCli(const QStringList& args, const QByteArray& stdinData) const
{
    auto p = std::make_unique<QProcess>();
    p->setProcessEnvironment(m_env);
    p->start(QStringLiteral(EHRS_AGENT_BINARY),
             m_passSocket ? args + QStringList{QStringLiteral("--socket"), socketPath()} : args);
    if (p->waitForStarted(10000)) {
        p->write(stdinData);
        p->closeWriteChannel();
    }
    return p;
}

AgentProcess::CliResult AgentProcess::finish(QProcess& p, int timeoutMs)
{
    CliResult r;
    if (p.state() == QProcess::NotRunning && p.exitStatus() != QProcess::NormalExit)
        return r;
    // The daemon is another process: blocking here is fine.
    if (p.state() != QProcess::NotRunning && !p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QByteArray AgentProcess::log() const
{
    if (m_process) {
        m_process->waitForReadyRead(200);
        m_log += m_process->readAll();
    }
    return m_log;
}

} // namespace ehrs::agent::test
