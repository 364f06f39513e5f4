// SPDX-License-Identifier: Apache-2.0
// The real ClockJumpWatcher against the real CLOCK_REALTIME. A clock set is what resume from
// suspend and NTP steps look like to the kernel, so the test sets the clock itself, to the value
// it has just read: a discontinuous set that moves the host clock back by a few microseconds and
// no more. Needs CAP_SYS_TIME (root in CI); skipped without it.
#include "AgentProcess.h"
#include "refresh/ClockJumpWatcher.h"

#include <QSignalSpy>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <ctime>

using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;

namespace {
/// Sets CLOCK_REALTIME to its own current value; 0 or the errno of clock_settime().
int setClockToNow()
{
    timespec now{};
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return errno;
    return clock_settime(CLOCK_REALTIME, &now) == 0 ? 0 : errno;
}

qint64 threadCpuMs()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return qint64(t.tv_sec) * 1000 + t.tv_nsec / 1'000'000;
}
} // namespace

#define SET_CLOCK_OR_SKIP()                                                                                  \
    do {                                                                                                     \
        const int err = setClockToNow();                                                                     \
        if (err == EPERM)                                                                                    \
            QSKIP("clock_settime(CLOCK_REALTIME) needs CAP_SYS_TIME (run as root, as CI does)");             \
        QVERIFY2(err == 0, std::strerror(err));                                                              \
    } while (false)

class TestClockJumpWatcher : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void quietWhileTheClockIsLeftAlone();
    void clockSetEmitsClockJumped();
    void rearmsAfterEachJump();
    void agentReactsToClockSet();
};

void TestClockJumpWatcher::quietWhileTheClockIsLeftAlone()
{
    ClockJumpWatcher watcher;
    QVERIFY(watcher.isActive());
    QSignalSpy jumped(&watcher, &ClockJumpWatcher::clockJumped);
    // The timer is armed to expire never: it must not fire by itself, nor spin (an expiry in the
    // past would wake the event loop again and again without any signal). A clock step by NTP on
    // the host could make this fail; timesyncd slews small offsets instead.
    const qint64 cpuBefore = threadCpuMs();
    QVERIFY(!jumped.wait(500));
    QCOMPARE_LT(threadCpuMs() - cpuBefore, 100);
}

void TestClockJumpWatcher::clockSetEmitsClockJumped()
{
    ClockJumpWatcher watcher;
    QVERIFY(watcher.isActive());
    QSignalSpy jumped(&watcher, &ClockJumpWatcher::clockJumped);
    SET_CLOCK_OR_SKIP();
    QVERIFY(jumped.wait(5000));
    // Once per set: the cancelled read is consumed, so the notifier does not keep firing.
    QVERIFY(!jumped.wait(200));
    QCOMPARE(jumped.count(), 1);
}

void TestClockJumpWatcher::rearmsAfterEachJump()
{
    ClockJumpWatcher watcher;
    QSignalSpy jumped(&watcher, &ClockJumpWatcher::clockJumped);
    for (int i = 1; i <= 3; ++i) {
        SET_CLOCK_OR_SKIP();
        QVERIFY2(jumped.wait(5000), qPrintable(QStringLiteral("no signal for clock set #%1").arg(i)));
        QCOMPARE(jumped.count(), i);
    }
}

void TestClockJumpWatcher::agentReactsToClockSet()
{
    // The wiring in main.cpp: the daemon's watcher reaches RefreshScheduler::clockChanged(). A set
    // without a suspend only re-checks the refresh deadline, which changes nothing a client can
    // see, so the scheduler's debug line is what shows it (a suspend cannot be faked in a test).
    AgentProcess agent;
    agent.setEnv(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("ehrs.agent.refresh.debug=true"));
    QVERIFY(agent.start());
    const QByteArray marker = "wall clock set without a suspend";
    QVERIFY(!agent.log().contains(marker));
    SET_CLOCK_OR_SKIP();
    QTRY_VERIFY2_WITH_TIMEOUT(agent.log().contains(marker), agent.log().constData(), 5000);
    QVERIFY(agent.isRunning());
}

QTEST_GUILESS_MAIN(TestClockJumpWatcher)
#include "TestClockJumpWatcher.moc"
