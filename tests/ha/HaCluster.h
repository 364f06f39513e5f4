// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>
#include <QStringList>

namespace ehrs::test {

/// True when this test can start its own PostgreSQL 15 servers: run as root (they run as the
/// postgres user), with initdb, pg_basebackup and psql installed. `why` says what is missing.
bool canRunPostgresCluster(QString* why);

/// One PostgreSQL 15 server of a replicated pair, in a private directory on a free loopback port,
/// run as the postgres user. Stopped (immediately) and deleted when destroyed, whatever happened.
class PgNode
{
public:
    PgNode();
    ~PgNode();
    PgNode(const PgNode&) = delete;
    PgNode& operator=(const PgNode&) = delete;

    /// initdb (trust authentication, replication allowed from loopback) with `settings` appended
    /// to postgresql.conf (e.g. "synchronous_standby_names = '*'").
    bool initPrimary(const QStringList& settings);
    /// pg_basebackup -R from `primary`: a streaming standby of it once started.
    bool initStandbyOf(const PgNode& primary);
    bool start();
    /// pg_ctl stop -m immediate: the postmaster and its backends end at once, as in a crash.
    bool stopImmediately();
    bool promote();
    bool isRunning() const;
    /// One psql -At call as the postgres user; the trimmed output, or a null string on failure.
    QString query(const QString& sql) const;

    int port() const { return m_port; }
    QString hostPort() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }

private:
    bool pgctl(const QString& action) const;
    QString m_dir;
    int m_port = 0;
};

/// A redis-server (data node or, with `sentinel`, a Sentinel) started from a configuration file
/// in a private directory on a free loopback port; killed (SIGKILL, by its process id) when
/// destroyed.
class RedisNode
{
public:
    RedisNode();
    ~RedisNode();
    RedisNode(const RedisNode&) = delete;
    RedisNode& operator=(const RedisNode&) = delete;

    /// `config`: lines added to "port N", "bind 127.0.0.1" and "dir ..."; waits until it answers.
    bool start(const QStringList& config, bool sentinel = false);
    void kill9();
    bool isRunning() const;
    int port() const { return m_port; }
    /// One command through redis-cli; its trimmed output (lines joined by spaces).
    QString command(const QStringList& args) const;
    /// The last lines of its log file (for a failure message).
    QString logTail(int lines = 15) const;

private:
    QString m_dir;
    int m_port = 0;
    qint64 m_pid = 0;
};

} // namespace ehrs::test
