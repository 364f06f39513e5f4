// SPDX-License-Identifier: Apache-2.0
#include "HaCluster.h"

#include "TestEnvironment.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
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

} // namespace ehrs::test
