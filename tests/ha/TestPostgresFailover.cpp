// SPDX-License-Identifier: Apache-2.0
// Issue 15.1/15.3: PostgreSQL failover under load. A primary and a synchronous streaming standby
// (pg_basebackup -R, synchronous_standby_names = '*'), two server instances with one multi-host
// DATABASE_URL (target_session_attrs=read-write) and a shared Redis, and a mixed load of sign-ins,
// refreshes, revocations and validations on both. The primary is stopped with
// `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint, every connection cut), and two
// seconds later (what a failover manager takes to decide) the standby is promoted. Asserted:
//  - every request that failed got 503 with Retry-After: no 500, no other 5xx, none unanswered;
//  - no revoked access token was accepted, by either instance, at any moment;
//  - no acknowledged sign-in or rotation was lost: afterwards every session refreshes with the
//    latest pair it was given, and every acknowledged revocation still holds;
//  - no client doing its normal refresh was signed out (a rotation whose answer was lost in the
//    switch is retried within the refresh grace and gets the same pair);
//  - both instances serve database-bound requests again within 10 s of the promotion, without a
//    restart; /readyz answers 503 (database "down") during the switch and 200 afterwards.
// Recovery time and error counts are printed (docs/benchmarks.md, "High availability").
#include "HaCluster.h"
#include "HaLoad.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QScopeGuard>
#include <QStandardPaths>
#include <QTest>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "failover test password";
const QByteArray kEmail = "failover@example.org";
constexpr int kRefreshers = 6;
constexpr int kSignIns = 2;
constexpr int kValidators = 2;
constexpr int kDecisionMs = 2000;                // between the crash and the promotion
constexpr qint64 kRecoveryTargetUs = 10'000'000; // after the promotion
constexpr int kSteadyAfterMs = 3000;             // load kept up after the recovery
} // namespace

class TestPostgresFailover : public QObject
{
    Q_OBJECT

