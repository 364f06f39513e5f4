// SPDX-License-Identifier: Apache-2.0
#include "refresh/RefreshPolicy.h"

#include <QTest>

using namespace ehrs::agent;

class TestRefreshPolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void refreshDelay_data();
    void refreshDelay();
    void refreshDelayIsAbout80Percent();
    void backoff_data();
    void backoff();
    void backoffNeverDecreasesBeforeCap();
};

void TestRefreshPolicy::refreshDelay_data()
{
    QTest::addColumn<qint64>("lifetimeMs");
    QTest::addColumn<double>("u");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("15 min, low jitter") << qint64(900'000) << 0.0 << qint64(675'000);
    QTest::newRow("15 min, mid jitter") << qint64(900'000) << 0.5 << qint64(720'000);
    QTest::newRow("15 min, high jitter") << qint64(900'000) << 0.999999 << qint64(765'000);
    QTest::newRow("6 s test TTL") << qint64(6'000) << 0.5 << qint64(4'800);
    QTest::newRow("1 s: floor is half the life") << qint64(1'000) << 0.0 << qint64(750);
    QTest::newRow("400 ms: floor capped by half") << qint64(400) << 0.0 << qint64(300);
    QTest::newRow("expired") << qint64(0) << 0.5 << qint64(0);
    QTest::newRow("negative") << qint64(-5) << 0.5 << qint64(0);
    QTest::newRow("u out of range") << qint64(10'000) << 7.0 << qint64(8'500);
    QTest::newRow("u NaN") << qint64(10'000) << std::nan("") << qint64(7'500);
}

void TestRefreshPolicy::refreshDelay()
{
    QFETCH(qint64, lifetimeMs);
    QFETCH(double, u);
    QFETCH(qint64, expected);
    QCOMPARE(RefreshPolicy().refreshDelayMs(lifetimeMs, u), expected);
}

void TestRefreshPolicy::refreshDelayIsAbout80Percent()
{
    const RefreshPolicy policy;
    for (int i = 0; i < 100; ++i) {
        const double u = i / 100.0;
        const qint64 d = policy.refreshDelayMs(900'000, u);
        QVERIFY(d >= 675'000);
        QVERIFY(d < 900'000 * 0.86);
    }
}

void TestRefreshPolicy::backoff_data()
{
    QTest::addColumn<int>("attempt");
    QTest::addColumn<double>("u");
    QTest::addColumn<int>("retryAfter");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("1st, no jitter") << 1 << 0.0 << 0 << qint64(500);
    QTest::newRow("1st, full jitter") << 1 << 0.999999 << 0 << qint64(1'000);
    QTest::newRow("2nd") << 2 << 0.0 << 0 << qint64(1'000);
    QTest::newRow("3rd mid") << 3 << 0.5 << 0 << qint64(3'000);
    QTest::newRow("10th is capped") << 10 << 0.999999 << 0 << qint64(300'000);
    QTest::newRow("100th is capped") << 100 << 0.0 << 0 << qint64(150'000);
    QTest::newRow("Retry-After is a floor") << 1 << 0.0 << 30 << qint64(30'000);
    QTest::newRow("Retry-After below backoff") << 10 << 0.0 << 2 << qint64(150'000);
    QTest::newRow("huge Retry-After is capped at 1 h") << 1 << 0.0 << 999'999 << qint64(3'600'000);
    QTest::newRow("attempt 0 behaves as 1") << 0 << 0.0 << 0 << qint64(500);
}

void TestRefreshPolicy::backoff()
{
    QFETCH(int, attempt);
    QFETCH(double, u);
    QFETCH(int, retryAfter);
    QFETCH(qint64, expected);
    QCOMPARE(RefreshPolicy().backoffDelayMs(attempt, u, retryAfter), expected);
}

void TestRefreshPolicy::backoffNeverDecreasesBeforeCap()
{
    const RefreshPolicy policy;
    qint64 previousMax = 0;
    for (int attempt = 1; attempt < 20; ++attempt) {
        const qint64 lo = policy.backoffDelayMs(attempt, 0.0);
        const qint64 hi = policy.backoffDelayMs(attempt, 0.999999);
        QVERIFY(lo <= hi);
        QVERIFY(hi >= previousMax);
        QVERIFY(hi <= policy.settings().maxBackoffMs);
        previousMax = hi;
    }
}

QTEST_GUILESS_MAIN(TestRefreshPolicy)
#include "TestRefreshPolicy.moc"
