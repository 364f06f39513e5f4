// SPDX-License-Identifier: Apache-2.0
#include "TestEnvironment.h"

#include <QDir>
#include <QFile>
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

namespace {
int runAsPostgres(const QString& command)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("su"), {QStringLiteral("postgres"), QStringLiteral("-s"), QStringLiteral("/bin/sh"),
                                   QStringLiteral("-c"), command});
    if (!p.waitForFinished(60000)) {
        p.kill();
        return -1;
    }
    if (p.exitCode() != 0)
        qWarning("%s: %s", qPrintable(command), p.readAll().constData());
    return p.exitCode();
}
} // namespace

PostgresProcess::PostgresProcess()
    : m_dir(QDir::tempPath() + QStringLiteral("/ehrs-pg-") + QUuid::createUuid().toString(QUuid::Id128).left(12))
{
}

PostgresProcess::~PostgresProcess()
{
    stop();
    QDir(m_dir).removeRecursively();
}

bool PostgresProcess::pgctl(const QString& action)
{
    return runAsPostgres(QStringLiteral("/usr/lib/postgresql/15/bin/pg_ctl -D %1/data -l %1/log -w %2")
                             .arg(m_dir, action)) == 0;
}

bool PostgresProcess::start()
{
    if (!m_initialised) {
        QDir().mkpath(m_dir);
        QProcess::execute(QStringLiteral("chown"), {QStringLiteral("postgres"), m_dir});
        if (runAsPostgres(QStringLiteral("/usr/lib/postgresql/15/bin/initdb -D %1/data -A trust -U postgres --no-sync")
                              .arg(m_dir)) != 0)
            return false;
        m_port = freeLoopbackPort();
        m_initialised = true;
    }
    return pgctl(QStringLiteral("-o \"-p %1 -k %2 -c listen_addresses=127.0.0.1 -c fsync=off\" start").arg(m_port).arg(m_dir));
}

bool PostgresProcess::stop()
{
    if (!m_initialised || !QFile::exists(m_dir + QStringLiteral("/data/postmaster.pid")))
        return true;
    return pgctl(QStringLiteral("-m fast stop"));
}

QString PostgresProcess::url() const
{
    return QStringLiteral("postgres://postgres@127.0.0.1:%1/postgres").arg(m_port);
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
    if (!m_password.isEmpty())
        args << QStringLiteral("--requirepass") << m_password;
    m_process->start(QStringLiteral("redis-server"), args);
    if (!m_process->waitForStarted(5000))
        return false;
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(m_port));
        if (s.waitForConnected(200)) {
            // Unauthenticated PING gets -NOAUTH when a password is set: that still means "up".
            s.write("PING\r\n");
            if (s.waitForReadyRead(500)) {
                const QByteArray reply = s.readAll();
                if (reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"))
                    return true;
            }
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
    if (!m_password.isEmpty())
        return QStringLiteral("redis://:%1@127.0.0.1:%2/0").arg(m_password).arg(m_port);
    return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port);
}

} // namespace ehrs::test
