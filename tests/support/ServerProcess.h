// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "TestEnvironment.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>

#include <memory>

namespace ehrs::test {

/// A real `ehr-sessions-server` process for end-to-end tests. By default it runs on the embedded
/// SQLite default in a private data dir, listens on an ephemeral port and has no Redis.
class ServerProcess
{
public:
    ServerProcess();
    ~ServerProcess();

    /// Extra environment (DATABASE_URL, REDIS_URL, ACCESS_TOKEN_TTL ...) for start() and run().
    void setEnv(const QString& name, const QString& value);
    QString dataDir() const { return m_dataDir.path(); }

    /// Points the process at the backend the integration test runs on (EHRS_TEST_BACKEND):
    /// `postgres` gives it a fresh PostgreSQL database, the shared Redis and a JWT_SECRET; otherwise
    /// it keeps the embedded SQLite default. False when the PostgreSQL database cannot be created.
    bool useBackendUnderTest();
    /// The database the process uses: its DATABASE_URL, or the embedded default in its data dir.
    QString databaseUrl() const;
    /// True when the integration test runs on PostgreSQL + Redis (EHRS_TEST_BACKEND=postgres).
    static bool onPostgres();

    /// Starts `serve --port 0` and waits until it listens; false (with a QWARN) on failure.
    bool start(const QStringList& extraArgs = {});
    /// SIGTERM and wait; the port is free afterwards.
    void stop();
    /// SIGKILL, as a crash would.
    void kill();
    bool isRunning() const;
    QUrl url() const { return m_url; }
    qint64 pid() const;

    /// Runs a one-shot sub-command (`user add ...`) against the same data dir and environment;
    /// `stdinData` is written to its standard input. Returns the exit code, or -1 on a crash.
    int run(const QStringList& args, const QByteArray& stdinData = {}, QByteArray* output = nullptr);
    /// `user add EMAIL --name NAME` with the password on stdin; true on success.
    bool addUser(const QString& email, const QString& password, const QString& name = QStringLiteral("Test User"),
                 const QStringList& extraArgs = {});

    /// Everything the server printed so far (stderr and stdout).
    QByteArray log() const;

private:
    QTemporaryDir m_dataDir;
    QProcessEnvironment m_env;
    std::unique_ptr<QProcess> m_process;
    QUrl m_url;
    mutable QByteArray m_log;
};

} // namespace ehrs::test

/// In a test's initTestCase(): on the PostgreSQL run without the test command's PostgreSQL, fail
/// where services are required (CI) and skip elsewhere, so the run shows as skipped, not passed.
#define EHRS_REQUIRE_BACKEND_UNDER_TEST()                                                            \
    do {                                                                                           \
        if (ehrs::test::ServerProcess::onPostgres() && ehrs::test::postgresAdminUrl().isEmpty()) { \
            if (ehrs::test::servicesRequired())                                                    \
                QFAIL("EHRS_TEST_DATABASE_URL missing; run through scripts/test.sh");              \
            QSKIP("no test PostgreSQL");                                                           \
        }                                                                                          \
    } while (false)

