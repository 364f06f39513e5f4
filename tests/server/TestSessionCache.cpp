// SPDX-License-Identifier: Apache-2.0
// The session cache in front of the database: invalidations an outage kept from the store are
// replayed in order, none lost or doubled when a replay overlaps new ones, and no positive entry is
// trusted meanwhile (a store with failure injection). RedisStore against a real Redis: a command on
// a connection that went stale (killed, Redis restarted) is retried on a new connection at once;
// its asynchronous forms answer from the event loop, never blocking the caller, also while Redis
// is frozen, and a write on a stale asynchronous connection lands too.
#include "TestEnvironment.h"
#include "cache/RedisStore.h"
#include "cache/SessionCache.h"

#include <QElapsedTimer>
#include <QScopeGuard>
#include <QTest>
#include <QUuid>
#include <csignal>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

namespace {
/// A shared store that can be made to fail; records the writes it applied.
class FlakyStore final : public KeyValueStore
{
public:
    bool down = false;
    bool writesDown = false;
    QHash<QByteArray, QByteArray> values;
    QList<Write> applied;
    std::function<void()> duringApply; // runs inside apply(), before the writes land

    Result<std::vector<std::optional<QByteArray>>> get(const QList<QByteArray>& keys) override
    {
        if (down)
            return fail(ErrorCode::Unavailable, QStringLiteral("down"));
        std::vector<std::optional<QByteArray>> out;
        for (const QByteArray& k : keys)
            out.push_back(values.contains(k) ? std::optional<QByteArray>(values.value(k)) : std::nullopt);
        return out;
    }
    Result<void> apply(const QList<Write>& writes) override
    {
        if (down || writesDown)
            return fail(ErrorCode::Unavailable, QStringLiteral("down"));
        if (auto f = std::exchange(duringApply, nullptr))
            f();
        for (const Write& w : writes) {
            applied << w;
            if (w.publish)
                continue;
            if (w.ttlSeconds > 0)
                values.insert(w.key, w.value);
            else
                values.remove(w.key);
        }
        return {};
    }
    Result<QPair<qint64, qint64>> incrementWindow(const QByteArray&, const QByteArray&, int) override
    {
        return qMakePair(qint64(1), qint64(0));
    }
    QByteArray mode() const override { return "flaky"; }
};

/// checkAccess() on a store that answers at once (FlakyStore uses the synchronous default).
SessionCache::AccessState stateOf(SessionCache& cache, const QByteArray& accessHash)
{
    std::optional<SessionCache::AccessState> state;
    cache.checkAccess(accessHash, [&](SessionCache::AccessState s) { state = s; });
    if (!state)
        qFatal("checkAccess did not answer synchronously on a synchronous store");
    return *state;
}

QList<QByteArray> keysOf(const QList<KeyValueStore::Write>& writes)
{
    QList<QByteArray> out;
    for (const auto& w : writes)
        out << (w.publish ? "PUBLISH " + w.value : w.key);
    return out;
}
} // namespace

