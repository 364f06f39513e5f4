// SPDX-License-Identifier: Apache-2.0
// The asynchronous PostgreSQL driver (libpq non-blocking + pipeline mode) against the real
// PostgreSQL that the test command starts: pipelining, implicit transactions, prepared
// statements, deadlines, lost connections, leases.
#include "TestEnvironment.h"
#include "db/PgPool.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <libpq-fe.h>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

namespace {
using Rows = Result<std::vector<PgResult>>;

PgQuery q(QByteArray sql, std::vector<std::optional<QByteArray>> params = {})
{
    return PgQuery{std::move(sql), std::move(params)};
}

/// Runs one request and waits for its answer (the test's own event loop turns meanwhile).
Rows run(PgPool& pool, PgRequest request)
{
    std::optional<Rows> out;
    QObject context;
    pool.submit(std::move(request), &context, [&](Rows r) { out = std::move(r); });
    (void)QTest::qWaitFor([&] { return out.has_value(); }, 10000);
    if (!out)
        return fail(ErrorCode::Internal, QStringLiteral("no answer within 10 s"));
    return std::move(*out);
}

/// A blocking side connection for checks and for disturbing the pool.
struct Side
{
    PGconn* conn;
    explicit Side(const QString& url) : conn(PQconnectdb(url.toUtf8().constData())) {}
    ~Side() { PQfinish(conn); }
    QByteArray scalar(const char* sql)
    {
        PGresult* r = PQexec(conn, sql);
        QByteArray v = PQntuples(r) > 0 ? QByteArray(PQgetvalue(r, 0, 0)) : QByteArray();
        PQclear(r);
        return v;
    }
};
} // namespace

class TestPgPool : public QObject
{
    Q_OBJECT

    QString m_url;

    std::unique_ptr<PgPool> startedPool(int size, PgConnection::Options options = {})
    {
        auto pool = std::make_unique<PgPool>(m_url.toUtf8(), size, options);
        pool->start();
        const bool up = QTest::qWaitFor([&] { return pool->readyCount() == size; }, 10000);
        if (!up)
            qWarning("pool did not connect");
        return pool;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (postgresAdminUrl().isEmpty()) {
            if (servicesRequired())
                QFAIL("EHRS_TEST_DATABASE_URL missing; run through scripts/test.sh");
            QSKIP("no test PostgreSQL (run through scripts/test.sh)");
        }
        m_url = createPostgresDatabase();
        QVERIFY(!m_url.isEmpty());
        Side side(m_url);
        QCOMPARE(side.scalar("CREATE TABLE items (id bigint PRIMARY KEY, label text) ; SELECT 'ok'"),
                 QByteArray("ok"));
    }

    void selectsWithParametersAndNulls()
    {
        auto pool = startedPool(1);
        auto r = run(
            *pool, PgRequest{{q("SELECT $1::bigint + 1, $2::text, $3::text IS NULL, 'é'::text",
                                {QByteArray("41"), QByteArray("x'; DROP TABLE items; --"), std::nullopt})}});
        QVERIFY2(r, r ? "" : qPrintable(r.error().message));
        QCOMPARE(r->size(), size_t(1));
        const PgResult& row = r->front();
        QCOMPARE(row.rows(), 1);
        QCOMPARE(row.toLongLong(0, 0), 42);
        QCOMPARE(row.text(0, 1), QStringLiteral("x'; DROP TABLE items; --"));
        QVERIFY(row.toBool(0, 2));
        QCOMPARE(row.text(0, 3), QStringLiteral("é"));
        QVERIFY(row.isNull(0, 9)); // out of range reads as NULL, never a crash
    }

    void pipelinedRequestsAnswerInOrder()
    {
        auto pool = startedPool(1);
        QList<int> order;
        QObject context;
        constexpr int kRequests = 500;
        for (int i = 0; i < kRequests; ++i) {
            pool->submit(PgRequest{{q("SELECT $1::int", {QByteArray::number(i)})}}, &context,
                         [&order](Rows r) { order.append(r ? int(r->front().toLongLong(0, 0)) : -1); });
        }
        QTRY_COMPARE_WITH_TIMEOUT(order.size(), kRequests, 10000);
        for (int i = 0; i < kRequests; ++i)
            QCOMPARE(order[i], i);
    }

