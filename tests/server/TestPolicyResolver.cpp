// SPDX-License-Identifier: Apache-2.0
// Issue 14, point 3: the rule that combines the session policies of a user's groups and of the
// session's device class (docs/workstation-policy.md, "Which value wins"): the strictest value of
// each setting, the server-wide settings where no rule sets one; and the device class of a
// sign-in, which a client can only make stricter than its network says.
#include "policy/SessionPolicy.h"

#include <QTest>

using namespace ehrs::server;

namespace {
const PolicyResolver::Defaults kDefaults{43200, 604800};

PolicyRule group(const char* name)
{
    PolicyRule r;
    r.scope = PolicyRule::Scope::Group;
    r.name = QLatin1String(name);
    return r;
}

PolicyRule device(const QString& name)
{
    PolicyRule r;
    r.scope = PolicyRule::Scope::DeviceClass;
    r.name = name;
    return r;
}
} // namespace

class TestPolicyResolver : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noRuleMeansTheServerDefaults()
    {
        const SessionPolicy p =
            PolicyResolver::resolve(kDefaults, {}, {QStringLiteral("nurses")}, deviceclass::personal);
        QCOMPARE(p.idleTimeoutSeconds, 43200);
        QCOMPARE(p.absoluteLifetimeSeconds, 604800);
        QCOMPARE(p.endOnLock, false);
        QCOMPARE(p.maxSessions, 0);
        QCOMPARE(p.mfaRequired, false);
        QCOMPARE(p.deviceClass, deviceclass::personal);
        QCOMPARE(p.groups, QStringList{QStringLiteral("nurses")});
    }

    void theStrictestValueOfEachSettingWins()
    {
        // A nurse who is also in the ward-3 group, on a shared workstation.
        PolicyRule nurses = group("nurses");
        nurses.idleTimeoutSeconds = 1800;
        nurses.absoluteLifetimeSeconds = 43200;
        nurses.maxSessions = 3;
        PolicyRule ward = group("ward-3");
        ward.idleTimeoutSeconds = 900; // stricter idle
        ward.maxSessions = 0;          // "no limit" is never stricter than a number
        ward.mfaRequired = false;
        PolicyRule shared = device(deviceclass::shared);
        shared.endOnLock = true;
        shared.mfaRequired = true;
        shared.absoluteLifetimeSeconds = 86400;      // looser than the nurses' 12 h: loses
        PolicyRule physicians = group("physicians"); // not the user's: ignored
        physicians.idleTimeoutSeconds = 60;
        physicians.maxSessions = 1;
        const SessionPolicy p = PolicyResolver::resolve(kDefaults, {nurses, ward, shared, physicians},
                                                        {QStringLiteral("ward-3"), QStringLiteral("nurses")},
                                                        deviceclass::shared);
        QCOMPARE(p.idleTimeoutSeconds, 900);
        QCOMPARE(p.absoluteLifetimeSeconds, 43200);
        QCOMPARE(p.endOnLock, true);
        QCOMPARE(p.maxSessions, 3);
        QCOMPARE(p.mfaRequired, true);
        QCOMPARE(p.groups, (QStringList{QStringLiteral("nurses"), QStringLiteral("ward-3")}));

        // The same user on a personal device: the shared-workstation rule does not apply.
        const SessionPolicy personal = PolicyResolver::resolve(
            kDefaults, {nurses, ward, shared, physicians},
            {QStringLiteral("nurses"), QStringLiteral("ward-3")}, deviceclass::personal);
        QCOMPARE(personal.endOnLock, false);
        QCOMPARE(personal.mfaRequired, false);
        QCOMPARE(personal.absoluteLifetimeSeconds, 43200);
    }

    void theLifetimeNeverExceedsTheRefreshTokenLife()
    {
        PolicyRule long_ = group("researchers");
        long_.absoluteLifetimeSeconds = 30 * 86400;
        long_.idleTimeoutSeconds = 86400; // an idle timeout may be longer than the default
        const SessionPolicy p = PolicyResolver::resolve(kDefaults, {long_}, {QStringLiteral("researchers")},
                                                        deviceclass::personal);
        QCOMPARE(p.absoluteLifetimeSeconds, 604800);
        QCOMPARE(p.idleTimeoutSeconds, 86400);
    }

    void theActionOfTheWinningLimitApplies_data()
    {
        QTest::addColumn<int>("limitA");
        QTest::addColumn<bool>("refuseA");
        QTest::addColumn<int>("limitB");
        QTest::addColumn<bool>("refuseB");
        QTest::addColumn<int>("limit");
        QTest::addColumn<bool>("refuse");
        QTest::newRow("default end_oldest") << 3 << false << 0 << false << 3 << false;
        QTest::newRow("smaller limit's action") << 2 << false << 5 << true << 2 << false;
        QTest::newRow("smaller limit refuses") << 5 << false << 2 << true << 2 << true;
        QTest::newRow("tie: refuse wins") << 2 << false << 2 << true << 2 << true;
    }
    void theActionOfTheWinningLimitApplies()
    {
        QFETCH(int, limitA);
        QFETCH(bool, refuseA);
        QFETCH(int, limitB);
        QFETCH(bool, refuseB);
        PolicyRule a = group("a");
        a.maxSessions = limitA;
        a.onLimit = refuseA ? OnSessionLimit::Refuse : OnSessionLimit::EndOldest;
        PolicyRule b = group("b");
        b.maxSessions = limitB;
        b.onLimit = refuseB ? OnSessionLimit::Refuse : OnSessionLimit::EndOldest;
        const SessionPolicy p = PolicyResolver::resolve(
            kDefaults, {a, b}, {QStringLiteral("a"), QStringLiteral("b")}, deviceclass::personal);
        QTEST(p.maxSessions, "limit");
        QTEST(p.onLimit == OnSessionLimit::Refuse, "refuse");
    }

    void deviceClassOfASignIn_data()
    {
        QTest::addColumn<QString>("claimed");
        QTest::addColumn<QString>("address");
        QTest::addColumn<QString>("expected"); // empty: refused
        QTest::newRow("no claim, other network") << QString() << "192.0.2.10" << deviceclass::personal;
        QTest::newRow("shared claim anywhere") << deviceclass::shared << "192.0.2.10" << deviceclass::shared;
        QTest::newRow("personal claim from a pinned network")
            << deviceclass::personal << "10.20.3.4" << deviceclass::shared;
        QTest::newRow("no claim from a pinned network") << QString() << "10.20.3.4" << deviceclass::shared;
        QTest::newRow("mapped v4 in a pinned network")
            << QString() << "::ffff:10.20.3.4" << deviceclass::shared;
        QTest::newRow("pinned v6") << deviceclass::personal << "2001:db8:5::7" << deviceclass::shared;
        QTest::newRow("unknown class") << QStringLiteral("kiosk") << "192.0.2.10" << QString();
    }
    void deviceClassOfASignIn()
    {
        QFETCH(QString, claimed);
        QFETCH(QString, address);
        QFETCH(QString, expected);
        auto networks = PolicyResolver::parseNetworks(QStringLiteral("10.20.0.0/16, 2001:db8:5::/48"));
        QVERIFY(networks);
        auto c = PolicyResolver::deviceClassOf(claimed, address, *networks);
        if (expected.isEmpty()) {
            QVERIFY(!c);
            QVERIFY2(c.error().message.contains(QStringLiteral("personal")), qPrintable(c.error().message));
        } else {
            QVERIFY2(c, c ? "" : qPrintable(c.error().message));
            QCOMPARE(*c, expected);
        }
    }

    void badNetworksAreRefused_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("abbreviated") << QStringLiteral("10.20/16");
        QTest::newRow("prefix too long") << QStringLiteral("10.0.0.0/33");
        QTest::newRow("word") << QStringLiteral("ward3");
    }
    void badNetworksAreRefused()
    {
        QFETCH(QString, text);
        auto n = PolicyResolver::parseNetworks(text);
        QVERIFY(!n);
        QVERIFY2(n.error().message.startsWith(QStringLiteral("SHARED_WORKSTATION_NETWORKS")),
                 qPrintable(n.error().message));
    }

    void thePolicyObjectHasTheAgreedNames()
    {
        SessionPolicy p;
        p.idleTimeoutSeconds = 900;
        p.absoluteLifetimeSeconds = 43200;
        p.endOnLock = true;
        p.maxSessions = 3;
        p.mfaRequired = true;
        p.deviceClass = deviceclass::shared;
        p.groups = {QStringLiteral("nurses")};
        const nlohmann::json j = p.toJson();
        QCOMPARE(j.size(), size_t(9)); // + shiftWindowSeconds, pinMaxFailures (shared workstations)
        QCOMPARE(j.at("shiftWindowSeconds").get<int>(), 43200);
        QCOMPARE(j.at("pinMaxFailures").get<int>(), 3);
        QCOMPARE(j.at("idleTimeoutSeconds").get<int>(), 900);
        QCOMPARE(j.at("absoluteLifetimeSeconds").get<int>(), 43200);
        QCOMPARE(j.at("endOnLock").get<bool>(), true);
        QCOMPARE(j.at("maxSessions").get<int>(), 3);
        QCOMPARE(j.at("mfaRequired").get<bool>(), true);
        QCOMPARE(j.at("deviceClass").get<std::string>(), std::string("shared_workstation"));
        QVERIFY(j.at("groups") == nlohmann::json::array({"nurses"}));
        QVERIFY(SessionPolicy::fromJson(j) == p);
    }
};

QTEST_GUILESS_MAIN(TestPolicyResolver)
#include "TestPolicyResolver.moc"
