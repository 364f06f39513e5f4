// SPDX-License-Identifier: Apache-2.0
#include "AgentProcess.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QLocalSocket>
#include <QUuid>

namespace ehrs::agent::test {

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
    return m_runtime.filePath(QStringLiteral("ehr-sessions/agent.sock"));
}

bool AgentProcess::start()
{
    stop();
    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(m_env);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->start(QStringLiteral(EHRS_AGENT_BINARY), {QStringLiteral("run")});
    if (!m_process->waitForStarted(10000))
        return false;
    QDeadlineTimer deadline(15000);
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
    QProcess p;
    p.setProcessEnvironment(m_env);
    p.start(QStringLiteral(EHRS_AGENT_BINARY), args + QStringList{QStringLiteral("--socket"), socketPath()});
    CliResult r;
    if (!p.waitForStarted(10000))
        return r;
    p.write(stdinData);
    p.closeWriteChannel();
    // The daemon is another process: blocking here is fine.
    if (!p.waitForFinished(60000)) {
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
