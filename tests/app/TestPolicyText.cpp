// SPDX-License-Identifier: Apache-2.0
// Issue 14, point 3: the Security page says the session policy in words (app/security/PolicyText),
// from the `policy` object of GET /api/auth/me (app/api/AccountDtos).
#include "api/AccountDtos.h"
#include "security/PolicyText.h"

#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs::app;
using ehrs::SessionPolicyInfo;

class TestPolicyText : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void aWardPolicyInWords()
    {
        const auto info = accountInfoFromJson({{"success", true},
                                               {"user",
                                                {{"id", "u1"},
                                                 {"email", "nurse@example.org"},
                                                 {"name", "Nurse"},
                                                 {"role", "user"},
                                                 {"mfaEnabled", true}}},
                                               {"sessionId", "s1"},
                                               {"backupCodesRemaining", 10},
                                               {"policy",
                                                {{"idleTimeoutSeconds", 900},
                                                 {"absoluteLifetimeSeconds", 43200},
                                                 {"endOnLock", true},
                                                 {"maxSessions", 3},
                                                 {"mfaRequired", true},
                                                 {"deviceClass", "shared_workstation"},
                                                 {"groups", {"nurses", "ward-3"}}}}});
        QVERIFY(info);
        QVERIFY(info->policy);
        QCOMPARE(describePolicy(*info->policy),
                 QStringLiteral(
                     "Signed out after 15 minutes without activity; at most 12 hours; ends when the screen "
                     "locks; two-step verification required; at most 3 sessions"));
        QCOMPARE(describePolicySource(*info->policy),
                 QStringLiteral("Shared workstation · groups: nurses, ward-3"));
    }

    void theDefaultsInWords()
    {
        SessionPolicyInfo p;
        p.idleTimeoutSeconds = 43200;
        p.absoluteLifetimeSeconds = 604800;
        p.deviceClass = QStringLiteral("personal");
        QCOMPARE(describePolicy(p),
                 QStringLiteral("Signed out after 12 hours without activity; at most 7 days"));
        QCOMPARE(describePolicySource(p), QStringLiteral("Personal device"));
        p.maxSessions = 1;
        p.idleTimeoutSeconds = 90;
        QCOMPARE(describePolicy(p),
                 QStringLiteral(
                     "Signed out after 90 seconds without activity; at most 7 days; at most 1 session"));
    }

    void anOlderServerSaysNothing()
    {
        const auto info = accountInfoFromJson({{"user",
                                                {{"id", "u1"},
                                                 {"email", "a@example.org"},
                                                 {"name", "A"},
                                                 {"role", "user"},
                                                 {"mfaEnabled", false}}}});
        QVERIFY(info);
        QVERIFY(!info->policy);
        QVERIFY(describePolicy(SessionPolicyInfo{}).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPolicyText)
#include "TestPolicyText.moc"
