// SPDX-License-Identifier: Apache-2.0
// Issue 15.1: what an ASYNCHRONOUS standby loses on failover, and what a client sees. A primary and
// an asynchronous streaming standby, one server instance with the multi-host DATABASE_URL and a
// refresh grace of 2 s. Made deterministic: once the standby has replayed the first rotation (T1 ->
// T2), its WAL receiver is stopped (primary_conninfo cleared, reloaded) so that the next rotation
// (T2 -> T3), acknowledged to the client by the primary, never reaches it; then the primary is
// stopped (immediate) and the standby promoted. Asserted:
//  - lostRotationIsNotReuse: T3, which the promoted server never saw, is answered 401
//    "unauthorized" (an unknown token), NOT refresh_token_reused: the session stays live and no
//    refresh_reuse_detected is audited; the previous token T2 (the agent keeps it for this, see
//    AgentService::retryWithPreviousToken) is the promoted server's current one and rotates: the
//    client keeps its session;
//  - previousTokenAfterGraceIsReuse: where the server does hold the newer rotation, presenting the
//    previous token after the grace is re-use as ever: 401 refresh_token_reused, session revoked.
#include "ApiClient.h"
#include "HaCluster.h"
#include "HaLoad.h"
#include "LoadClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QStandardPaths>
#include <QTest>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "async standby test password";
const QByteArray kEmail = "async@example.org";
constexpr int kGraceSeconds = 2;

struct Pair
{
    QByteArray access;
    QByteArray refresh;
};

Pair pairOf(const ApiResponse& r)
{
    return {QByteArray::fromStdString(r.str("accessToken")),
            QByteArray::fromStdString(r.str("refreshToken"))};
}
} // namespace

class TestAsyncReplicaLoss : public QObject
{
    Q_OBJECT

    PgNode m_primary;
    PgNode m_standby;
    RedisProcess m_redis;
    std::unique_ptr<ServerProcess> m_server;
    QString m_sessionId;
    Pair m_latest; // after lostRotationIsNotReuse: the pair the client holds

    ApiResponse refresh(const QByteArray& token) const
    {
        return ApiClient(m_server->url())
            .request("POST", "/api/sessions/refresh", {{"refreshToken", token.toStdString()}});
    }

    QString sessionRow() const
    {
        return m_standby.query(
            QStringLiteral("SELECT (revoked_at IS NULL)::text || ' ' || coalesce(revoke_reason, '-') FROM "
                           "user_sessions WHERE id = '%1'")
                .arg(m_sessionId));
    }

    int reuseAudits() const
    {
        return m_standby
            .query(
                QStringLiteral("SELECT count(*) FROM audit_events WHERE event = 'refresh_reuse_detected' AND "
                               "session_id = '%1'")
                    .arg(m_sessionId))
            .toInt();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        if (!canRunPostgresCluster(&why))
            QSKIP(qPrintable(why));
        if (QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty())
            QSKIP("redis-server is not installed");
        QVERIFY(m_primary.initPrimary({})); // no synchronous_standby_names: asynchronous
        QVERIFY(m_primary.start());
        QVERIFY(m_standby.initStandbyOf(m_primary));
        QVERIFY(m_standby.start());
        QVERIFY2(QTest::qWaitFor(
                     [this] {
                         return m_primary.query(QStringLiteral(
                                    "SELECT state || ' ' || sync_state FROM pg_stat_replication")) ==
                                u"streaming async";
                     },
                     30000),
                 "the standby did not stream asynchronously");
        QVERIFY(m_redis.start());
        m_server =
            haServer(QStringLiteral("postgres://postgres@%1,%2/postgres?target_session_attrs=read-write")
                         .arg(m_primary.hostPort(), m_standby.hostPort()),
                     m_redis.url());
        m_server->setEnv(QStringLiteral("REFRESH_GRACE_SECONDS"), QString::number(kGraceSeconds));
        QVERIFY(m_server->start());
        QVERIFY(m_server->addUser(QString::fromLatin1(kEmail), QString::fromLatin1(kPassword)));
    }

    void cleanupTestCase() { m_server.reset(); }

