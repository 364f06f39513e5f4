// SPDX-License-Identifier: Apache-2.0
// QueryWatchdog: the deadline of the pools' blocking database calls. A socket armed past its
// deadline is shut down, so that a call blocked reading it returns at once; a socket disarmed in
// time is left alone. (With a frozen PostgreSQL: tests/faults/TestFrozenDatabase.)
#include "db/QueryWatchdog.h"

#include <QElapsedTimer>
#include <QTest>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using ehrs::server::QueryWatchdog;

namespace {
struct SocketPair
{
    int fd[2] = {-1, -1};
    SocketPair() { ::socketpair(AF_UNIX, SOCK_STREAM, 0, fd); }
    ~SocketPair()
    {
        ::close(fd[0]);
        ::close(fd[1]);
    }
};

/// Waits (at most `boundMs`) for `fd` to become readable, then reads: what a blocked libpq call
/// sees. Returns the read's result, or -2 if nothing happened within the bound.
ssize_t blockedRead(int fd, int boundMs)
{
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, boundMs) <= 0)
        return -2;
    char c;
    return ::read(fd, &c, 1);
}
} // namespace

class TestQueryWatchdog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aCallPastItsDeadlineIsCutOff()
    {
        SocketPair s;
        QVERIFY(s.fd[0] >= 0);
        QueryWatchdog watchdog;
        QElapsedTimer t;
        t.start();
        const auto ticket = watchdog.arm(s.fd[0], 100);
        // Nobody writes to the peer: only the watchdog can end this read, with end of file.
        QCOMPARE(blockedRead(s.fd[0], 5000), ssize_t(0));
        QVERIFY2(t.elapsed() >= 90, qPrintable(QString::number(t.elapsed())));
        QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
        QVERIFY(watchdog.disarm(ticket));
        QCOMPARE(watchdog.fired(), std::uint64_t(1));
    }

    void aCallWithinItsDeadlineIsLeftAlone()
    {
        SocketPair s;
        QueryWatchdog watchdog;
        const auto ticket = watchdog.arm(s.fd[0], 60000);
        QCOMPARE(::write(s.fd[1], "x", 1), ssize_t(1));
        QCOMPARE(blockedRead(s.fd[0], 5000), ssize_t(1));
        QVERIFY(!watchdog.disarm(ticket));
        // Still a working socket, both ways.
        QCOMPARE(::write(s.fd[0], "y", 1), ssize_t(1));
        QCOMPARE(blockedRead(s.fd[1], 5000), ssize_t(1));
        QCOMPARE(watchdog.fired(), std::uint64_t(0));
    }

    void eachCallHasItsOwnDeadline()
    {
        SocketPair slow, quick;
        QueryWatchdog watchdog;
        const auto long1 = watchdog.arm(slow.fd[0], 60000);
        const auto short1 = watchdog.arm(quick.fd[0], 50); // armed later, due first
        QCOMPARE(blockedRead(quick.fd[0], 5000), ssize_t(0));
        QVERIFY(watchdog.disarm(short1));
        QVERIFY(!watchdog.disarm(long1));
        QCOMPARE(::write(slow.fd[1], "z", 1), ssize_t(1));
        QCOMPARE(blockedRead(slow.fd[0], 5000), ssize_t(1));
        QVERIFY(!watchdog.disarm(short1)); // a ticket is used once
    }
};

QTEST_GUILESS_MAIN(TestQueryWatchdog)
#include "TestQueryWatchdog.moc"
