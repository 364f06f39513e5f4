// SPDX-License-Identifier: Apache-2.0
// The hand-written ISO 8601 formatter against Qt's, over edge dates and many random instants.
#include "WireModels.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <QTest>

using namespace ehrs;

class TestIsoTime : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void knownInstants_data();
    void knownInstants();
    void matchesQtEverywhere();
    void invalidIsEmpty();
    void roundTrips();
};

void TestIsoTime::knownInstants_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("iso");
    QTest::newRow("epoch") << qint64(0) << QStringLiteral("1970-01-01T00:00:00.000Z");
    QTest::newRow("before epoch") << qint64(-1) << QStringLiteral("1969-12-31T23:59:59.999Z");
    QTest::newRow("leap day") << qint64(951'825'600'123) << QStringLiteral("2000-02-29T12:00:00.123Z");
    QTest::newRow("end of 2026") << qint64(1'798'761'599'999) << QStringLiteral("2026-12-31T23:59:59.999Z");
    QTest::newRow("2100 not leap") << qint64(4'107'542'400'000) << QStringLiteral("2100-03-01T00:00:00.000Z");
}

void TestIsoTime::knownInstants()
{
    QFETCH(qint64, ms);
    QFETCH(QString, iso);
    QCOMPARE(QString::fromStdString(isoStringFromMs(ms)), iso);
}

void TestIsoTime::matchesQtEverywhere()
{
    QRandomGenerator rng(20261128);
    for (int i = 0; i < 200'000; ++i) {
        // 1900 .. 2300, millisecond resolution
        const qint64 ms = qint64(rng.bounded(Q_INT64_C(13'253'932'800'000))) - Q_INT64_C(2'208'988'800'000);
        const QString qt = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
        const QString ours = QString::fromStdString(isoStringFromMs(ms));
        if (ours != qt)
            QFAIL(qPrintable(QStringLiteral("%1: %2 != %3").arg(ms).arg(ours, qt)));
    }
}

void TestIsoTime::invalidIsEmpty()
{
    QVERIFY(toIsoString(QDateTime()).empty());
}

void TestIsoTime::roundTrips()
{
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(1'795'000'123'456, Qt::UTC);
    QCOMPARE(fromIsoString(toIsoString(t)), t);
    // A local-time QDateTime is written in UTC.
    const QDateTime local = t.toOffsetFromUtc(3600);
    QCOMPARE(toIsoString(local), toIsoString(t));
}

QTEST_GUILESS_MAIN(TestIsoTime)
#include "TestIsoTime.moc"