class TestSessionCache : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void revocationDuringAnOutageIsReplayedInOrder()
    {
        FlakyStore store;
        PendingInvalidations pending;
        SessionCache cache(store, pending);
        cache.markLive("a1", QStringLiteral("s1"), 60);
        QCOMPARE(stateOf(cache, "a1"), SessionCache::AccessState::Live);
        store.down = true;
        cache.revoked(QStringLiteral("s1"), "a1", "r1", 60);
        cache.rotated(QStringLiteral("s2"), "a2", "r2", "a2new", 60);
        QCOMPARE(pending.size(), qsizetype(8));
        store.down = false;
        // Still waiting to be replayed: the stale positive entry must not be believed. (This call
        // replays first, so the answer is already the revocation.)
        QCOMPARE(stateOf(cache, "a1"), SessionCache::AccessState::Revoked);
        QCOMPARE(pending.size(), qsizetype(0));
        QCOMPARE(keysOf(store.applied.mid(1)),
                 (QList<QByteArray>{"session:access:a1", "session:refresh:r1", "blacklist:a1", "PUBLISH revoke s1",
                                    "session:access:a2", "session:refresh:r2", "blacklist:a2",
                                    "PUBLISH rotate s2 a2new"}));
        QCOMPARE(stateOf(cache, "a2"), SessionCache::AccessState::RecentlyRotated); // within the overlap
    }

    void positiveEntriesAreNotTrustedWhileInvalidationsWait()
    {
        FlakyStore store;
        PendingInvalidations pending;
        SessionCache cache(store, pending);
        cache.markLive("b1", QStringLiteral("s1"), 60);
        store.down = true;
        cache.revoked(QStringLiteral("other"), "x", "y", 60);
        QCOMPARE(pending.size(), qsizetype(4));
        // Reads work again, writes still fail: the replay cannot happen, and a positive entry
        // alone is not believed (it may be one the waiting invalidations would remove).
        store.down = false;
        store.writesDown = true;
        QCOMPARE(stateOf(cache, "b1"), SessionCache::AccessState::Unknown);
        QCOMPARE(pending.size(), qsizetype(4));
        store.writesDown = false;
        QCOMPARE(stateOf(cache, "b1"), SessionCache::AccessState::Live);
        QCOMPARE(pending.size(), qsizetype(0));
    }

    void writesAddedDuringAReplayAreKeptAndReplayedOnce()
    {
        FlakyStore store;
        PendingInvalidations pending;
        SessionCache cache(store, pending);
        store.down = true;
        cache.revoked(QStringLiteral("s1"), "a1", "r1", 60);
        store.down = false;
        // While the first replay is writing, another worker revokes (and its write fails) and tries
        // to replay too: it must neither replay the same writes again nor have its own dropped.
        store.duringApply = [&] {
            pending.add({{"blacklist:late", "revoked", 60}});
            pending.replay([&](const QList<KeyValueStore::Write>& w) { return bool(store.apply(w)); });
        };
        cache.replayPending();
        QCOMPARE(keysOf(store.applied),
                 (QList<QByteArray>{"session:access:a1", "session:refresh:r1", "blacklist:a1", "PUBLISH revoke s1"}));
        QCOMPARE(pending.size(), qsizetype(1));
        cache.replayPending();
        QCOMPARE(keysOf(store.applied).last(), QByteArray("blacklist:late"));
        QCOMPARE(store.applied.size(), 5);
        QCOMPARE(pending.size(), qsizetype(0));
    }

    void staleRedisConnectionIsReplacedAtOnce()
    {
        const QString url = sharedRedisUrl();
        if (url.isEmpty()) {
            if (servicesRequired())
                QFAIL("EHRS_TEST_REDIS_URL is not set; run through scripts/test.sh");
            QSKIP("no test Redis");
        }
        RedisHealth health;
        const QByteArray name = "test-stale-" + QUuid::createUuid().toByteArray(QUuid::Id128).left(12);
        RedisStore store(*RedisEndpoint::parse(url), health, 250, name);
        const QByteArray key = "test:stale:" + name;
        QVERIFY(store.apply({{key, "before", 60}}));
        auto id = store.command({"CLIENT", "ID"});
        QVERIFY(id);
        RedisHealth adminHealth;
        RedisStore admin(*RedisEndpoint::parse(url), adminHealth);
        QCOMPARE(*admin.command({"CLIENT", "KILL", "ID", *id}), QByteArray("1"));
        // The next write must land now, not after the once-a-second reconnect.
        QVERIFY(store.apply({{key, "after", 60}}));
        QCOMPARE(*admin.command({"GET", key}), QByteArray("after"));
        QVERIFY(*store.command({"CLIENT", "ID"}) != *id);
        QCOMPARE(*admin.command({"CLIENT", "GETNAME"}), QByteArray()); // the admin has no name
        // The store's connection carries its name.
        QVERIFY(admin.command({"CLIENT", "LIST"})->contains("name=" + name + ' '));
        // And reads recover the same way.
        QCOMPARE(*admin.command({"CLIENT", "KILL", "ID", *store.command({"CLIENT", "ID"})}), QByteArray("1"));
        auto values = store.get({key});
        QVERIFY(values);
        QCOMPARE(*(*values)[0], QByteArray("after"));
        (void)admin.command({"DEL", key});
    }

    void restartedRedisIsWrittenAtOnce()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        RedisHealth health;
        RedisStore store(*RedisEndpoint::parse(redis.url()), health);
        QVERIFY(store.apply({{"k", "1", 60}}));
        redis.kill();
        QVERIFY(redis.start()); // same port, empty
        QVERIFY(store.apply({{"k", "2", 60}}));
        QVERIFY(health.up);
        QCOMPARE(*(*store.get({"k"}))[0], QByteArray("2"));
        // Down for real: one fast failure, then no reconnect attempt for a second.
        redis.kill();
        QVERIFY(!store.apply({{"k", "3", 60}}));
        QVERIFY(!health.up);
    }

    void asyncFormsAnswerFromTheEventLoop()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        RedisHealth health;
        RedisStore store(*RedisEndpoint::parse(redis.url()), health);
        store.startAsync();
        std::optional<Result<void>> applied;
        store.applyAsync({{"k1", "v1", 60}, {"k2", "v2", 60}, {"gone", {}, 0}},
                         [&](Result<void> r) { applied = r; });
        QVERIFY(!applied); // not answered before the call returned: nothing waited for Redis
        QTRY_VERIFY(applied);
        QVERIFY(*applied);
        std::optional<Result<KeyValueStore::Values>> values;
        store.getAsync({"k1", "k2", "gone"}, [&](Result<KeyValueStore::Values> r) { values = std::move(r); });
        QVERIFY(!values);
        QTRY_VERIFY(values);
        QVERIFY(*values);
        QCOMPARE((**values)[0], std::optional<QByteArray>("v1"));
        QCOMPARE((**values)[1], std::optional<QByteArray>("v2"));
        QCOMPARE((**values)[2], std::optional<QByteArray>());
        QVERIFY(store.apply({{"window:previous", "7", 60}}));
        for (qint64 expected : {1, 2}) {
            std::optional<Result<QPair<qint64, qint64>>> counts;
            store.incrementWindowAsync("window:current", "window:previous", 60,
                                       [&](Result<QPair<qint64, qint64>> r) { counts = r; });
            QVERIFY(!counts);
            QTRY_VERIFY(counts);
            QVERIFY(*counts);
            QCOMPARE(**counts, qMakePair(expected, qint64(7)));
        }
        RedisStore admin(*RedisEndpoint::parse(redis.url()), health);
        QVERIFY(admin.command({"TTL", "window:current"})->toInt() > 0);
    }

    void asyncWriteOnAStaleConnectionLandsAtOnce()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        RedisHealth health;
        RedisStore store(*RedisEndpoint::parse(redis.url()), health, 250, "stale-async");
        store.startAsync();
        std::optional<Result<void>> first;
        store.applyAsync({{"k", "before", 60}}, [&](Result<void> r) { first = r; });
        QTRY_VERIFY(first);
        QVERIFY(*first);
        // Redis restarts (its connections go stale)...
        redis.kill();
        QVERIFY(redis.start());
        // ...and the next invalidation is written now, not a second later by the retry timer.
        std::optional<Result<void>> second;
        store.applyAsync({{"k", "after", 60}}, [&](Result<void> r) { second = r; });
        QTRY_VERIFY(second);
        QVERIFY(*second);
        RedisHealth adminHealth;
        RedisStore admin(*RedisEndpoint::parse(redis.url()), adminHealth);
        QCOMPARE(*admin.command({"GET", "k"}), QByteArray("after"));
    }

    void frozenRedisBlocksNoCaller()
    {
        RedisProcess redis;
        QVERIFY(redis.start());
        RedisHealth health;
        RedisStore store(*RedisEndpoint::parse(redis.url()), health, 250);
        store.startAsync();
        std::optional<Result<void>> warm;
        store.applyAsync({{"k", "v", 60}}, [&](Result<void> r) { warm = r; });
        QTRY_VERIFY(warm);
        QVERIFY(*warm);
        QVERIFY(::kill(pid_t(redis.pid()), SIGSTOP) == 0);
        auto resume = qScopeGuard([&] { ::kill(pid_t(redis.pid()), SIGCONT); });
        // Every form returns at once and answers "unavailable" after its deadline.
        std::optional<Result<KeyValueStore::Values>> read;
        std::optional<Result<void>> write;
        std::optional<Result<QPair<qint64, qint64>>> count;
        store.getAsync({"k"}, [&](Result<KeyValueStore::Values> r) { read = std::move(r); });
        store.applyAsync({{"k", "w", 60}}, [&](Result<void> r) { write = r; });
        store.incrementWindowAsync("c", "p", 60, [&](Result<QPair<qint64, qint64>> r) { count = r; });
        QVERIFY(!read && !write && !count);
        QTRY_VERIFY(read && write && count);
        QVERIFY(!*read);
        QVERIFY(!*write);
        QVERIFY(!*count);
        QCOMPARE(read->error().code, ErrorCode::Unavailable);
        resume.dismiss();
        QVERIFY(::kill(pid_t(redis.pid()), SIGCONT) == 0);
        // Back: the next command after the retry interval finds it again.
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     std::optional<Result<void>> again;
                                     store.applyAsync({{"k", "x", 60}}, [&](Result<void> r) { again = r; });
                                     QElapsedTimer t;
                                     t.start();
                                     while (!again && t.elapsed() < 2000)
                                         QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
                                     return again && *again;
                                 }()),
                                 10000);
    }
};

QTEST_GUILESS_MAIN(TestSessionCache)
#include "TestSessionCache.moc"