    void lostRotationIsNotReuse()
    {
        const ApiResponse login =
            ApiClient(m_server->url())
                .request("POST", "/api/auth/login",
                         {{"email", kEmail.toStdString()}, {"password", kPassword.toStdString()}});
        QCOMPARE(login.status, 200);
        m_sessionId = QString::fromStdString(login.str("sessionId"));
        const Pair t1 = pairOf(login);
        const ApiResponse r2 = refresh(t1.refresh);
        QCOMPARE(r2.status, 200);
        const Pair t2 = pairOf(r2);

        // The standby has everything up to T2...
        const QString lsn = m_primary.query(QStringLiteral("SELECT pg_current_wal_lsn()"));
        QVERIFY(!lsn.isEmpty());
        QVERIFY2(
            QTest::qWaitFor(
                [&] {
                    return m_standby.query(
                               QStringLiteral("SELECT pg_last_wal_replay_lsn() >= '%1'::pg_lsn").arg(lsn)) ==
                           u"t";
                },
                15000),
            "the standby did not replay the first rotation");
        // ...and nothing after: its WAL receiver stops (an asynchronous standby lagging behind).
        QCOMPARE(m_standby.query(QStringLiteral("ALTER SYSTEM SET primary_conninfo = ''")),
                 QStringLiteral("ALTER SYSTEM"));
        QCOMPARE(m_standby.query(QStringLiteral("SELECT pg_reload_conf()")), QStringLiteral("t"));
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         return m_primary.query(QStringLiteral("SELECT count(*) FROM pg_stat_replication")) ==
                                u"0";
                     },
                     15000),
                 "the standby's WAL receiver did not stop");

        // The rotation the failover will lose: acknowledged to the client by the primary.
        const ApiResponse r3 = refresh(t2.refresh);
        QCOMPARE(r3.status, 200);
        const Pair t3 = pairOf(r3);

        const qint64 crashUs = monotonicUs();
        QVERIFY(m_primary.stopImmediately());
        QVERIFY(m_standby.promote());

        // The client refreshes with what it was given last (T3), through the failover.
        ApiResponse unknown;
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         unknown = refresh(t3.refresh);
                         return unknown.status != 503;
                     },
                     20000),
                 "the instance did not reach the promoted standby within 20 s");
        qInfo(
            "asynchronous failover: the instance answered the lost rotation's token %lld ms after the crash: "
            "%d %s",
            (monotonicUs() - crashUs) / 1000, unknown.status, unknown.body.constData());
        QCOMPARE(unknown.status, 401);
        QCOMPARE(unknown.str("error"), std::string("unauthorized")); // unknown, not refresh_token_reused
        QCOMPARE(sessionRow(), QStringLiteral("true -")); // not revoked: nobody was taken for a thief
        QCOMPARE(reuseAudits(), 0);

        // The agent's fallback: the previous token, which the promoted server holds as current.
        const ApiResponse back = refresh(t2.refresh);
        QCOMPARE(back.status, 200);
        m_latest = pairOf(back);
        QVERIFY(m_latest.refresh != t3.refresh);
        const ApiResponse list =
            ApiClient(m_server->url()).request("GET", "/api/sessions", nullptr, m_latest.access);
        QCOMPARE(list.status, 200);
        QCOMPARE(sessionRow(), QStringLiteral("true -"));
        QCOMPARE(reuseAudits(), 0);
        // T3 stays unknown (never reuse): it was never this server's.
        QCOMPARE(refresh(t3.refresh).str("error"), std::string("unauthorized"));
        QCOMPARE(sessionRow(), QStringLiteral("true -"));
    }

    void previousTokenAfterGraceIsReuse()
    {
        if (m_sessionId.isEmpty())
            QSKIP("needs lostRotationIsNotReuse's session");
        // This server holds the newer rotation: the token before it is re-use once the grace is over.
        const ApiResponse next = refresh(m_latest.refresh);
        QCOMPARE(next.status, 200);
        QTest::qWait(kGraceSeconds * 1000 + 1500);
        const ApiResponse reused = refresh(m_latest.refresh);
        QCOMPARE(reused.status, 401);
        QCOMPARE(reused.str("error"), std::string("refresh_token_reused"));
        QCOMPARE(sessionRow(), QStringLiteral("false refresh_token_reused"));
        QCOMPARE(reuseAudits(), 1);
        // And the session is over for the newer token too.
        QCOMPARE(refresh(pairOf(next).refresh).status, 401);
    }
};

QTEST_GUILESS_MAIN(TestAsyncReplicaLoss)
#include "TestAsyncReplicaLoss.moc"
