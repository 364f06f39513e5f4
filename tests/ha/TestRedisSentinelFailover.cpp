// SPDX-License-Identifier: Apache-2.0
// Issue 15.2/15.3: Redis Sentinel failover under load. A Redis primary, a replica and three
// Sentinels (down-after-milliseconds 1000, failover-timeout 5000), one PostgreSQL, two server
// instances with REDIS_URL=redis-sentinel://s1,s2,s3/mymaster/0 and the mixed load of
// TestPostgresFailover. The primary is killed with SIGKILL; Sentinel promotes the replica.
// Asserted: every failed request got 503 with Retry-After; no revoked token was accepted at any
// moment (while the revocation feed is down the instances check each token, fail closed); no
// acknowledged session was lost and no refreshing client was signed out; both instances are back
// on Redis (cache "redis", revocation feed "up" in /readyz, which means they found the new primary
// through the Sentinels and subscribed again) within 5 s of Sentinel's own failover.
#include "ApiClient.h"
#include "HaCluster.h"
#include "HaLoad.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QScopeGuard>
#include <QStandardPaths>
#include <QTest>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "sentinel test password";
const QByteArray kEmail = "sentinel@example.org";
constexpr qint64 kRecoveryTargetUs = 5'000'000; // after Sentinel's failover
// A forced failover leaves the old primary up and writable until Sentinel converts it (about 8 s
// later); only +switch-master or a READONLY answer can move the instances before that.
constexpr qint64 kSwitchTargetUs = 2'000'000;

int countOf(const QString& text, const QString& what)
{
    return int(text.count(what));
}
} // namespace

class TestRedisSentinelFailover : public QObject
{
    Q_OBJECT

    PgNode m_pg;
    RedisNode m_primary;
    RedisNode m_replica;
    RedisNode m_sentinels[3];
    std::vector<std::unique_ptr<ServerProcess>> m_servers;

    RedisNode& nodeOnPort(const QString& port)
    {
        return m_replica.port() == port.toInt() ? m_replica : m_primary;
    }
    RedisNode& otherNode(const RedisNode& node) { return &node == &m_primary ? m_replica : m_primary; }

    QString masterPort() const
    {
        for (const RedisNode& s : m_sentinels) {
            const QString answer =
                s.command({QStringLiteral("SENTINEL"), QStringLiteral("get-master-addr-by-name"),
                           QStringLiteral("mymaster")});
            if (!answer.isEmpty())
                return answer.section(u' ', 1, 1);
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        if (!canRunPostgresCluster(&why))
            QSKIP(qPrintable(why));
        if (QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("redis-cli")).isEmpty())
            QSKIP("redis-server and redis-cli are not installed");
        QVERIFY(m_pg.initPrimary({}));
        QVERIFY(m_pg.start());
        QVERIFY(m_primary.start({}));
        QVERIFY(m_replica.start({QStringLiteral("replicaof 127.0.0.1 %1").arg(m_primary.port())}));
        QStringList sentinelHosts;
        for (RedisNode& s : m_sentinels) {
            QVERIFY(s.start({QStringLiteral("sentinel monitor mymaster 127.0.0.1 %1 2").arg(m_primary.port()),
                             QStringLiteral("sentinel down-after-milliseconds mymaster 1000"),
                             QStringLiteral("sentinel failover-timeout mymaster 5000"),
                             QStringLiteral("sentinel parallel-syncs mymaster 1")},
                            true));
            sentinelHosts << QStringLiteral("127.0.0.1:%1").arg(s.port());
        }
        // The Sentinels know the replica and each other (hello messages every 2 s).
        QVERIFY2(QTest::qWaitFor(
                     [this] {
                         const QString r =
                             m_sentinels[0].command({QStringLiteral("SENTINEL"), QStringLiteral("replicas"),
                                                     QStringLiteral("mymaster")});
                         const QString s =
                             m_sentinels[0].command({QStringLiteral("SENTINEL"), QStringLiteral("sentinels"),
                                                     QStringLiteral("mymaster")});
                         return r.contains(QString::number(m_replica.port())) &&
                                s.count(QStringLiteral("runid")) >= 2 &&
                                m_replica.command({QStringLiteral("INFO"), QStringLiteral("replication")})
                                    .contains(QStringLiteral("master_link_status:up"));
                     },
                     30000),
                 "the Sentinels did not learn the replica and each other");
        const QString redisUrl =
            QStringLiteral("redis-sentinel://%1/mymaster/0").arg(sentinelHosts.join(u','));
        for (int i = 0; i < 2; ++i) {
            auto server =
                haServer(QStringLiteral("postgres://postgres@%1/postgres").arg(m_pg.hostPort()), redisUrl);
            QVERIFY(server->start());
            if (i == 0)
                QVERIFY(server->addUser(QString::fromLatin1(kEmail), QString::fromLatin1(kPassword)));
            m_servers.push_back(std::move(server));
        }
        // Both instances are on Redis through the Sentinels before the load starts.
        for (auto& s : m_servers) {
            QVERIFY2(QTest::qWaitFor(
                         [&s] {
                             auto r = ApiClient(s->url()).request("GET", "/readyz");
                             return r.str("cache") == "redis" && r.str("revocationFeed") == "up";
                         },
                         15000),
                     "an instance did not reach Redis through the Sentinels");
        }
    }

