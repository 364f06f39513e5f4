// SPDX-License-Identifier: Apache-2.0
#include "HaCluster.h"

#include "TestEnvironment.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QThread>
#include <QUuid>
#include <csignal>
#include <unistd.h>

namespace ehrs::test {
namespace {
const QString kBin = QStringLiteral("/usr/lib/postgresql/15/bin/");

int runAsPostgres(const QString& command, QByteArray* output = nullptr)
{
    QProcess p;
    p.setProcessChannelMode(output ? QProcess::SeparateChannels : QProcess::MergedChannels);
    p.start(QStringLiteral("su"), {QStringLiteral("postgres"), QStringLiteral("-s"),
                                   QStringLiteral("/bin/sh"), QStringLiteral("-c"), command});
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished(5000);
        return -1;
    }
    if (output)
        *output = p.readAllStandardOutput();
    if (p.exitCode() != 0)
        qWarning("%s: %s", qPrintable(command), p.readAll().constData());
    return p.exitCode();
}
} // namespace

bool canRunPostgresCluster(QString* why)
{
    if (::geteuid() != 0) {
        *why = QStringLiteral("needs root to run private PostgreSQL servers as the postgres user (the test "
                              "command runs as root)");
        return false;
    }
    for (const char* tool : {"initdb", "pg_ctl", "pg_basebackup", "psql"}) {
        if (!QFile::exists(kBin + QString::fromLatin1(tool))) {
            *why =
                QStringLiteral("%1%2 is not installed (postgresql-15)").arg(kBin, QString::fromLatin1(tool));
            return false;
        }
    }
    return true;
}

PgNode::PgNode()
    : m_dir(QDir::tempPath() + QStringLiteral("/ehrs-ha-pg-") +
            QUuid::createUuid().toString(QUuid::Id128).left(12))
{
}

PgNode::~PgNode()
{
    if (isRunning())
        stopImmediately();
    // Whatever pg_ctl did: the postmaster, by the pid it wrote, never by name.
    QFile f(m_dir + QStringLiteral("/data/postmaster.pid"));
    if (f.open(QIODevice::ReadOnly)) {
        const qint64 pid = f.readLine().trimmed().toLongLong();
        if (pid > 0)
            ::kill(pid_t(pid), SIGKILL);
    }
    QDir(m_dir).removeRecursively();
}

bool PgNode::pgctl(const QString& action) const
{
    return runAsPostgres(
               QStringLiteral("%1pg_ctl -D %2/data -l %2/log -w -t 60 %3").arg(kBin, m_dir, action)) == 0;
}

bool PgNode::initPrimary(const QStringList& settings)
{
    QDir().mkpath(m_dir);
    QProcess::execute(QStringLiteral("chown"), {QStringLiteral("postgres"), m_dir});
    if (runAsPostgres(
            QStringLiteral("%1initdb -D %2/data -A trust -U postgres --no-sync").arg(kBin, m_dir)) != 0)
        return false;
    m_port = freeLoopbackPort();
    QFile conf(m_dir + QStringLiteral("/data/postgresql.conf"));
    if (!conf.open(QIODevice::Append))
        return false;
    QStringList lines{QStringLiteral("port = %1").arg(m_port),
                      QStringLiteral("listen_addresses = '127.0.0.1'"),
                      QStringLiteral("unix_socket_directories = '%1'").arg(m_dir),
                      QStringLiteral("wal_level = replica"),
                      QStringLiteral("max_wal_senders = 5"),
                      QStringLiteral("hot_standby = on"),
                      QStringLiteral("fsync = off")};
    lines << settings;
    conf.write((u'\n' + lines.join(u'\n') + u'\n').toUtf8());
    return true;
}

bool PgNode::initStandbyOf(const PgNode& primary)
{
    QDir().mkpath(m_dir);
    QProcess::execute(QStringLiteral("chown"), {QStringLiteral("postgres"), m_dir});
    if (runAsPostgres(
            QStringLiteral("%1pg_basebackup -h 127.0.0.1 -p %2 -U postgres -D %3/data -R -X stream -c fast")
                .arg(kBin)
                .arg(primary.port())
                .arg(m_dir)) != 0)
        return false;
    m_port = freeLoopbackPort();
    QFile conf(m_dir + QStringLiteral("/data/postgresql.conf"));
    if (!conf.open(QIODevice::Append))
        return false;
    // The copied configuration is the primary's: this one's own port and socket directory win.
    // synchronous_standby_names is cleared: once promoted, this server has no standby of its own,
    // and with the primary's '*' every commit would wait for one forever.
    conf.write(QStringLiteral("\nport = %1\nunix_socket_directories = '%2'\nsynchronous_standby_names = ''\n")
                   .arg(m_port)
                   .arg(m_dir)
                   .toUtf8());
    return true;
}

