// SPDX-License-Identifier: Apache-2.0
// The sliding-window limiter with a fake clock and the in-process store: limits hold, and the wait
// a 429 announces (Retry-After) is the one that works: trying again then passes, a second earlier not.
#include "Clock.h"
#include "cache/MemoryStore.h"
#include "ratelimit/RateLimiter.h"

#include <QTest>

using namespace ehrs;
using namespace ehrs::server;

namespace {
class ManualClock final : public Clock
{
public:
    qint64 nowMs() const override { return now; }
    qint64 now = 0;
};
} // namespace

class TestRateLimiter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void limitHolds();
    void retryAfterIsTheWaitThatWorks_data();
    void retryAfterIsTheWaitThatWorks();
    void zeroLimitIsUnlimited();
};

void TestRateLimiter::limitHolds()
{
    ManualClock clock;
    clock.now = 1'000'000'000'000;
    MemoryStore store(clock);
    RateLimiter limiter(nullptr, store, clock);
    const RateLimitRule rule{3, 60};
    for (int i = 0; i < 3; ++i)
        QVERIFY(limiter.hit("login", "a", rule));
    auto fourth = limiter.hit("login", "a", rule);
    QVERIFY(!fourth);
    QCOMPARE(fourth.error().code, ErrorCode::RateLimited);
    QVERIFY(fourth.error().retryAfterSeconds >= 1);
    QVERIFY(limiter.hit("login", "b", rule)); // another subject has its own budget
    QVERIFY(!limiter.check("login", "a", rule));
}

void TestRateLimiter::retryAfterIsTheWaitThatWorks_data()
{
    QTest::addColumn<int>("limit");
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("events"); // failures counted, spread evenly over `spreadSeconds`
    QTest::addColumn<int>("spreadSeconds");
    QTest::addColumn<qint64>("startOffsetMs"); // where in a window the first event falls
    QTest::newRow("burst at window start") << 10 << 900 << 10 << 0 << qint64(0);
    QTest::newRow("burst mid window") << 10 << 900 << 10 << 0 << qint64(450'000);
    QTest::newRow("burst at window end") << 10 << 900 << 10 << 0 << qint64(899'000);
    QTest::newRow("spread over two windows") << 10 << 900 << 16 << 1200 << qint64(300'000);
    QTest::newRow("over the limit") << 5 << 300 << 9 << 100 << qint64(250'000);
    QTest::newRow("limit of one") << 1 << 60 << 1 << 0 << qint64(30'000);
    QTest::newRow("short window") << 30 << 60 << 40 << 50 << qint64(20'000);
}

void TestRateLimiter::retryAfterIsTheWaitThatWorks()
{
    QFETCH(int, limit);
    QFETCH(int, window);
    QFETCH(int, events);
    QFETCH(int, spreadSeconds);
    QFETCH(qint64, startOffsetMs);
    ManualClock clock;
    const qint64 windowMs = qint64(window) * 1000;
    clock.now = windowMs * 1'000'000 + startOffsetMs;
    MemoryStore store(clock);
    RateLimiter limiter(nullptr, store, clock);
    const RateLimitRule rule{limit, window};
    for (int i = 0; i < events; ++i) {
        (void)limiter.hit("login", "x", rule);
        if (events > 1)
            clock.now += qint64(spreadSeconds) * 1000 / (events - 1);
    }
    auto denied = limiter.check("login", "x", rule);
    QVERIFY2(!denied, "the setup should be over the limit");
    const int wait = denied.error().retryAfterSeconds;
    QVERIFY(wait >= 1);
    QVERIFY(wait <= 2 * window + 1);
    const qint64 deniedAt = clock.now;
    if (wait > 1) {
        clock.now = deniedAt + qint64(wait - 1) * 1000 - 1; // clearly before the announced time
        QVERIFY2(!limiter.check("login", "x", rule),
                 qPrintable(QStringLiteral("wait %1 s is too long").arg(wait)));
    }
    clock.now = deniedAt + qint64(wait) * 1000;
    QVERIFY2(limiter.check("login", "x", rule),
             qPrintable(QStringLiteral("still limited after %1 s").arg(wait)));
}

void TestRateLimiter::zeroLimitIsUnlimited()
{
    ManualClock clock;
    MemoryStore store(clock);
    RateLimiter limiter(nullptr, store, clock);
    for (int i = 0; i < 100; ++i)
        QVERIFY(limiter.hit("login", "a", RateLimitRule{0, 1}));
}

QTEST_GUILESS_MAIN(TestRateLimiter)
#include "TestRateLimiter.moc"
