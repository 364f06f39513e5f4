// SPDX-License-Identifier: Apache-2.0
// AsyncRedis against a real Redis (the one scripts/test.sh starts, plus private ones for tests that
// pause, kill or password-protect the server): pipelining, error replies, scripts, deadlines,
// lost connections (every pending callback fails exactly once, then the client reconnects and redoes
// AUTH/SELECT by itself), pub/sub across a reconnect, and callbacks that die with their context.
#include "TestEnvironment.h"
#include "cache/AsyncRedis.h"
#include "cache/RevocationFeed.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;
using namespace std::chrono_literals;

namespace {
QByteArray uniqueKey(const char* prefix)
{
    return QByteArray("test:") + prefix + ':' + QUuid::createUuid().toByteArray(QUuid::Id128);
}

/// Records every callback it is given, so a test can see how many times each one ran.
class Recorder : public QObject
{
public:
    AsyncRedis::Done slot(int index)
    {
        if (int(calls.size()) <= index) {
            calls.resize(size_t(index) + 1, 0);
            results.resize(size_t(index) + 1);
        }
        return [this, index](Result<RedisReply> r) {
            ++calls[size_t(index)];
            results[size_t(index)] = std::move(r);
            order.push_back(index);
        };
    }
    int answered() const { return int(order.size()); }

    std::vector<int> calls;
    std::vector<std::optional<Result<RedisReply>>> results;
    std::vector<int> order;
};

/// Runs one command and waits for its answer.
Result<RedisReply> run(AsyncRedis& client, QList<QByteArray> argv)
{
    Recorder r;
    client.command(std::move(argv), &r, r.slot(0));
    if (!QTest::qWaitFor([&] { return r.answered() == 1; }, 5000))
        return fail(ErrorCode::Internal, QStringLiteral("no answer within 5 s"));
    return *r.results[0];
}

bool waitUp(AsyncRedis& client, int timeoutMs = 5000)
{
    client.start();
    return QTest::qWaitFor([&] { return client.isUp(); }, timeoutMs);
}
} // namespace

class TestAsyncRedis : public QObject
{
    Q_OBJECT

    RedisEndpoint shared(int db = 0) const
    {
        RedisEndpoint e = *RedisEndpoint::parse(m_sharedUrl);
        e.db = db;
        return e;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sharedUrl = sharedRedisUrl();
        if (m_sharedUrl.isEmpty()) {
            if (servicesRequired())
                QFAIL("EHRS_TEST_REDIS_URL is not set; run through scripts/test.sh");
            QSKIP("no test Redis");
        }
    }

    void replyTypes()
    {
        AsyncRedis client(shared());
        const QByteArray key = uniqueKey("types");
        auto set = run(client, {"SET", key, "value", "EX", "60"});
        QVERIFY(set);
        QCOMPARE(set->type, RedisReply::Type::Status);
        QCOMPARE(set->string, QByteArray("OK"));
        auto get = run(client, {"GET", key});
        QVERIFY(get);
        QCOMPARE(get->type, RedisReply::Type::String);
        QCOMPARE(get->string, QByteArray("value"));
        auto missing = run(client, {"GET", key + ":missing"});
        QVERIFY(missing && missing->isNil());
        auto len = run(client, {"STRLEN", key});
        QVERIFY(len);
        QCOMPARE(len->type, RedisReply::Type::Integer);
        QCOMPARE(len->integer, 5);
        auto many = run(client, {"MGET", key, key + ":missing"});
        QVERIFY(many);
        QCOMPARE(many->type, RedisReply::Type::Array);
        QCOMPARE(many->elements.size(), 2);
        QCOMPARE(many->elements[0].string, QByteArray("value"));
        QVERIFY(many->elements[1].isNil());
    }