    void cleanupTestCase() { m_servers.clear(); }

    // SENTINEL FAILOVER while the old primary stays up: no connection breaks (Sentinel converts the
    // old primary to a replica only seconds later), so only the Sentinel subscription
    // (+switch-master) moves the instances. Asserted: within kSwitchTargetUs of the switch both
    // instances' revocation feeds are subscribed on the new primary, none of their connections is
    // left on the old one and the instances' writes land on the new one; under the mixed load no
    // revoked token is accepted and nothing fails but with 503 + Retry-After.
    void forcedFailoverOldPrimaryUp()
    {
        HaLoad load({m_servers[0]->url(), m_servers[1]->url()}, kEmail, kPassword);
        QVERIFY(load.prepare(6));
        const qint64 startUs = monotonicUs();
        load.start(2, 2);
        auto stopLoad = qScopeGuard([&] { load.stop(); });
        runEventLoopFor(3000);

        RedisNode& oldPrimary = nodeOnPort(masterPort());
        RedisNode& newPrimary = otherNode(oldPrimary);
        QCOMPARE(masterPort(), QString::number(oldPrimary.port()));
        auto keysOn = [](const RedisNode& n) {
            return n.command({QStringLiteral("KEYS"), QStringLiteral("blacklist:*")})
                .split(u' ', Qt::SkipEmptyParts)
                .size();
        };
        const qsizetype blacklistBefore = keysOn(newPrimary);
        const qint64 forcedUs = monotonicUs();
        QCOMPARE(m_sentinels[0].command(
                     {QStringLiteral("SENTINEL"), QStringLiteral("FAILOVER"), QStringLiteral("mymaster")}),
                 QStringLiteral("OK"));
        qint64 switchUs = 0;
        qint64 lastPoll = 0;
        QVERIFY2(runEventLoopUntil(
                     [&] {
                         if (monotonicUs() - lastPoll >= 50'000) {
                             lastPoll = monotonicUs();
                             if (masterPort() == QString::number(newPrimary.port()))
                                 switchUs = monotonicUs();
                         }
                         return switchUs > 0;
                     },
                     30000),
                 "Sentinel did not carry out SENTINEL FAILOVER within 30 s");
        // Moved: both feeds (and publishers) subscribed on the new primary, no connection of the
        // instances left on the old one, and a revocation written since the switch is on the new one.
        qint64 movedUs = 0;    // feeds and publishers subscribed/connected on the new primary, writes there
        qint64 oldEmptyUs = 0; // no connection of the instances left on the old primary
        qint64 oldDemotedUs = 0;
        QString oldClients;
        QString newClients;
        lastPoll = 0;
        const bool moved = runEventLoopUntil(
            [&] {
                if (monotonicUs() - lastPoll < 50'000)
                    return false;
                lastPoll = monotonicUs();
                oldClients = oldPrimary.command({QStringLiteral("CLIENT"), QStringLiteral("LIST")});
                newClients = newPrimary.command({QStringLiteral("CLIENT"), QStringLiteral("LIST")});
                if (oldDemotedUs == 0 &&
                    oldPrimary.command({QStringLiteral("ROLE")}).startsWith(QStringLiteral("slave")))
                    oldDemotedUs = monotonicUs();
                if (oldEmptyUs == 0 && countOf(oldClients, QStringLiteral("name=ehrs")) == 0)
                    oldEmptyUs = monotonicUs();
                if (movedUs == 0 && countOf(oldClients, QStringLiteral("name=ehrs-revocation-feed")) == 0 &&
                    countOf(oldClients, QStringLiteral("name=ehrs-event-publisher")) == 0 &&
                    countOf(newClients, QStringLiteral("name=ehrs-revocation-feed")) >= 2 &&
                    countOf(newClients, QStringLiteral("name=ehrs-event-publisher")) >= 2 &&
                    keysOn(newPrimary) > blacklistBefore)
                    movedUs = monotonicUs();
                return movedUs > 0 && oldEmptyUs > 0;
            },
            20000);
        // Sentinel's own conversion of the old primary (the moment a server that does not follow
        // +switch-master would have been cut off and moved), for the record.
        runEventLoopUntil(
            [&] {
                if (oldDemotedUs == 0 &&
                    oldPrimary.command({QStringLiteral("ROLE")}).startsWith(QStringLiteral("slave")))
                    oldDemotedUs = monotonicUs();
                return oldDemotedUs > 0;
            },
            20000);
        runEventLoopFor(1000);
        const qint64 endUs = monotonicUs();
        load.stop();
        QVERIFY(runEventLoopUntil([&] { return !load.busy(); }, 20000));
        qInfo("before SENTINEL FAILOVER: %s", qPrintable(load.statusSummary(startUs, forcedUs)));
        qInfo("after it:                 %s", qPrintable(load.statusSummary(forcedUs, endUs + 1)));
        qInfo("SENTINEL FAILOVER: Sentinel switched %lld ms after the command; both instances' feeds, "
              "publishers and writes on the new primary %lld ms after the switch (target %lld ms); no "
              "connection of theirs left on the old primary after %lld ms; Sentinel converted the old "
              "primary to a replica %lld ms after the switch",
              (switchUs - forcedUs) / 1000, movedUs > 0 ? (movedUs - switchUs) / 1000 : -1,
              kSwitchTargetUs / 1000, oldEmptyUs > 0 ? (oldEmptyUs - switchUs) / 1000 : -1,
              oldDemotedUs > 0 ? (oldDemotedUs - switchUs) / 1000 : -1);
        HaVerdict v = load.verdict();
        load.checkNothingLost(v);
        qInfo("requests %d: 503+Retry-After %d, 503 without Retry-After %d, other 5xx %d, unanswered %d, "
              "forced sign-outs %d, revoked tokens accepted %d of %d checks, access tokens replaced by a "
              "rotation in flight %d, unexpected %d",
              v.requests, v.unavailable, v.unavailableNoRetryAfter, v.serverErrors, v.noAnswer,
              v.forcedSignOuts, v.revokedAccepted, v.revokedChecks, v.staleAccess, v.unexpected);
        const QString notes = v.notes.mid(0, 20).join(u'\n');
        for (const QString& note : v.notes.mid(0, 10))
            qInfo("note: %s", qPrintable(note));
        auto showLogs = qScopeGuard([&] {
            for (auto& server : m_servers) {
                for (const QByteArray& line : server->log().split('\n'))
                    if (line.contains("Redis") || line.contains("Sentinel") ||
                        line.contains("revocation feed"))
                        qInfo("server %lld: %s", server->pid(), line.constData());
            }
        });
        QVERIFY2(moved || movedUs > 0,
                 qPrintable(QStringLiteral("the instances did not move to the new primary within 20 s; "
                                           "old primary's clients: %1")
                                .arg(oldClients)));
        QVERIFY2(movedUs - switchUs <= kSwitchTargetUs,
                 qPrintable(QStringLiteral("moved %1 ms after the switch (target %2 ms)")
                                .arg((movedUs - switchUs) / 1000)
                                .arg(kSwitchTargetUs / 1000)));
        QVERIFY2(v.serverErrors == 0 && v.noAnswer == 0 && v.unavailableNoRetryAfter == 0, qPrintable(notes));
        QVERIFY2(v.revokedChecks > 0, "no revoked token was checked");
        QVERIFY2(v.revokedAccepted == 0, qPrintable(notes));
        QVERIFY2(v.forcedSignOuts == 0, qPrintable(notes));
        QVERIFY2(v.unexpected == 0, qPrintable(notes));
        showLogs.dismiss();
        // The next test kills the primary: the old one must be its replica by then, and Sentinel
        // does not fail the same master over again within twice failover-timeout (10 s).
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         return oldPrimary.command({QStringLiteral("INFO"), QStringLiteral("replication")})
                                    .contains(QStringLiteral("master_link_status:up")) &&
                                monotonicUs() - switchUs > 11'000'000;
                     },
                     30000),
                 "the old primary did not become a replica of the new one");
    }

    void sentinelFailoverUnderLoad()
    {
        HaLoad load({m_servers[0]->url(), m_servers[1]->url()}, kEmail, kPassword);
        QVERIFY(load.prepare(6));
        struct Ready
        {
            int instance;
            qint64 endUs;
            bool onRedis;
        };
        QList<Ready> readiness;
        std::vector<std::unique_ptr<LoadClient>> probes;
        for (int i = 0; i < 2; ++i) {
            const QUrl base = m_servers[size_t(i)]->url();
            auto probe = std::make_unique<LoadClient>(
                base, [base] { return LoadClient::request(base, "GET", "/readyz"); }, 100);
            probe->onAnswer([&readiness, i](const LoadSample& s, const ApiResponse& r) {
                readiness.append({i, s.sentUs + s.latencyUs,
                                  r.str("cache") == "redis" && r.str("revocationFeed") == "up"});
            });
            probes.push_back(std::move(probe));
        }
        const qint64 startUs = monotonicUs();
        load.start(2, 2);
        for (auto& p : probes)
            p->start();
        auto stopAll = qScopeGuard([&] {
            load.stop();
            for (auto& p : probes)
                p->stop();
        });
        runEventLoopFor(4000);

        // After forcedFailoverOldPrimaryUp, the original replica is the primary: kill whichever is.
        RedisNode& victim = nodeOnPort(masterPort());
        RedisNode& heir = otherNode(victim);
        const QString oldPort = QString::number(victim.port());
        const qint64 killUs = monotonicUs();
        victim.kill9();
        QString lastAnswer;
        auto showLog = qScopeGuard([&] {
            qInfo("Sentinel's last answer \"%s\" (replica %d); its log:\n%s", qPrintable(lastAnswer),
                  heir.port(), qPrintable(m_sentinels[0].logTail()));
        });
        qint64 lastPoll = 0;
        qint64 failoverUs = 0;
        QVERIFY2(runEventLoopUntil(
                     [&] {
                         const qint64 now = monotonicUs();
                         if (failoverUs > 0 || now - lastPoll < 100'000)
                             return failoverUs > 0;
                         lastPoll = now;
                         lastAnswer = masterPort();
                         if (lastAnswer == QString::number(heir.port()))
                             failoverUs = monotonicUs();
                         return failoverUs > 0;
                     },
                     30000),
                 "Sentinel did not fail over within 30 s");
        showLog.dismiss();
        // Back: every instance's /readyz says it is on Redis with its feed up, after the failover.
        auto backUsOf = [&](int instance) -> qint64 {
            for (const Ready& r : readiness) {
                if (r.instance == instance && r.endUs >= failoverUs && r.onRedis)
                    return r.endUs;
            }
            return -1;
        };
        const bool recovered = runEventLoopUntil([&] { return backUsOf(0) > 0 && backUsOf(1) > 0; }, 30000);
        runEventLoopFor(2000);
        const qint64 endUs = monotonicUs();
        load.stop();
        for (auto& p : probes)
            p->stop();
        QVERIFY(runEventLoopUntil(
            [&] {
                bool busy = load.busy();
                for (auto& p : probes)
                    busy = busy || p->busy();
                return !busy;
            },
            20000));
        const qint64 backUs = qMax(backUsOf(0), backUsOf(1));
        qInfo("before the kill:      %s", qPrintable(load.statusSummary(startUs, killUs)));
        qInfo("kill..failover:       %s", qPrintable(load.statusSummary(killUs, failoverUs)));
        qInfo("after the failover:   %s", qPrintable(load.statusSummary(failoverUs, endUs + 1)));
        qInfo("Sentinel failed over %lld ms after the kill (old primary port %s, new %d); both instances "
              "back on "
              "Redis %lld ms after Sentinel's failover",
              (failoverUs - killUs) / 1000, qPrintable(oldPort), heir.port(),
              recovered ? (backUs - failoverUs) / 1000 : -1);
        HaVerdict v = load.verdict();
        load.checkNothingLost(v);
        qInfo("requests %d: 503+Retry-After %d, 503 without Retry-After %d, other 5xx %d, unanswered %d, "
              "forced sign-outs %d, revoked tokens accepted %d of %d checks, access tokens replaced by a "
              "rotation in "
              "flight %d, unexpected %d",
              v.requests, v.unavailable, v.unavailableNoRetryAfter, v.serverErrors, v.noAnswer,
              v.forcedSignOuts, v.revokedAccepted, v.revokedChecks, v.staleAccess, v.unexpected);
        const QString notes = v.notes.mid(0, 20).join(u'\n');
        QVERIFY2(recovered, "an instance did not get back on Redis within 30 s of the failover");
        QVERIFY2(backUs - failoverUs <= kRecoveryTargetUs,
                 qPrintable(QStringLiteral("back %1 ms after the failover (target 5 s)")
                                .arg((backUs - failoverUs) / 1000)));
        QVERIFY2(v.serverErrors == 0 && v.noAnswer == 0 && v.unavailableNoRetryAfter == 0, qPrintable(notes));
        QVERIFY2(v.revokedChecks > 0, "no revoked token was checked");
        QVERIFY2(v.revokedAccepted == 0, qPrintable(notes));
        QVERIFY2(v.forcedSignOuts == 0, qPrintable(notes));
        QVERIFY2(v.unexpected == 0, qPrintable(notes));
        for (auto& s : m_servers)
            QVERIFY2(s->isRunning(), "a server instance exited");
    }
};

QTEST_GUILESS_MAIN(TestRedisSentinelFailover)
#include "TestRedisSentinelFailover.moc"