    PgNode m_primary;
    PgNode m_standby;
    RedisProcess m_redis;
    std::vector<std::unique_ptr<ServerProcess>> m_servers;

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        if (!canRunPostgresCluster(&why))
            QSKIP(qPrintable(why));
        if (QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty())
            QSKIP("redis-server is not installed");
        QVERIFY(m_primary.initPrimary(
            {QStringLiteral("synchronous_standby_names = '*'"), QStringLiteral("synchronous_commit = on")}));
        QVERIFY(m_primary.start());
        QVERIFY(m_standby.initStandbyOf(m_primary));
        QVERIFY(m_standby.start());
        QVERIFY2(QTest::qWaitFor(
                     [this] {
                         return m_primary.query(
                                    QStringLiteral("SELECT sync_state FROM pg_stat_replication")) == u"sync";
                     },
                     30000),
                 "the standby did not become synchronous");
        QVERIFY(m_redis.start());
        const QString url =
            QStringLiteral("postgres://postgres@%1,%2/postgres?target_session_attrs=read-write")
                .arg(m_primary.hostPort(), m_standby.hostPort());
        for (int i = 0; i < 2; ++i) {
            auto server = haServer(url, m_redis.url());
            QVERIFY(server->start());
            if (i == 0)
                QVERIFY(server->addUser(QString::fromLatin1(kEmail), QString::fromLatin1(kPassword)));
            m_servers.push_back(std::move(server));
        }
        qInfo("primary %s, synchronous standby %s", qPrintable(m_primary.hostPort()),
              qPrintable(m_standby.hostPort()));
    }

    void cleanupTestCase() { m_servers.clear(); }

    void promotedStandbyTakesOverUnderLoad()
    {
        HaLoad load({m_servers[0]->url(), m_servers[1]->url()}, kEmail, kPassword);
        QVERIFY(load.prepare(kRefreshers));
        // /readyz of the first instance, polled beside the load.
        struct Ready
        {
            qint64 sentUs;
            int status;
            std::string database;
        };
        QList<Ready> readiness;
        const QUrl readyBase = m_servers[0]->url();
        LoadClient ready(
            readyBase, [readyBase] { return LoadClient::request(readyBase, "GET", "/readyz"); }, 200);
        ready.onAnswer([&readiness](const LoadSample& s, const ApiResponse& r) {
            readiness.append({s.sentUs, s.status, r.str("database")});
        });

        const qint64 startUs = monotonicUs();
        load.start(kSignIns, kValidators);
        ready.start();
        auto stopAll = qScopeGuard([&] {
            load.stop();
            ready.stop();
        });
        runEventLoopFor(4000); // steady load, sessions to revoke

        const qint64 crashUs = monotonicUs();
        QVERIFY(m_primary.stopImmediately());
        runEventLoopFor(kDecisionMs);
        const qint64 promoteUs = monotonicUs();
        QVERIFY(m_standby.promote());
        const qint64 promotedUs = monotonicUs();

        // Recovered: both instances had a database-bound success after the promotion, and no
        // database-bound request has failed for kSteadyAfterMs.
        const bool recovered = runEventLoopUntil(
            [&] {
                const qint64 now = monotonicUs();
                return load.firstSuccessAfterUs(promotedUs) > 0 &&
                       now - qMax(load.lastDatabaseFailureEndUs(crashUs), promotedUs) > kSteadyAfterMs * 1000;
            },
            40000);
        const qint64 lastFailureUs = load.lastDatabaseFailureEndUs(crashUs);
        const qint64 firstOkUs = load.firstSuccessAfterUs(promotedUs);
        const qint64 endUs = monotonicUs();
        load.stop();
        ready.stop();
        QVERIFY2(runEventLoopUntil([&] { return !load.busy() && !ready.busy(); }, 20000),
                 "a request outlived its own timeout");

        const qint64 backUs = qMax(lastFailureUs, firstOkUs);
        qInfo("before the crash:  %s", qPrintable(load.statusSummary(startUs, crashUs)));
        qInfo("crash..promotion:  %s", qPrintable(load.statusSummary(crashUs, promoteUs)));
        qInfo("after promotion:   %s", qPrintable(load.statusSummary(promoteUs, endUs + 1)));
        qInfo("promotion (pg_ctl promote -w) took %lld ms", (promotedUs - promoteUs) / 1000);
        qInfo(
            "service back %lld ms after the promotion (%lld ms after the crash; last database-bound failure "
            "ended %lld ms after the promotion)",
            (backUs - promoteUs) / 1000, (backUs - crashUs) / 1000,
            lastFailureUs > 0 ? (lastFailureUs - promoteUs) / 1000 : 0);

        HaVerdict v = load.verdict();
        load.checkNothingLost(v);
        qInfo("requests %d: 503+Retry-After %d, 503 without Retry-After %d, other 5xx %d, unanswered %d, "
              "forced sign-outs %d, revoked tokens accepted %d of %d checks, access tokens replaced by a "
              "rotation in "
              "flight %d, unexpected %d",
              v.requests, v.unavailable, v.unavailableNoRetryAfter, v.serverErrors, v.noAnswer,
              v.forcedSignOuts, v.revokedAccepted, v.revokedChecks, v.staleAccess, v.unexpected);
        int readyDown = 0;
        int readyUpAfter = 0;
        for (const Ready& r : readiness) {
            if (r.sentUs >= crashUs && r.sentUs < promoteUs && r.status == 503)
                ++readyDown;
            if (r.sentUs >= backUs && r.status == 200 && r.database == "up")
                ++readyUpAfter;
        }
        qInfo(
            "/readyz: %d answers 503 between the crash and the promotion, %d answers 200 after the recovery",
            readyDown, readyUpAfter);
        const QString notes = v.notes.mid(0, 20).join(u'\n');

        QVERIFY2(recovered, "the service did not come back within 40 s of the promotion");
        QVERIFY2(backUs - promoteUs <= kRecoveryTargetUs,
                 qPrintable(QStringLiteral("back %1 ms after the promotion (target 10 s)")
                                .arg((backUs - promoteUs) / 1000)));
        QVERIFY2(v.unavailable > 0, "no request failed: the failover happened under no load?");
        QVERIFY2(v.serverErrors == 0 && v.noAnswer == 0 && v.unavailableNoRetryAfter == 0, qPrintable(notes));
        QVERIFY2(v.revokedChecks > 0, "no revoked token was checked");
        QVERIFY2(v.revokedAccepted == 0, qPrintable(notes));
        QVERIFY2(v.forcedSignOuts == 0, qPrintable(notes));
        QVERIFY2(v.unexpected == 0, qPrintable(notes));
        QVERIFY2(readyDown > 0, "/readyz never said 503 while there was no primary");
        QVERIFY2(readyUpAfter > 0, "/readyz did not come back to 200");
        QCOMPARE(m_standby.query(QStringLiteral("SELECT pg_is_in_recovery()")), QStringLiteral("f"));
        for (auto& s : m_servers)
            QVERIFY2(s->isRunning(), "a server instance exited");
    }

    // A primary that turns read-only under open connections (an old primary fenced, or back as a
    // standby): writes fail with SQLSTATE 25006. The request gets 503 + Retry-After, never a 500;
    // the connection is dropped so that the next one looks for a writable host; /readyz says so;
    // and once a writable primary is back the service is back by itself.
    void readOnlyPrimaryIsLeftForAWritableOne()
    {
        if (m_primary.isRunning())
            QSKIP("runs after the failover");
        HaLoad load({m_servers[0]->url(), m_servers[1]->url()}, kEmail, kPassword);
        QVERIFY(load.prepare(4));
        const QUrl readyBase = m_servers[0]->url();
        QList<std::pair<int, std::string>> readiness;
        LoadClient ready(
            readyBase, [readyBase] { return LoadClient::request(readyBase, "GET", "/readyz"); }, 100);
        ready.onAnswer([&readiness](const LoadSample& s, const ApiResponse& r) {
            readiness.append({s.status, r.str("database")});
        });
        load.start(1, 1);
        ready.start();
        auto stopAll = qScopeGuard([&] {
            load.stop();
            ready.stop();
        });
        auto setReadOnly = [this](bool on) {
            // ALTER SYSTEM runs outside a transaction: one statement per psql call.
            return !m_standby
                        .query(QStringLiteral("ALTER SYSTEM SET default_transaction_read_only = %1")
                                   .arg(on ? u"on" : u"off"))
                        .isNull() &&
                   m_standby.query(QStringLiteral("SELECT pg_reload_conf()")) == u"t";
        };
        auto restore = qScopeGuard([&] { setReadOnly(false); });
        runEventLoopFor(1500);
        const qint64 fencedUs = monotonicUs();
        QVERIFY(setReadOnly(true));
        runEventLoopFor(3000);
        const qint64 unfencedUs = monotonicUs();
        QVERIFY(setReadOnly(false));
        restore.dismiss();
        const bool recovered = runEventLoopUntil(
            [&] {
                return load.firstSuccessAfterUs(unfencedUs) > 0 &&
                       monotonicUs() - qMax(load.lastDatabaseFailureEndUs(fencedUs), unfencedUs) > 2'000'000;
            },
            20000);
        load.stop();
        ready.stop();
        QVERIFY(runEventLoopUntil([&] { return !load.busy() && !ready.busy(); }, 20000));
        qInfo("read-only for 3 s: %s", qPrintable(load.statusSummary(fencedUs, unfencedUs)));
        qInfo("after:             %s", qPrintable(load.statusSummary(unfencedUs, monotonicUs())));
        HaVerdict v = load.verdict();
        load.checkNothingLost(v);
        const QString notes = v.notes.mid(0, 20).join(u'\n');
        int notReady = 0;
        for (const auto& [status, database] : readiness)
            notReady += status == 503 && (database == "read-only" || database == "down") ? 1 : 0;
        qInfo("/readyz: %d answers 503 (read-only or down)", notReady);
        QVERIFY2(v.unavailable > 0, "no write was refused while the primary was read-only");
        QVERIFY2(v.serverErrors == 0 && v.noAnswer == 0 && v.unavailableNoRetryAfter == 0, qPrintable(notes));
        QVERIFY2(v.forcedSignOuts == 0 && v.revokedAccepted == 0 && v.unexpected == 0, qPrintable(notes));
        QVERIFY2(notReady > 0, "/readyz did not report the read-only primary");
        QVERIFY2(recovered, "the service did not come back once the primary was writable again");
    }
};

QTEST_GUILESS_MAIN(TestPostgresFailover)
#include "TestPostgresFailover.moc"
