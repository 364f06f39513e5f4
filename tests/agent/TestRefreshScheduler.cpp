// SPDX-License-Identifier: Apache-2.0
#include "FakeClock.h"
#include "refresh/RefreshScheduler.h"

#include <QSignalSpy>
#include <QTest>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::FakeClock;

class TestRefreshScheduler : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void schedulesAt80PercentOfLifetime_data();
    void schedulesAt80PercentOfLifetime();
    void backoffGrowsAndResetsOnSuccess();
    void retryAfterIsHonoured();
    void networkBackRetriesAtOnce();
    void networkBackWithoutFailureChangesNothing();
    void resumeFromSleepRefreshesAtOnce();
    void wallClockSetWithoutSleepKeepsDeadline();
    void sleepPastExpiryIsDueOnPoll();
    void stopCancels();
    void realTimerFires();
};

namespace {
struct Fixture
{
    FakeClock clock;
    double u = 0.5;
    RefreshScheduler scheduler{clock, RefreshPolicy(), [this] { return u; }};
    qint64 due() const { return *scheduler.deadlineMs() - clock.elapsedMs(); }
};
} // namespace

void TestRefreshScheduler::schedulesAt80PercentOfLifetime_data()
{
    QTest::addColumn<qint64>("lifetime");
    QTest::addColumn<double>("u");
    QTest::addColumn<qint64>("expectedMs");
    QTest::newRow("900 s, u=0.5") << qint64(900) << 0.5 << qint64(720'000);
    QTest::newRow("900 s, u=0") << qint64(900) << 0.0 << qint64(675'000);
    QTest::newRow("6 s") << qint64(6) << 0.5 << qint64(4'800);
}

void TestRefreshScheduler::schedulesAt80PercentOfLifetime()
{
    QFETCH(qint64, lifetime);
    QFETCH(double, u);
    QFETCH(qint64, expectedMs);
    Fixture f;
    f.u = u;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    f.scheduler.tokenReceived(lifetime);
    QVERIFY(f.scheduler.isScheduled());
    QCOMPARE(f.due(), expectedMs);
    f.clock.advance(expectedMs - 1);
    f.scheduler.poll();
    QCOMPARE(due.count(), 0);
    f.clock.advance(1);
    f.scheduler.poll();
    QCOMPARE(due.count(), 1);
    QVERIFY(!f.scheduler.isScheduled());
    f.scheduler.poll();
    QCOMPARE(due.count(), 1); // fires once per schedule
}

void TestRefreshScheduler::backoffGrowsAndResetsOnSuccess()
{
    Fixture f;
    f.u = 0.0;
    const Error network{ErrorCode::NetworkError, QStringLiteral("down")};
    QList<qint64> delays;
    for (int i = 0; i < 5; ++i) {
        f.scheduler.refreshFailed(network);
        delays << f.due();
    }
    QCOMPARE(delays, (QList<qint64>{500, 1000, 2000, 4000, 8000}));
    QCOMPARE(f.scheduler.failedAttempts(), 5);
    f.scheduler.tokenReceived(900);
    QCOMPARE(f.scheduler.failedAttempts(), 0);
    f.scheduler.refreshFailed(network);
    QCOMPARE(f.due(), 500);
}

void TestRefreshScheduler::retryAfterIsHonoured()
{
    Fixture f;
    f.scheduler.refreshFailed(Error{ErrorCode::Unavailable, QStringLiteral("maintenance"), 120});
    QCOMPARE(f.due(), 120'000);
}

void TestRefreshScheduler::networkBackRetriesAtOnce()
{
    Fixture f;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    for (int i = 0; i < 6; ++i)
        f.scheduler.refreshFailed(Error{ErrorCode::NetworkError, QStringLiteral("down")});
    QVERIFY(f.due() > 10'000);
    f.scheduler.networkAvailable();
    QCOMPARE(f.due(), 0);
    f.scheduler.poll();
    QCOMPARE(due.count(), 1);
}

void TestRefreshScheduler::networkBackWithoutFailureChangesNothing()
{
    Fixture f;
    f.scheduler.tokenReceived(900);
    const qint64 before = f.due();
    f.scheduler.networkAvailable();
    QCOMPARE(f.due(), before);
}

void TestRefreshScheduler::resumeFromSleepRefreshesAtOnce()
{
    Fixture f;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    QSignalSpy resumed(&f.scheduler, &RefreshScheduler::resumedFromSleep);
    f.scheduler.tokenReceived(900);
    f.clock.advance(60'000);
    f.clock.sleep(120'000); // 3 min into a 15 min token: not expired, but the session may be gone
    f.scheduler.clockChanged();
    QCOMPARE(resumed.count(), 1);
    QCOMPARE(resumed.at(0).at(0).toLongLong(), 120'000);
    QCOMPARE(f.due(), 0);
    f.scheduler.poll();
    QCOMPARE(due.count(), 1);
}

void TestRefreshScheduler::wallClockSetWithoutSleepKeepsDeadline()
{
    Fixture f;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    f.scheduler.tokenReceived(900);
    const qint64 deadline = *f.scheduler.deadlineMs();
    f.clock.setWall(f.clock.now().addSecs(3600)); // NTP / the user set the clock
    f.scheduler.clockChanged();
    QCOMPARE(*f.scheduler.deadlineMs(), deadline);
    QCOMPARE(due.count(), 0);
}

void TestRefreshScheduler::sleepPastExpiryIsDueOnPoll()
{
    Fixture f;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    f.scheduler.tokenReceived(900);
    f.clock.sleep(3'600'000);
    // Even without a clock-jump notification, the deadline is on the suspend-counting clock.
    f.scheduler.poll();
    QCOMPARE(due.count(), 1);
}

void TestRefreshScheduler::stopCancels()
{
    Fixture f;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    f.scheduler.tokenReceived(6);
    f.scheduler.stop();
    QVERIFY(!f.scheduler.isScheduled());
    f.clock.advance(10'000);
    f.scheduler.poll();
    f.scheduler.networkAvailable();
    QCOMPARE(due.count(), 0);
}

void TestRefreshScheduler::realTimerFires()
{
    // With a real clock source the internal timer drives poll(); refreshNow() is due on the next
    // event-loop turn.
    Fixture f;
    QSignalSpy due(&f.scheduler, &RefreshScheduler::refreshDue);
    f.scheduler.refreshNow();
    QCOMPARE(due.count(), 0); // never synchronously
    QVERIFY(due.wait(1000));
}

QTEST_GUILESS_MAIN(TestRefreshScheduler)
#include "TestRefreshScheduler.moc"
