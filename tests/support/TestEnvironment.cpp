// SPDX-License-Identifier: Apache-2.0
#include "TestEnvironment.h"

#include <QDir>
#include <QTcpServer>
#include <QTcpSocket>
#include <QDeadlineTimer>
#include <QThread>
#include <QUrl>
#include <QUuid>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlError>
#include <QtSql/QSqlQuery>

namespace ehrs::test {

QString postgresAdminUrl()
{
    return qEnvironmentVariable("EHRS_TEST_DATABASE_URL");
}

QString sharedRedisUrl()
{
    return qEnvironmentVariable("EHRS_TEST_REDIS_URL");
}

bool servicesRequired()
{
    return qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1";
}

QString createPostgresDatabase()
{
    const QUrl admin(postgresAdminUrl());
    if (!admin.isValid() || admin.isEmpty())
        return {};
    const QString name = QStringLiteral("ehrs_test_") + QUuid::createUuid().toString(QUuid::Id128).left(16);
    const QString connName = QStringLiteral("admin-") + name;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), connName);
        db.setHostName(admin.host());
        db.setPort(admin.port(5432));
        db.setUserName(admin.userName());
        db.setPassword(admin.password());
        db.setDatabaseName(admin.path().mid(1).isEmpty() ? QStringLiteral("postgres") : admin.path().mid(1));
        if (!db.open()) {
            qWarning("cannot reach the test PostgreSQL: %s", qPrintable(db.lastError().text()));
            return {};
        }
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("CREATE DATABASE ") + name)) {
            qWarning("CREATE DATABASE failed: %s", qPrintable(q.lastError().text()));
            return {};
        }
    }
    QSqlDatabase::removeDatabase(connName);
    QUrl url = admin;
    url.setPath(QLatin1Char('/') + name);
    return url.toString();
}

int freeLoopbackPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

RedisProcess::RedisProcess() = default;

RedisProcess::~RedisProcess()
{
    stop();
    if (!m_dir.isEmpty())
        QDir(m_dir).removeRecursively();
}

bool RedisProcess::start(bool appendOnly)
{
    if (m_dir.isEmpty())
        m_dir = QDir::tempPath() + QStringLiteral("/ehrs-redis-") + QUuid::createUuid().toString(QUuid::Id128);
    QDir().mkpath(m_dir);
    if (m_port == 0)
        m_port = freeLoopbackPort();
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    m_process->setWorkingDirectory(m_dir);
    QStringList args{QStringLiteral("--port"), QString::number(m_port), QStringLiteral("--bind"),
                     QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
                     QStringLiteral("--dir"), m_dir, QStringLiteral("--appendonly"),
                     appendOnly ? QStringLiteral("yes") : QStringLiteral("no")};
    m_process->start(QStringLiteral("redis-server"), args);
    if (!m_process->waitForStarted(5000))
        return false;
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_port));
        if (s.waitForConnected(200)) {
            s.write("PING\r\n");
            if (s.waitForReadyRead(500) && s.readAll().startsWith("+PONG"))
                return true;
        }
        if (m_process->state() == QProcess::NotRunning)
            break;
        QThread::msleep(20);
    }
    qWarning("redis-server did not start: %s", m_process->readAll().constData());
    return false;
}

void RedisProcess::kill()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    m_process.reset();
}

void RedisProcess::stop()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_process.reset();
}

bool RedisProcess::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

QString RedisProcess::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port);
}

} // namespace ehrs::test