    void aRequestIsOneTransaction()
    {
        auto pool = startedPool(2);
        QVERIFY(run(*pool, PgRequest{{q("DELETE FROM items")}}));
        // The second insert violates the key: the first must not stay either.
        auto r = run(
            *pool, PgRequest{{q("INSERT INTO items VALUES (1, 'a')"), q("INSERT INTO items VALUES (1, 'b')"),
                              q("INSERT INTO items VALUES (2, 'c')")}});
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Conflict);
        auto count = run(*pool, PgRequest{{q("SELECT count(*) FROM items")}});
        QVERIFY(count);
        QCOMPARE(count->front().toLongLong(0, 0), 0);
        // A request after a failed one on the same connection works (the pipeline recovered).
        auto ok = run(*pool, PgRequest{{q("INSERT INTO items VALUES (1, 'a')"),
                                        q("SELECT label FROM items WHERE id = $1", {QByteArray("1")})}});
        QVERIFY(ok);
        QCOMPARE(ok->size(), size_t(2));
        QCOMPARE(ok->at(0).affectedRows(), 1);
        QCOMPARE(ok->at(1).text(0, 0), QStringLiteral("a"));
    }

    void statementsArePreparedOncePerConnection()
    {
        auto pool = startedPool(1);
        const QByteArray sql = "SELECT $1::int * 2 AS twice";
        for (int i = 0; i < 5; ++i) {
            auto r = run(
                *pool,
                PgRequest{{q(sql, {QByteArray::number(i)}),
                           q("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", {sql})}});
            QVERIFY(r);
            QCOMPARE(r->at(0).toLongLong(0, r->at(0).column("twice")), i * 2);
            QCOMPARE(r->at(1).toLongLong(0, 0), 1);
        }
        // A statement that fails to prepare is prepared again next time (not assumed to exist).
        auto bad = run(*pool, PgRequest{{q("SELECT no_such_column FROM items")}});
        QVERIFY(!bad);
        QCOMPARE(bad.error().code, ErrorCode::Internal);
        QVERIFY(
            run(*pool, PgRequest{{q("ALTER TABLE items ADD COLUMN IF NOT EXISTS no_such_column int", {})}}));
        auto good = run(*pool, PgRequest{{q("SELECT no_such_column FROM items")}});
        QVERIFY2(good, good ? "" : qPrintable(good.error().message));
    }

    void aDeadlineFailsTheRequestAndTheConnectionIsReplaced()
    {
        PgConnection::Options options;
        options.deadlineMs = 300;
        auto pool = startedPool(1, options);
        const QList<int> before = pool->backendPids();
        QElapsedTimer t;
        t.start();
        auto slow = run(*pool, PgRequest{{q("SELECT pg_sleep(3)")}});
        QVERIFY(!slow);
        QCOMPARE(slow.error().code, ErrorCode::Unavailable);
        QVERIFY(slow.error().retryAfterSeconds > 0);
        QVERIFY2(t.elapsed() < 2000, QByteArray::number(t.elapsed()).constData());
        // The pool opens a new connection by itself and serves again.
        QTRY_COMPARE_WITH_TIMEOUT(pool->readyCount(), 1, 5000);
        QVERIFY(pool->backendPids() != before);
        QVERIFY(run(*pool, PgRequest{{q("SELECT 1")}}));
    }

    void aLostConnectionFailsEveryRequestOnceAndRecovers()
    {
        auto pool = startedPool(1);
        const int pid = pool->backendPids().value(0);
        QVERIFY(pid > 0);
        int answers = 0, failures = 0;
        QObject context;
        for (int i = 0; i < 5; ++i) {
            pool->submit(PgRequest{{q("SELECT pg_sleep(0.5)")}}, &context, [&](Rows r) {
                ++answers;
                failures += r ? 0 : 1;
            });
        }
        Side side(m_url);
        side.scalar(QByteArray("SELECT pg_terminate_backend(" + QByteArray::number(pid) + ")").constData());
        QTRY_COMPARE_WITH_TIMEOUT(answers, 5, 5000);
        QTest::qWait(200);
        QCOMPARE(answers, 5); // once each, never twice
        QVERIFY(failures >= 1);
        QTRY_COMPARE_WITH_TIMEOUT(pool->readyCount(), 1, 5000);
        QVERIFY(run(*pool, PgRequest{{q("SELECT 1")}}));
    }

    void noAnswerAfterItsOwnerIsGone()
    {
        auto pool = startedPool(1);
        bool called = false;
        {
            QObject context;
            pool->submit(PgRequest{{q("SELECT pg_sleep(0.2)")}}, &context, [&](Rows) { called = true; });
        }
        QVERIFY(run(*pool, PgRequest{{q("SELECT 1")}})); // answered after the first
        QVERIFY(!called);
    }

    void leasesHoldATransactionAcrossRequests()
    {
        auto pool = startedPool(2);
        QVERIFY(run(*pool, PgRequest{{q("DELETE FROM items"), q("INSERT INTO items VALUES (7, 'before')")}}));
        std::optional<Result<PgLease>> got;
        QObject context;
        pool->lease(&context, [&](Result<PgLease> l) { got = std::move(l); });
        QTRY_VERIFY(got.has_value());
        QVERIFY(*got);
        PgLease lease = std::move(**got);
        std::optional<Rows> step;
        lease.submit(PgRequest{{q("BEGIN", {}), q("SELECT label FROM items WHERE id = 7 FOR UPDATE")}},
                     &context, [&](Rows r) { step = std::move(r); });
        QTRY_VERIFY(step.has_value());
        QVERIFY(*step);
        QCOMPARE(step->value().at(1).text(0, 0), QStringLiteral("before"));
        // Meanwhile the pool's other connection serves others, and does not see the change yet.
        step.reset();
        lease.submit(PgRequest{{q("UPDATE items SET label = 'after' WHERE id = 7")}}, &context,
                     [&](Rows r) { step = std::move(r); });
        QTRY_VERIFY(step.has_value());
        auto outside = run(*pool, PgRequest{{q("SELECT label FROM items WHERE id = 7")}});
        QVERIFY(outside);
        QCOMPARE(outside->front().text(0, 0), QStringLiteral("before"));
        // Given back with the transaction open: rolled back, never committed by someone else.
        lease.release();
        QTest::qWait(100);
        auto after = run(*pool, PgRequest{{q("SELECT label FROM items WHERE id = 7")}});
        QVERIFY(after);
        QCOMPARE(after->front().text(0, 0), QStringLiteral("before"));
    }

    void unreachableServerFailsFast()
    {
        PgConnection::Options options;
        options.connectTimeoutMs = 1000;
        PgPool pool(QStringLiteral("postgres://nobody@127.0.0.1:%1/none").arg(freeLoopbackPort()).toUtf8(), 2,
                    options);
        pool.start();
        QElapsedTimer t;
        t.start();
        auto r = run(pool, PgRequest{{q("SELECT 1")}});
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Unavailable);
        QVERIFY(t.elapsed() < 3000);
        QVERIFY(!r.error().message.contains(u"password"));
    }
};

QTEST_GUILESS_MAIN(TestPgPool)
#include "TestPgPool.moc"
