// SPDX-License-Identifier: Apache-2.0
// How a redis-sentinel:// connection finds the primary again without waiting for an error (issue
// 15.2), in process, against a real Redis primary, its replica and a Sentinel:
//  - readOnlyAnswerAsksTheSentinels: a connection made to a stale address (the replica) gets
//    READONLY for a write; that write fails as "unavailable" and the next one, on a connection
//    found through the Sentinel, lands on the primary (asynchronous and synchronous clients);
//  - switchMasterMovesIdleConnections: after SENTINEL FAILOVER (the old primary stays up and
//    writable), the SentinelWatch hears +switch-master and an idle subscriber and a command
//    connection move to the new primary at once, not at their next error.
#include "HaCluster.h"
#include "LoadClient.h"
#include "cache/AsyncRedis.h"
#include "cache/RedisStore.h"
#include "cache/SentinelWatch.h"

#include <QStandardPaths>
#include <QTest>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

namespace {
constexpr qint64 kMoveTargetUs = 2'000'000;

Result<RedisReply> run(AsyncRedis& client, QList<QByteArray> argv)
{
    std::optional<Result<RedisReply>> answer;
    QObject context;
    client.command(std::move(argv), &context, [&answer](Result<RedisReply> r) { answer = std::move(r); });
    if (!QTest::qWaitFor([&] { return answer.has_value(); }, 5000))
        return fail(ErrorCode::Internal, QStringLiteral("no answer within 5 s"));
    return *answer;
}
} // namespace

class TestSentinelSwitch : public QObject
{
    Q_OBJECT

    RedisNode m_a;
    RedisNode m_b;
    RedisNode m_sentinel;

