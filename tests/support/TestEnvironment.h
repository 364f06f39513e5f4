// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QList>
#include <QProcess>
#include <QString>

#include <memory>

namespace ehrs::test {

/// The PostgreSQL server the test command started (EHRS_TEST_DATABASE_URL, an admin URL), or an
/// empty string when there is none. In CI (EHRS_REQUIRE_SERVICES=1) a missing one fails the test.
QString postgresAdminUrl();
/// Creates a fresh, empty database on that server and returns its postgres:// URL.
QString createPostgresDatabase();
/// The shared Redis the test command started (EHRS_TEST_REDIS_URL), or empty.
QString sharedRedisUrl();
/// True when tests must not skip for lack of PostgreSQL/Redis.
bool servicesRequired();

/// A private redis-server child process on a free loopback port, for tests that stop and restart
/// Redis in the middle. Persistence is off unless `appendOnly` is set.
class RedisProcess
{
public:
    RedisProcess();
    ~RedisProcess();
    bool start(bool appendOnly = false);
    /// Requires clients to authenticate (`requirepass`); url() then carries the password.
    void setPassword(const QString& password) { m_password = password; }
    void kill(); // SIGKILL
    void stop(); // SHUTDOWN NOSAVE-like: SIGTERM
    bool isRunning() const;
    QString url() const;
    int port() const { return m_port; }
    /// The server's process id (to freeze it with SIGSTOP), 0 when not running.
    qint64 pid() const;

private:
    std::unique_ptr<QProcess> m_process;
    QString m_dir;
    int m_port = 0;
    QString m_password;
};

/// A private PostgreSQL 15 cluster (initdb into a temp dir, run as the postgres user) for tests
/// that stop and restart the database. Needs root, as the test command runs.
class PostgresProcess
{
public:
    PostgresProcess();
    ~PostgresProcess();
    bool start(); // initdb on first use, then pg_ctl start
    bool stop();  // pg_ctl stop -m fast
    QString url() const;

    /// The postmaster's process id (from postmaster.pid); 0 when it is not running.
    qint64 postmasterPid() const;
    /// SIGSTOP to the postmaster first (so that it forks nothing new), then to every process
    /// under it (backends, checkpointer, WAL writer ...), repeated until no unstopped one is left:
    /// the database is frozen, as a hung host would be, with every socket still open. Processes
    /// are found by parent PID in /proc, never by name. False when there is no postmaster.
    bool freeze();
    /// True once every process freeze() signalled is stopped (state T in /proc).
    bool isFrozen() const;
    /// SIGCONT to everything freeze() stopped. Safe to call when not frozen.
    void thaw();

private:
    bool pgctl(const QString& action);
    QString m_dir;
    int m_port = 0;
    bool m_initialised = false;
    QList<qint64> m_frozen;
};

/// The process ids of every descendant of `pid` (children, their children ...), from the parent
/// PID in /proc/<n>/stat.
QList<qint64> descendantProcesses(qint64 pid);

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
int freeLoopbackPort();

} // namespace ehrs::test
