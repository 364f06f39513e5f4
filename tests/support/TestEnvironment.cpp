// SPDX-License-Identifier: Apache-2.0
#include "TestEnvironment.h"

#include <QDir>
#include <QFile>
#include <QMultiHash>
#include <QTcpServer>
#include <QTcpSocket>
#include <QDeadlineTimer>
#include <QThread>
#include <QUrl>
#include <QUuid>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlError>
#include <QtSql/QSqlQuery>

#include <csignal>
#include <sys/types.h>

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
    thaw(); // a test that failed while the database was frozen must not leave it stopped
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

qint64 PostgresProcess::postmasterPid() const
{
    QFile f(m_dir + QStringLiteral("/data/postmaster.pid"));
    if (!m_initialised || !f.open(QIODevice::ReadOnly))
        return 0;
    const qint64 pid = f.readLine().trimmed().toLongLong();
    return pid > 0 && ::kill(pid_t(pid), 0) == 0 ? pid : 0;
}

bool PostgresProcess::freeze()
{
    const qint64 postmaster = postmasterPid();
    if (postmaster == 0)
        return false;
    if (::kill(pid_t(postmaster), SIGSTOP) != 0)
        return false;
    m_frozen = {postmaster};
    // A backend forked just before the postmaster stopped shows up on a later pass.
    for (bool more = true; more;) {
        more = false;
        for (qint64 pid : descendantProcesses(postmaster)) {
            if (m_frozen.contains(pid))
                continue;
            if (::kill(pid_t(pid), SIGSTOP) == 0) {
                m_frozen << pid;
                more = true;
            }
        }
    }
    return true;
}

bool PostgresProcess::isFrozen() const
{
    if (m_frozen.isEmpty())
        return false;
    for (qint64 pid : m_frozen) {
        QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!f.open(QIODevice::ReadOnly))
            continue; // gone: nothing left to answer either
        const QByteArray stat = f.readAll();
        const qsizetype afterName = stat.lastIndexOf(')');
        if (afterName < 0 || stat.mid(afterName + 2, 1) != "T")
            return false;
    }
    return true;
}

void PostgresProcess::thaw()
{
    // Children first: the postmaster, once running, would otherwise see stopped children.
    for (auto it = m_frozen.crbegin(); it != m_frozen.crend(); ++it)
        ::kill(pid_t(*it), SIGCONT);
    m_frozen.clear();
}

QList<qint64> descendantProcesses(qint64 pid)
{
    QMultiHash<qint64, qint64> childrenOf;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& entry : entries) {
        bool isPid = false;
        const qint64 child = entry.toLongLong(&isPid);
        if (!isPid)
            continue;
        QFile f(QStringLiteral("/proc/%1/stat").arg(child));
        if (!f.open(QIODevice::ReadOnly))
            continue;
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
        const QByteArray stat = f.readAll();
        const qsizetype afterName = stat.lastIndexOf(')');
        if (afterName < 0)
            continue;
        const QList<QByteArray> fields = stat.mid(afterName + 2).split(' ');
        if (fields.size() > 1)
            childrenOf.insert(fields[1].toLongLong(), child);
    }
    QList<qint64> out;
    QList<qint64> todo{pid};
    while (!todo.isEmpty()) {
        const qint64 parent = todo.takeFirst();
        for (qint64 child : childrenOf.values(parent)) {
            out << child;
            todo << child;
        }
    }
    return out;
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

qint64 RedisProcess::pid() const
{
    return isRunning() ? m_process->processId() : 0;
}

QString RedisProcess::url() const
{
    if (!m_password.isEmpty())
        return QStringLiteral("redis://:%1@127.0.0.1:%2/0").arg(m_password).arg(m_port);
    return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port);
}

} // namespace ehrs::test
