// SPDX-License-Identifier: Apache-2.0
// Suspicious sign-in scoring (server/risk/SignInRisk): a pure function of the signals, with the
// clock as a plain number (a fake clock), and the words people read.
#include "risk/SignInRisk.h"

#include <QTest>

Q_DECLARE_METATYPE(ehrs::server::SignInSignals)

using namespace ehrs::server;

namespace {
constexpr qint64 kNow = 1'800'000'000'000; // a fixed "now" (ms)
constexpr qint64 kMinute = 60'000;

SignInPlace berlin()
{
    return {QStringLiteral("geo:DE/Berlin"), QStringLiteral("Berlin, Germany"), 52.52, 13.405};
}
SignInPlace lisbon()
{
    return {QStringLiteral("geo:PT/Lisbon"), QStringLiteral("Lisbon, Portugal"), 38.7223, -9.1393};
}
SignInPlace potsdam()
{
    return {QStringLiteral("geo:DE/Potsdam"), QStringLiteral("Potsdam, Germany"), 52.3906, 13.0645};
}

SignInSignals routine()
{
    SignInSignals s;
    s.nowMs = kNow;
    s.knownDevice = true;
    s.place = berlin();
    s.browserFamily = QStringLiteral("Firefox on Linux");
    s.history = {PastSignIn{kNow - 24 * 60 * kMinute, berlin(), QStringLiteral("Firefox on Linux")}};
    return s;
}
} // namespace

class TestSignInRisk : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void distanceIsGreatCircle()
    {
        // Berlin - Lisbon is about 2,310 km.
        const double km = SignInRisk::distanceKm(52.52, 13.405, 38.7223, -9.1393);
        QVERIFY2(km > 2290 && km < 2330, qPrintable(QString::number(km)));
        QCOMPARE(SignInRisk::distanceKm(10, 10, 10, 10), 0.0);
    }

    void durationsInWords_data()
    {
        QTest::addColumn<qint64>("ms");
        QTest::addColumn<QString>("words");
        QTest::newRow("seconds") << qint64(10'000) << QStringLiteral("1 minute");
        QTest::newRow("minutes") << 20 * kMinute << QStringLiteral("20 minutes");
        QTest::newRow("hours") << 5 * 60 * kMinute << QStringLiteral("5 hours");
        QTest::newRow("days") << 3 * 24 * 60 * kMinute << QStringLiteral("3 days");
    }
    void durationsInWords()
    {
        QFETCH(qint64, ms);
        QFETCH(QString, words);
        QCOMPARE(SignInRisk::duration(ms), words);
    }

    void scoring_data()
    {
        QTest::addColumn<SignInSignals>("signals");
        QTest::addColumn<QStringList>("fired");
        QTest::addColumn<bool>("suspicious");

        QTest::newRow("routine") << routine() << QStringList() << false;

        SignInSignals newDevice = routine();
        newDevice.knownDevice = false;
        QTest::newRow("new device alone") << newDevice << QStringList{QStringLiteral("new_device")} << false;

        SignInSignals firstEver = routine();
        firstEver.knownDevice = false;
        firstEver.history.clear();
        firstEver.place = lisbon();
        QTest::newRow("first sign-in of an account: nothing to compare with")
            << firstEver << QStringList{QStringLiteral("new_device")} << false;

        SignInSignals travel = routine();
        travel.place = lisbon();
        travel.history.front().atMs = kNow - 20 * kMinute;
        QTest::newRow("new country, impossible travel, remembered device")
            << travel << QStringList{QStringLiteral("new_place"), QStringLiteral("impossible_travel")}
            << true;

        SignInSignals slow = travel;
        slow.history.front().atMs = kNow - 10 * 60 * kMinute; // 10 h for 2,300 km: possible
        QTest::newRow("new country after a plausible journey")
            << slow << QStringList{QStringLiteral("new_place")} << false;

        SignInSignals near = routine();
        near.place = potsdam();
        near.history.front().atMs = kNow - 5 * kMinute; // 27 km: GeoIP noise, never travel
        QTest::newRow("nearby city minutes later")
            << near << QStringList{QStringLiteral("new_place")} << false;

        SignInSignals burst = routine();
        burst.recentFailures = 4;
        QTest::newRow("failure burst") << burst << QStringList{QStringLiteral("failure_burst")} << false;

        SignInSignals burstNewDevice = burst;
        burstNewDevice.knownDevice = false;
        QTest::newRow("failure burst on a new device")
            << burstNewDevice << QStringList{QStringLiteral("new_device"), QStringLiteral("failure_burst")}
            << true;

        SignInSignals browser = routine();
        browser.browserFamily = QStringLiteral("Chrome on Windows");
        QTest::newRow("new browser family")
            << browser << QStringList{QStringLiteral("new_browser_family")} << false;
    }
    void scoring()
    {
        QFETCH(SignInSignals, signals);
        QFETCH(QStringList, fired);
        QFETCH(bool, suspicious);
        const RiskAssessment r = SignInRisk::assess(signals, RiskPolicy{});
        QCOMPARE(r.signals, fired);
        QCOMPARE(r.reasons.size(), fired.size());
        QCOMPARE(r.suspicious, suspicious);
    }

    void reasonsInWords()
    {
        SignInSignals s = routine();
        s.place = lisbon();
        s.history.front().atMs = kNow - 20 * kMinute;
        const RiskAssessment r = SignInRisk::assess(s, RiskPolicy{});
        QCOMPARE(r.reasons.value(0), QStringLiteral("first sign-in from Lisbon, Portugal"));
        QVERIFY2(r.reasons.value(1).startsWith(QStringLiteral("2,3")), qPrintable(r.reasons.value(1)));
        QVERIFY2(r.reasons.value(1).endsWith(
                     QStringLiteral(" km from your sign-in in Berlin, Germany 20 minutes earlier")),
                 qPrintable(r.reasons.value(1)));
        QCOMPARE(r.score, RiskPolicy::kNewPlace + RiskPolicy::kImpossibleTravel);
    }

    void thresholdAndSpeedAreTunable()
    {
        SignInSignals s = routine();
        s.knownDevice = false;
        RiskPolicy strict;
        strict.threshold = 20;
        QVERIFY(SignInRisk::assess(s, strict).suspicious);

        SignInSignals travel = routine();
        travel.place = lisbon();
        travel.history.front().atMs = kNow - 2 * 60 * kMinute; // ~1,155 km/h
        QVERIFY(
            SignInRisk::assess(travel, RiskPolicy{}).signals.contains(QStringLiteral("impossible_travel")));
        RiskPolicy jets;
        jets.maxKmh = 1500;
        QVERIFY(!SignInRisk::assess(travel, jets).signals.contains(QStringLiteral("impossible_travel")));
    }
};

QTEST_GUILESS_MAIN(TestSignInRisk)
#include "TestSignInRisk.moc"
