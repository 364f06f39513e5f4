// SPDX-License-Identifier: Apache-2.0
// HashingPool: CPU-heavy work off the event loop, answered on the caller's thread, bounded.
#include "auth/HashingPool.h"
#include "auth/PasswordHasher.h"

#include <QSemaphore>
#include <QTest>
#include <QThread>
#include <QTimer>

using namespace ehrs;
using namespace ehrs::server;

class TestHashingPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void resultsComeBackOnTheCallersThread()
    {
        HashingPool pool(2);
        QObject context;
        QThread* ranOn = nullptr;
        QThread* answeredOn = nullptr;
        int value = 0;
        QVERIFY(pool.run<int>(
            &context,
            [&] {
                ranOn = QThread::currentThread();
                return 42;
            },
            [&](int v) {
                answeredOn = QThread::currentThread();
                value = v;
            }));
        QTRY_COMPARE(value, 42);
        QVERIFY(ranOn != QThread::currentThread());
        QCOMPARE(answeredOn, QThread::currentThread());
        QTRY_COMPARE(pool.inFlight(), 0);
    }

    void theEventLoopKeepsTurningWhileAPasswordIsChecked()
    {
        HashingPool pool(1);
        PasswordHasher hasher;
        const auto hash = hasher.hash(QStringLiteral("correct horse battery staple"));
        QVERIFY(hash);
        QObject context;
        std::optional<bool> verified;
        int ticks = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
        ticker.start(5);
        QVERIFY(pool.run<bool>(
            &context,
            [&, h = *hash] { return hasher.verify(h, QStringLiteral("correct horse battery staple")); },
            [&](bool ok) { verified = ok; }));
        QTRY_VERIFY(verified.has_value());
        QVERIFY(*verified);
        // argon2id takes tens of milliseconds; the loop served the timer meanwhile.
        QVERIFY2(ticks >= 3, QByteArray::number(ticks).constData());
    }

    void aFullQueueRefusesAtOnce()
    {
        HashingPool pool(1, 2); // one running, two waiting
        QSemaphore gate;
        QObject context;
        int done = 0;
        for (int i = 0; i < 3; ++i) {
            QVERIFY(pool.run<int>(
                &context,
                [&] {
                    gate.acquire();
                    return 1;
                },
                [&](int v) { done += v; }));
        }
        auto refused = pool.run<int>(
            &context, [] { return 1; }, [&](int v) { done += v; });
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, ErrorCode::Unavailable);
        QVERIFY(refused.error().retryAfterSeconds > 0);
        gate.release(3);
        QTRY_COMPARE(done, 3);
        QTRY_COMPARE(pool.inFlight(), 0);
        QVERIFY(pool.run<int>(
            &context, [] { return 1; }, [&](int v) { done += v; }));
        QTRY_COMPARE(done, 4);
    }

    void noAnswerAfterTheCallerIsGone()
    {
        HashingPool pool(1);
        QSemaphore gate;
        bool called = false;
        {
            QObject context;
            QVERIFY(pool.run<int>(
                &context,
                [&] {
                    gate.acquire();
                    return 1;
                },
                [&](int) { called = true; }));
        }
        gate.release();
        QTRY_COMPARE(pool.inFlight(), 0);
        QTest::qWait(50);
        QVERIFY(!called);
    }
};

QTEST_GUILESS_MAIN(TestHashingPool)
#include "TestHashingPool.moc"