    void pipelinedCommandsAnsweredInOrder()
    {
        AsyncRedis client(shared());
        QVERIFY(waitUp(client));
        const QByteArray key = uniqueKey("order");
        Recorder r;
        constexpr int n = 100;
        for (int i = 0; i < n; ++i)
            client.command({"INCR", key}, &r, r.slot(i));
        client.command({"EXPIRE", key, "60"}, &r, r.slot(n));
        // All of them were written before the first answer came back: one connection, many in flight.
        QCOMPARE(client.pendingCount(), qsizetype(n + 1));
        QTRY_COMPARE(r.answered(), n + 1);
        for (int i = 0; i < n; ++i) {
            QCOMPARE(r.order[size_t(i)], i);
            QCOMPARE(r.calls[size_t(i)], 1);
            QVERIFY(*r.results[size_t(i)]);
            QCOMPARE((*r.results[size_t(i)])->integer, qint64(i + 1)); // INCR saw them in issue order
        }
        QCOMPARE(client.connects(), 1);
    }

    void thousandInFlightComplete()
    {
        AsyncRedisOptions options;
        options.deadline = 5s; // this test is about how many, not how fast, on a shared CI machine
        AsyncRedis client(shared(), options);
        QVERIFY(waitUp(client));
        Recorder r;
        constexpr int n = 1000;
        for (int i = 0; i < n; ++i)
            client.command({"ECHO", QByteArray::number(i)}, &r, r.slot(i));
        QCOMPARE(client.pendingCount(), qsizetype(n));
        QTRY_COMPARE(r.answered(), n);
        for (int i = 0; i < n; ++i) {
            QCOMPARE(r.calls[size_t(i)], 1);
            QVERIFY(*r.results[size_t(i)]);
            QCOMPARE((*r.results[size_t(i)])->string, QByteArray::number(i));
        }
        QCOMPARE(client.pendingCount(), qsizetype(0));
    }

    void errorRepliesBecomeErrors()
    {
        AsyncRedis client(shared());
        const QByteArray key = uniqueKey("error");
        QVERIFY(run(client, {"SET", key, "not a number", "EX", "60"}));
        Recorder r;
        client.command({"INCR", key}, &r, r.slot(0));
        client.command({"GET"}, &r, r.slot(1)); // wrong number of arguments
        client.command({"GET", key}, &r, r.slot(2));
        QTRY_COMPARE(r.answered(), 3);
        QVERIFY(!*r.results[0]);
        QCOMPARE(r.results[0]->error().code, ErrorCode::Internal);
        QVERIFY(r.results[0]->error().message.contains(u"not an integer"));
        QVERIFY(!*r.results[1]);
        QVERIFY(r.results[1]->error().message.contains(u"wrong number of arguments"));
        // An error reply is an answer, not a failure of the connection.
        QVERIFY(*r.results[2]);
        QCOMPARE((*r.results[2])->string, QByteArray("not a number"));
        QCOMPARE(client.connects(), 1);
    }

    void scriptFallsBackToEval()
    {
        AsyncRedis client(shared());
        // A script Redis cannot know yet, so EVALSHA must get NOSCRIPT and fall back to EVAL.
        const RedisScript script("-- " + QUuid::createUuid().toByteArray(QUuid::Id128) +
                                 "\nlocal n = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
                                 "redis.call('EXPIRE', KEYS[1], 60)\nreturn n");
        auto exists = run(client, {"SCRIPT", "EXISTS", script.sha1});
        QVERIFY(exists);
        QCOMPARE(exists->elements.value(0).integer, 0);
        const QByteArray key = uniqueKey("script");
        Recorder r;
        client.evalScript(script, {key}, {"5"}, &r, r.slot(0));
        client.evalScript(script, {key}, {"7"}, &r, r.slot(1));
        QTRY_COMPARE(r.answered(), 2);
        QVERIFY(*r.results[0] && *r.results[1]);
        QCOMPARE(r.calls, (std::vector<int>{1, 1}));
        QCOMPARE(r.order, (std::vector<int>{0, 1}));
        QCOMPARE((*r.results[0])->integer, 5);
        QCOMPARE((*r.results[1])->integer, 12);
        // Now Redis knows it, and EVALSHA answers by itself.
        exists = run(client, {"SCRIPT", "EXISTS", script.sha1});
        QCOMPARE(exists->elements.value(0).integer, 1);
        Recorder again;
        client.evalScript(script, {key}, {"1"}, &again, again.slot(0));
        QTRY_COMPARE(again.answered(), 1);
        QCOMPARE((*again.results[0])->integer, 13);
    }