    RedisEndpoint endpoint() const
    {
        return *RedisEndpoint::parse(
            QStringLiteral("redis-sentinel://127.0.0.1:%1/mymaster").arg(m_sentinel.port()));
    }
    int masterPort() const
    {
        return m_sentinel
            .command({QStringLiteral("SENTINEL"), QStringLiteral("get-master-addr-by-name"),
                      QStringLiteral("mymaster")})
            .section(u' ', 1, 1)
            .toInt();
    }
    RedisNode& primary() { return masterPort() == m_a.port() ? m_a : m_b; }
    RedisNode& replica() { return masterPort() == m_a.port() ? m_b : m_a; }

private Q_SLOTS:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("redis-cli")).isEmpty())
            QSKIP("redis-server and redis-cli are not installed");
        QVERIFY(m_a.start({}));
        QVERIFY(m_b.start({QStringLiteral("replicaof 127.0.0.1 %1").arg(m_a.port())}));
        QVERIFY(m_sentinel.start({QStringLiteral("sentinel monitor mymaster 127.0.0.1 %1 1").arg(m_a.port()),
                                  QStringLiteral("sentinel down-after-milliseconds mymaster 1000"),
                                  QStringLiteral("sentinel failover-timeout mymaster 5000")},
                                 true));
        QVERIFY2(QTest::qWaitFor(
                     [this] {
                         return m_sentinel
                                    .command({QStringLiteral("SENTINEL"), QStringLiteral("replicas"),
                                              QStringLiteral("mymaster")})
                                    .contains(QString::number(m_b.port())) &&
                                m_b.command({QStringLiteral("INFO"), QStringLiteral("replication")})
                                    .contains(QStringLiteral("master_link_status:up"));
                     },
                     30000),
                 "the Sentinel did not learn the replica");
    }

    void readOnlyAnswerAsksTheSentinels()
    {
        RedisEndpoint e = endpoint();
        // A stale address: what a connection would use if it had missed a switch.
        e.primary->announce({"127.0.0.1", m_b.port()});
        AsyncRedis client(e);
        auto first = run(client, {"SET", "ha:readonly", "1"});
        QVERIFY(!first);
        QCOMPARE(first.error().code, ErrorCode::Unavailable); // not a 500 for the caller
        auto second = run(client, {"SET", "ha:readonly", "2"});
        QVERIFY2(second, second ? "" : qPrintable(second.error().message));
        QCOMPARE(m_a.command({QStringLiteral("GET"), QStringLiteral("ha:readonly")}), QStringLiteral("2"));

        // The synchronous client: the same, and the next call goes through the Sentinel at once
        // (not after the once-a-second retry of a Redis that is down).
        RedisEndpoint e2 = endpoint();
        e2.primary->announce({"127.0.0.1", m_b.port()});
        RedisHealth health;
        RedisStore store(e2, health);
        auto refused = store.apply({KeyValueStore::Write{"ha:readonly:sync", "3", 60, false}});
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::Unavailable);
        auto applied = store.apply({KeyValueStore::Write{"ha:readonly:sync", "3", 60, false}});
        QVERIFY2(applied, applied ? "" : qPrintable(applied.error().message));
        QCOMPARE(m_a.command({QStringLiteral("GET"), QStringLiteral("ha:readonly:sync")}),
                 QStringLiteral("3"));
    }

    void switchMasterMovesIdleConnections()
    {
        RedisEndpoint e = endpoint();
        SentinelWatch watch(e);
        watch.start();
        AsyncRedisOptions options;
        options.clientName = "ha-test-subscriber";
        AsyncRedis subscriber(e, options);
        int ups = 0;
        QObject context;
        subscriber.subscribe(
            "ha:test:channel", &context, [](const QByteArray&) {}, [&ups](bool up) { ups += up ? 1 : 0; });
        options.clientName = "ha-test-commands";
        AsyncRedis commands(e, options);
        QVERIFY(run(commands, {"SET", "ha:switch", "before"}));
        QVERIFY(QTest::qWaitFor([&] { return ups == 1 && watch.subscribed() == 1; }, 5000));

        RedisNode& oldPrimary = primary();
        RedisNode& newPrimary = replica();
        QCOMPARE(m_sentinel.command(
                     {QStringLiteral("SENTINEL"), QStringLiteral("FAILOVER"), QStringLiteral("mymaster")}),
                 QStringLiteral("OK"));
        qint64 switchUs = 0;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         if (masterPort() == newPrimary.port())
                             switchUs = monotonicUs();
                         return switchUs > 0;
                     },
                     30000),
                 "the Sentinel did not fail over");
        // Both connections leave the old primary (still up and a primary for seconds) by themselves:
        // neither had an error, and the command connection issued nothing meanwhile.
        qint64 movedUs = 0;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         const QString onNew =
                             newPrimary.command({QStringLiteral("CLIENT"), QStringLiteral("LIST")});
                         const QString onOld =
                             oldPrimary.command({QStringLiteral("CLIENT"), QStringLiteral("LIST")});
                         if (onNew.contains(QStringLiteral("name=ha-test-subscriber")) &&
                             onNew.contains(QStringLiteral("name=ha-test-commands")) &&
                             !onOld.contains(QStringLiteral("name=ha-test")) && ups == 2)
                             movedUs = monotonicUs();
                         return movedUs > 0;
                     },
                     10000),
                 "the connections did not move to the new primary within 10 s");
        const bool oldStillPrimary =
            oldPrimary.command({QStringLiteral("ROLE")}).startsWith(QStringLiteral("master"));
        qInfo("SENTINEL FAILOVER: idle connections on the new primary %lld ms after the switch (the old "
              "primary %s)",
              (movedUs - switchUs) / 1000,
              oldStillPrimary ? "was still a writable primary then" : "had already been converted");
        QVERIFY2(movedUs - switchUs <= kMoveTargetUs,
                 qPrintable(QStringLiteral("moved %1 ms after the switch").arg((movedUs - switchUs) / 1000)));
        QVERIFY(run(commands, {"SET", "ha:switch", "after"}));
        QCOMPARE(newPrimary.command({QStringLiteral("GET"), QStringLiteral("ha:switch")}),
                 QStringLiteral("after"));
    }
};

QTEST_GUILESS_MAIN(TestSentinelSwitch)
#include "TestSentinelSwitch.moc"
