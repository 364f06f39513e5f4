// SPDX-License-Identifier: Apache-2.0
// The PIN and workstation-id rules of shared workstations (WorkstationService), and how the
// policy settings of shared workstations combine (PolicyResolver: the shortest shift window and
// the fewest PIN failures win; the shift window never exceeds the session's lifetime).
#include "policy/SessionPolicy.h"
#include "workstation/WorkstationService.h"

#include <QTest>

using namespace ehrs::server;

class TestWorkstationPin : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pinRules_data()
    {
        QTest::addColumn<QString>("pin");
        QTest::addColumn<bool>("ok");
        QTest::newRow("four digits") << "4829" << true;
        QTest::newRow("eight digits") << "48291736" << true;
        QTest::newRow("leading zero") << "0482" << true;
        QTest::newRow("almost a run") << "1235" << true;
        QTest::newRow("two pairs differ") << "1213" << true;
        QTest::newRow("too short") << "482" << false;
        QTest::newRow("too long") << "482917365" << false;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("letters") << "48a9" << false;
        QTest::newRow("space") << "4829 " << false;
        QTest::newRow("arabic-indic digits") << QString::fromUtf8("٤٨٢٩") << false;
        QTest::newRow("all zeros") << "0000" << false;
        QTest::newRow("all same") << "77777777" << false;
        QTest::newRow("run up") << "1234" << false;
        QTest::newRow("run up wraps") << "7890" << false;
        QTest::newRow("run down") << "9876" << false;
        QTest::newRow("run down wraps") << "2109" << false;
        QTest::newRow("repeated pair") << "1212" << false;
        QTest::newRow("repeated pair, six") << "474747" << false;
    }
    void pinRules()
    {
        QFETCH(QString, pin);
        QFETCH(bool, ok);
        const auto r = WorkstationService::checkPin(pin);
        QCOMPARE(bool(r), ok);
        if (!ok) {
            QCOMPARE(r.error().code, ehrs::ErrorCode::InvalidRequest);
            QVERIFY(!r.error().message.contains(pin) || pin.isEmpty());
        }
    }

    void workstationIds_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<bool>("ok");
        QTest::newRow("hex hash") << QString(64, u'a') << true;
        QTest::newRow("name") << "ws-ward3-7f3a9c2e" << true;
        QTest::newRow("with colon") << "ward3:bed12" << true;
        QTest::newRow("too short") << "ws-1" << false;
        QTest::newRow("too long") << QString(65, u'a') << false;
        QTest::newRow("space") << "ward 3 bed" << false;
        QTest::newRow("slash") << "ward3/bed12" << false;
        QTest::newRow("quote") << "ward3'--x" << false;
    }
    void workstationIds()
    {
        QFETCH(QString, id);
        QFETCH(bool, ok);
        QCOMPARE(WorkstationService::isValidWorkstationId(id), ok);
    }

    void shortestShiftWindowWins()
    {
        PolicyRule shared;
        shared.scope = PolicyRule::Scope::DeviceClass;
        shared.name = deviceclass::shared;
        shared.shiftWindowSeconds = 8 * 3600;
        shared.pinMaxFailures = 5;
        PolicyRule nurses;
        nurses.name = QStringLiteral("nurses");
        nurses.shiftWindowSeconds = 10 * 3600;
        nurses.pinMaxFailures = 2;
        PolicyResolver::Defaults defaults;
        auto p = PolicyResolver::resolve(defaults, {shared, nurses}, {QStringLiteral("nurses")},
                                         deviceclass::shared);
        QCOMPARE(p.shiftWindowSeconds, 8 * 3600);
        QCOMPARE(p.pinMaxFailures, 2);
        // None set: the defaults (12 h, 3).
        p = PolicyResolver::resolve(defaults, {}, {}, deviceclass::shared);
        QCOMPARE(p.shiftWindowSeconds, 12 * 3600);
        QCOMPARE(p.pinMaxFailures, 3);
        // Never past the absolute lifetime.
        PolicyRule shortLived = shared;
        shortLived.absoluteLifetimeSeconds = 3600;
        p = PolicyResolver::resolve(defaults, {shortLived}, {}, deviceclass::shared);
        QCOMPARE(p.shiftWindowSeconds, 3600);
        // The JSON round trip keeps them.
        const auto back = SessionPolicy::fromJson(p.toJson());
        QVERIFY(back);
        QCOMPARE(back->shiftWindowSeconds, 3600);
        QCOMPARE(back->pinMaxFailures, 5);
    }
};

QTEST_GUILESS_MAIN(TestWorkstationPin)
#include "TestWorkstationPin.moc"