    void deadlineFailsPendingThenRecovers()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        const RedisEndpoint endpoint = *RedisEndpoint::parse(redis.url());
        RedisHealth health;
        AsyncRedisOptions options;
        options.deadline = 100ms;
        AsyncRedis client(endpoint, options, &health);
        QVERIFY(waitUp(client));
        QVERIFY(health.up);
        RedisHealth adminHealth;
        RedisStore admin(endpoint, adminHealth);
        QVERIFY(admin.command({"CLIENT", "PAUSE", "700", "ALL"}));
        QElapsedTimer t;
        t.start();
        Recorder r;
        for (int i = 0; i < 5; ++i)
            client.command({"PING"}, &r, r.slot(i));
        QTRY_COMPARE(r.answered(), 5);
        const qint64 ms = t.elapsed();
        QVERIFY2(ms < 600, qPrintable(QString::number(ms))); // the deadline, not the pause, answered
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(r.calls[size_t(i)], 1);
            QVERIFY(!*r.results[size_t(i)]);
            QCOMPARE(r.results[size_t(i)]->error().code, ErrorCode::Unavailable);
        }
        QVERIFY(!client.isUp());
        QVERIFY(!health.up);
        // By itself, once Redis answers again.
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 5000);
        QVERIFY(health.up);
        auto pong = run(client, {"PING"});
        QVERIFY(pong);
        QCOMPARE(pong->string, QByteArray("PONG"));
        QCOMPARE(r.calls, (std::vector<int>{1, 1, 1, 1, 1})); // never a second time
    }

    void killedConnectionFailsOnceAndReconnects_data()
    {
        QTest::addColumn<QString>("password");
        QTest::newRow("SELECT 3 on the shared Redis") << QString();
        QTest::newRow("AUTH and SELECT 3 on a private Redis with a password")
            << QStringLiteral("s3cret-pass");
    }

    void killedConnectionFailsOnceAndReconnects()
    {
        QFETCH(QString, password);
        RedisProcess privateRedis;
        RedisEndpoint endpoint = shared();
        if (!password.isEmpty()) {
            privateRedis.setPassword(password);
            QVERIFY(privateRedis.start());
            endpoint = *RedisEndpoint::parse(privateRedis.url());
        }
        endpoint.db = 3;
        RedisEndpoint db0 = endpoint;
        db0.db = 0;
        RedisHealth health;
        AsyncRedisOptions options;
        options.deadline = 10s; // only the kill may end the blocked commands
        AsyncRedis client(endpoint, options, &health);
        auto id = run(client, {"CLIENT", "ID"});
        QVERIFY(id);
        QCOMPARE(client.connects(), 1);
        const QByteArray key = uniqueKey("kill");
        Recorder r;
        client.command({"BLPOP", key + ":never", "0"}, &r, r.slot(0)); // blocks until the kill
        client.command({"PING"}, &r, r.slot(1));                       // queued behind it
        client.command({"PING"}, &r, r.slot(2));
        int doomedRan = 0;
        {
            QObject doomed;
            client.command({"PING"}, &doomed, [&doomedRan](Result<RedisReply>) { ++doomedRan; });
        } // its callback must never run
        QCOMPARE(client.pendingCount(), qsizetype(4));
        RedisHealth adminHealth;
        RedisStore admin(db0, adminHealth);
        auto killed = admin.command({"CLIENT", "KILL", "ID", QByteArray::number(id->integer)});
        QVERIFY(killed);
        QCOMPARE(*killed, QByteArray("1"));
        QTRY_COMPARE(r.answered(), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(r.calls[size_t(i)], 1);
            QCOMPARE(r.results[size_t(i)]->error().code, ErrorCode::Unavailable);
        }
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 5000);
        QCOMPARE(client.connects(), 2);
        QVERIFY(health.up);
        // AUTH and SELECT were redone: the key lands in database 3, not 0.
        QVERIFY(run(client, {"SET", key, "in-db-3", "EX", "60"}));
        QCOMPARE(*admin.command({"GET", key}), QByteArray());
        RedisStore admin3(endpoint, adminHealth);
        QCOMPARE(*admin3.command({"GET", key}), QByteArray("in-db-3"));
        QCOMPARE(r.calls, (std::vector<int>{1, 1, 1}));
        QCOMPARE(doomedRan, 0);
    }

    void redisDownFailsFastAndComesBack()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        AsyncRedis client(*RedisEndpoint::parse(redis.url()));
        QSignalSpy changes(&client, &AsyncRedis::upChanged);
        QVERIFY(waitUp(client));
        redis.kill();
        QTRY_VERIFY(!client.isUp());
        QCOMPARE(changes.size(), 2);
        QCOMPARE(changes[1][0].toBool(), false);
        Recorder r;
        QElapsedTimer t;
        t.start();
        client.command({"PING"}, &r, r.slot(0));
        QCOMPARE(r.answered(), 0); // never inside command() itself
        QTRY_COMPARE(r.answered(), 1);
        QVERIFY(t.elapsed() < 200); // at once, not after the deadline
        QCOMPARE(r.results[0]->error().code, ErrorCode::Unavailable);
        // A context deleted before the queued failure is delivered drops it.
        int doomedRan = 0;
        {
            QObject doomed;
            client.command({"PING"}, &doomed, [&doomedRan](Result<RedisReply>) { ++doomedRan; });
        }
        Recorder after;
        client.command({"PING"}, &after, after.slot(0));
        QTRY_COMPARE(after.answered(), 1); // queued after the dropped one
        QCOMPARE(doomedRan, 0);
        QVERIFY(redis.start()); // same port
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 5000);
        QCOMPARE(changes.size(), 3);
        QVERIFY(run(client, {"PING"}));
    }

    void callbacksDieWithTheirContext()
    {
        AsyncRedis client(shared());
        QVERIFY(waitUp(client));
        int ran = 0;
        {
            QObject context;
            for (int i = 0; i < 10; ++i)
                client.command({"PING"}, &context, [&ran](Result<RedisReply>) { ++ran; });
        }
        // Answers come in order: once this one is in, the ten above were answered (and dropped).
        auto last = run(client, {"PING"});
        QVERIFY(last);
        QCOMPARE(ran, 0);
        QCOMPARE(client.pendingCount(), qsizetype(0));
    }

    void pubSubResubscribesAfterKill()
    {
        AsyncRedisOptions options;
        options.clientName = "ehrs-test-" + QUuid::createUuid().toByteArray(QUuid::Id128);
        AsyncRedis subscriber(shared(), options);
        const QByteArray channel = uniqueKey("channel");
        QObject context;
        QList<QByteArray> messages;
        QList<bool> states;
        subscriber.subscribe(
            channel, &context, [&](const QByteArray& m) { messages.append(m); },
            [&](bool up) { states.append(up); });
        QTRY_COMPARE(states, QList<bool>{true});
        QVERIFY(subscriber.isUp());
        RedisHealth adminHealth;
        RedisStore admin(shared(), adminHealth);
        QCOMPARE(*admin.command({"PUBLISH", channel, "first"}), QByteArray("1"));
        QTRY_COMPARE(messages, QList<QByteArray>{"first"});
        // A subscriber takes no other commands.
        auto refused = run(subscriber, {"PING"});
        QVERIFY(!refused);
        // Find the subscriber by its name and kill it.
        auto list = admin.command({"CLIENT", "LIST", "TYPE", "pubsub"});
        QVERIFY(list);
        QByteArray id;
        for (const QByteArray& line : list->split('\n'))
            if (line.contains(" name=" + options.clientName + ' '))
                id = line.split(' ').value(0).mid(3); // "id=NN"
        QVERIFY(!id.isEmpty());
        QCOMPARE(*admin.command({"CLIENT", "KILL", "ID", id}), QByteArray("1"));
        QTRY_COMPARE_WITH_TIMEOUT(states, (QList<bool>{true, false, true}), 5000);
        QCOMPARE(subscriber.connects(), 2);
        QCOMPARE(*admin.command({"PUBLISH", channel, "second"}), QByteArray("1"));
        QTRY_COMPARE(messages, (QList<QByteArray>{"first", "second"}));
    }

    void subscriberKeepaliveNoticesAStuckServer()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        const RedisEndpoint endpoint = *RedisEndpoint::parse(redis.url());
        AsyncRedisOptions options;
        options.keepaliveInterval = 200ms;
        options.keepaliveDeadline = 300ms;
        AsyncRedis subscriber(endpoint, options);
        QObject context;
        QList<bool> states;
        subscriber.subscribe(
            "ch", &context, [](const QByteArray&) {}, [&](bool up) { states.append(up); });
        QTRY_COMPARE(states, QList<bool>{true});
        // Up and quiet, the connection stays up across keepalives.
        QSignalSpy changes(&subscriber, &AsyncRedis::upChanged);
        QVERIFY(!changes.wait(700));
        QCOMPARE(states, QList<bool>{true});
        // The connection stays open but Redis stops answering: only the keepalive can tell.
        RedisHealth adminHealth;
        RedisStore admin(endpoint, adminHealth);
        QVERIFY(admin.command({"CLIENT", "PAUSE", "1500", "ALL"}));
        QTRY_COMPARE_WITH_TIMEOUT(states, (QList<bool>{true, false}), 1400);
        QTRY_COMPARE_WITH_TIMEOUT(states, (QList<bool>{true, false, true}), 5000);
    }

    void revocationFeedOnItsOwnThread()
    {
        // The feed's subscriber lives on the feed's thread: it must reconnect there by itself (its
        // timers move with it), clear the table on every subscription and apply events.
        RedisProcess redis;
        QVERIFY(redis.start());
        const RedisEndpoint endpoint = *RedisEndpoint::parse(redis.url());
        LiveSessionTable table;
        RevocationFeed feed(endpoint, table);
        feed.start();
        QTRY_VERIFY_WITH_TIMEOUT(feed.isUp(), 5000);
        QCOMPARE(feed.connects(), 1);
        LiveSessionTable::Entry entry;
        entry.userId = QStringLiteral("u");
        entry.accessHash = "h1";
        table.remember(QStringLiteral("s1"), entry);
        table.remember(QStringLiteral("s2"), entry);
        RedisHealth adminHealth;
        RedisStore admin(endpoint, adminHealth);
        QCOMPARE(*admin.command({"PUBLISH", RevocationFeed::kChannel,
                                 RevocationFeed::revokeMessage(QStringLiteral("s1"))}),
                 QByteArray("1"));
        QTRY_VERIFY(table.find(QStringLiteral("s1")) && table.find(QStringLiteral("s1"))->revoked);
        QCOMPARE(*admin.command({"PUBLISH", RevocationFeed::kChannel,
                                 RevocationFeed::rotateMessage(QStringLiteral("s2"), "h2")}),
                 QByteArray("1"));
        QTRY_COMPARE(table.find(QStringLiteral("s2")).value_or(entry).accessHash, QByteArray("h2"));
        QCOMPARE(*admin.command({"CLIENT", "KILL", "TYPE", "pubsub"}), QByteArray("1"));
        QTRY_VERIFY_WITH_TIMEOUT(feed.connects() == 2 && feed.isUp(), 5000);
        QCOMPARE(table.size(), 0); // anything learnt before may be stale
        feed.stop();
        QVERIFY(!feed.isUp());
    }

private:
    QString m_sharedUrl;
};

QTEST_GUILESS_MAIN(TestAsyncRedis)
#include "TestAsyncRedis.moc"