bool PgNode::start()
{
    return pgctl(QStringLiteral("start"));
}

bool PgNode::stopImmediately()
{
    return pgctl(QStringLiteral("-m immediate stop"));
}

bool PgNode::promote()
{
    return pgctl(QStringLiteral("promote"));
}

bool PgNode::isRunning() const
{
    QFile f(m_dir + QStringLiteral("/data/postmaster.pid"));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const qint64 pid = f.readLine().trimmed().toLongLong();
    return pid > 0 && ::kill(pid_t(pid), 0) == 0;
}

QString PgNode::query(const QString& sql) const
{
    QByteArray out;
    QString quoted = sql;
    quoted.replace(u'"', QStringLiteral("\\\""));
    if (runAsPostgres(QStringLiteral("%1psql -h 127.0.0.1 -p %2 -U postgres -d postgres -At -c \"%3\"")
                          .arg(kBin)
                          .arg(m_port)
                          .arg(quoted),
                      &out) != 0)
        return {};
    return QString::fromUtf8(out).trimmed();
}

RedisNode::RedisNode()
    : m_dir(QDir::tempPath() + QStringLiteral("/ehrs-ha-redis-") +
            QUuid::createUuid().toString(QUuid::Id128).left(12))
{
}

RedisNode::~RedisNode()
{
    kill9();
    QDir(m_dir).removeRecursively();
}

bool RedisNode::start(const QStringList& config, bool sentinel)
{
    QDir().mkpath(m_dir);
    m_port = freeLoopbackPort();
    QFile conf(m_dir + QStringLiteral("/redis.conf"));
    if (!conf.open(QIODevice::WriteOnly))
        return false;
    QStringList lines{QStringLiteral("port %1").arg(m_port), QStringLiteral("bind 127.0.0.1"),
                      QStringLiteral("dir %1").arg(m_dir),   QStringLiteral("save \"\""),
                      QStringLiteral("daemonize no"),        QStringLiteral("logfile %1/log").arg(m_dir)};
    lines << config;
    conf.write((lines.join(u'\n') + u'\n').toUtf8());
    conf.close();
    QStringList args{conf.fileName()};
    if (sentinel)
        args << QStringLiteral("--sentinel");
    if (!QProcess::startDetached(QStringLiteral("redis-server"), args, m_dir, &m_pid))
        return false;
    for (int i = 0; i < 100; ++i) {
        if (command({QStringLiteral("PING")}) == u"PONG")
            return true;
        QThread::msleep(50);
    }
    return false;
}

void RedisNode::kill9()
{
    if (m_pid > 0) {
        ::kill(pid_t(m_pid), SIGKILL);
        // Reap it if it is our child (startDetached double-forks: then it is not, and init does).
        m_pid = 0;
    }
}

bool RedisNode::isRunning() const
{
    return m_pid > 0 && ::kill(pid_t(m_pid), 0) == 0;
}

QString RedisNode::logTail(int lines) const
{
    QFile f(m_dir + QStringLiteral("/log"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QStringList all = QString::fromUtf8(f.readAll()).split(u'\n');
    return all.mid(qMax(0, int(all.size()) - lines)).join(u'\n');
}

QString RedisNode::command(const QStringList& args) const
{
    QProcess p;
    p.start(QStringLiteral("redis-cli"), QStringList{QStringLiteral("-h"), QStringLiteral("127.0.0.1"),
                                                     QStringLiteral("-p"), QString::number(m_port)} +
                                             args);
    if (!p.waitForFinished(5000)) {
        p.kill();
        p.waitForFinished(1000);
        return {};
    }
    return QString::fromUtf8(p.readAllStandardOutput()).simplified();
}

} // namespace ehrs::test
