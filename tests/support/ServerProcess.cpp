// SPDX-License-Identifier: Apache-2.0
#include "ServerProcess.h"

#include "TestEnvironment.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QTest>
#include <QThread>

#include <csignal>

namespace ehrs::test {

ServerProcess::ServerProcess() : m_env(QProcessEnvironment::systemEnvironment())
{
    // Tests decide explicitly what the server talks to.
    m_env.remove(QStringLiteral("DATABASE_URL"));
    m_env.remove(QStringLiteral("REDIS_URL"));
    m_env.remove(QStringLiteral("JWT_SECRET"));
    m_env.insert(QStringLiteral("EHRS_DATA_DIR"), m_dataDir.path());
}

ServerProcess::~ServerProcess()
{
    stop();
}

void ServerProcess::setEnv(const QString& name, const QString& value)
{
    m_env.insert(name, value);
}

QString ServerProcess::databaseUrl() const
{
    const QString url = m_env.value(QStringLiteral("DATABASE_URL"));
    if (!url.isEmpty())
        return url;
    return QStringLiteral("sqlite://") + QDir(m_dataDir.path()).absoluteFilePath(QStringLiteral("ehr-sessions.db"));
}

bool ServerProcess::onPostgres()
{
    return qEnvironmentVariable("EHRS_TEST_BACKEND") == u"postgres";
}

bool ServerProcess::useBackendUnderTest()
{
    if (!onPostgres())
        return true;
    const QString db = createPostgresDatabase();
    if (db.isEmpty())
        return false;
    setEnv(QStringLiteral("DATABASE_URL"), db);
    setEnv(QStringLiteral("JWT_SECRET"), QStringLiteral("process-test-secret-0123456789abcdef0123"));
    if (!sharedRedisUrl().isEmpty())
        setEnv(QStringLiteral("REDIS_URL"), sharedRedisUrl());
    return true;
}

bool ServerProcess::start(const QStringList& extraArgs)
{
    stop();
    const QString readyFile = m_dataDir.filePath(QStringLiteral("ready-url"));
    QFile::remove(readyFile);
    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(m_env);
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    QStringList args{QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                     QStringLiteral("--ready-file"), readyFile};
    args += extraArgs;
    m_process->start(QStringLiteral(EHRS_SERVER_BINARY), args);
    if (!m_process->waitForStarted(10000)) {
        qWarning("server did not start: %s", qPrintable(m_process->errorString()));
        return false;
    }
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        QFile f(readyFile);
        if (f.open(QIODevice::ReadOnly)) {
            const QByteArray text = f.readAll().trimmed();
            if (!text.isEmpty()) {
                m_url = QUrl(QString::fromUtf8(text));
                return true;
            }
        }
        if (m_process->state() == QProcess::NotRunning) {
            qWarning("server exited early:\n%s", log().constData());
            return false;
        }
        m_process->waitForReadyRead(50);
    }
    qWarning("server did not become ready:\n%s", log().constData());
    return false;
}

void ServerProcess::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(15000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_log += m_process->readAll();
    m_process.reset();
}

void ServerProcess::kill()
{
    if (!m_process)
        return;
    m_process->kill();
    m_process->waitForFinished(5000);
    m_log += m_process->readAll();
    m_process.reset();
}

bool ServerProcess::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

qint64 ServerProcess::pid() const
{
    return m_process ? m_process->processId() : 0;
}

int ServerProcess::run(const QStringList& args, const QByteArray& stdinData, QByteArray* output)
{
    QProcess p;
    p.setProcessEnvironment(m_env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(EHRS_SERVER_BINARY), args);
    if (!p.waitForStarted(10000))
        return -1;
    p.write(stdinData);
    p.closeWriteChannel();
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return -1;
    }
    const QByteArray out = p.readAll();
    if (output)
        *output = out;
    if (p.exitStatus() != QProcess::NormalExit)
        return -1;
    if (p.exitCode() != 0)
        qWarning("ehr-sessions-server %s exited %d: %s", qPrintable(args.join(u' ')), p.exitCode(), out.constData());
    return p.exitCode();
}

bool ServerProcess::addUser(const QString& email, const QString& password, const QString& name,
                            const QStringList& extraArgs)
{
    QStringList args{QStringLiteral("user"), QStringLiteral("add"), email, QStringLiteral("--name"), name,
                     QStringLiteral("--password-stdin")};
    args += extraArgs;
    return run(args, password.toUtf8() + '\n') == 0;
}

QByteArray ServerProcess::log() const
{
    if (m_process)
        m_log += m_process->readAll();
    return m_log;
}

} // namespace ehrs::test
