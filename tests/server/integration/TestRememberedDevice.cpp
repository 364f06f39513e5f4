// SPDX-License-Identifier: Apache-2.0
// Issue 18, remember this device: the real server binary on the embedded SQLite default and on
// PostgreSQL + Redis, with a real SMTP server on loopback. After a second factor with
// rememberDevice, the device credential stands in for it; the device is listed and can be
// forgotten, after which the second factor is asked again; a password change forgets them all.
// A routine sign-in on a known device sends no new-sign-in mail; a new device does.
#include "SignInKit.h"
#include "TestEnvironment.h"

#include <QTest>

using namespace ehrs::test;

class TestRememberedDevice : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
        EHRS_REQUIRE_SMTP_SINK();
    }

    void rememberListForgetAndPasswordChange()
    {
        MailSink sink;
        QVERIFY(sink.start());
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        useMail(server, sink);
        const QString email = QStringLiteral("surgeon@example.org");
        QVERIFY(server.addUser(email, QString::fromLatin1(kKitPassword)));
        QVERIFY(server.start());
        ApiClient api(server.url());

        auto first = signIn(server, email);
        QCOMPARE(first.status, 200);
        const std::string device = first.str("deviceCredential");
        QVERIFY(!device.empty());
        const QByteArray access = QByteArray::fromStdString(first.str("accessToken"));
        QStringList backup = enableMfa(server, access);
        QVERIFY(backup.size() >= 4);

        // Not remembered yet: the second factor is asked on this device too.
        auto challenge = signIn(server, email, {}, device);
        QCOMPARE(challenge.status, 200);
        QCOMPARE(challenge.json.value("requiresMFA", false), true);
        auto bad =
            ApiClient(server.url())
                .request(
                    "POST", "/api/auth/verify-mfa",
                    {{"mfaToken", challenge.str("mfaToken")}, {"code", "123456"}, {"rememberDevice", "yes"}});
        QCOMPARE(bad.status, 400);
        auto verified = secondStep(server, challenge, backup.takeFirst(), device, /*remember=*/true);
        QCOMPARE(verified.status, 200);
        QCOMPARE(verified.json.value("deviceRemembered", false), true);
        QCOMPARE(verified.str("deviceCredential"), device);

        // Remembered: the password alone signs in on this device, and nowhere else.
        auto routine = signIn(server, email, {}, device);
        QCOMPARE(routine.status, 200);
        QVERIFY2(!routine.str("accessToken").empty(), routine.body.constData());
        QCOMPARE(signIn(server, email).json.value("requiresMFA", false), true);

        // Listed in the API.
        auto listed = api.request("GET", "/api/account/devices", nullptr,
                                  QByteArray::fromStdString(routine.str("accessToken")));
        QCOMPARE(listed.status, 200);
        QCOMPARE(listed.json["devices"].size(), size_t(1));
        const std::string id = listed.json["devices"][0]["id"].get<std::string>();
        QVERIFY(!listed.json["devices"][0]["label"].get<std::string>().empty());
        QVERIFY(listed.body.indexOf(QByteArray::fromStdString(device)) < 0); // never the credential

        // Mail: the first sign-in was from a new device; the remembered and MFA sign-ins on it were not.
        QTRY_VERIFY_WITH_TIMEOUT(notifierCaughtUp(server) && outboxEmpty(server), 15000);
        QCOMPARE(sink.withSubject("New sign-in").size(), 1);
        // ... and the challenge-only sign-in from an unknown client above is not a session: no mail.

        // Forgotten: asked again. Someone else's or an unknown id is 404.
        const QByteArray routineAccess = QByteArray::fromStdString(routine.str("accessToken"));
        QCOMPARE(api.request("DELETE", "/api/account/devices/not-a-device", nullptr, routineAccess).status,
                 404);
        QCOMPARE(
            api.request("DELETE", QByteArray("/api/account/devices/") + id.c_str(), nullptr, routineAccess)
                .status,
            200);
        QCOMPARE(
            api.request("DELETE", QByteArray("/api/account/devices/") + id.c_str(), nullptr, routineAccess)
                .status,
            404);
        QCOMPARE(api.request("GET", "/api/account/devices", nullptr, routineAccess).json["devices"].size(),
                 size_t(0));
        auto again = signIn(server, email, {}, device);
        QCOMPARE(again.json.value("requiresMFA", false), true);

        // Remembered again, then a password change forgets every remembered device.
        auto back = secondStep(server, again, backup.takeFirst(), device, true);
        QCOMPARE(back.json.value("deviceRemembered", false), true);
        QVERIFY(!signIn(server, email, {}, device).str("accessToken").empty());
        const QString code = backup.takeFirst();
        auto changed = api.request("POST", "/api/auth/password",
                                   {{"currentPassword", kKitPassword.toStdString()},
                                    {"newPassword", kKitPassword.toStdString() + " too"},
                                    {"code", code.toStdString()}},
                                   QByteArray::fromStdString(back.str("accessToken")));
        QCOMPARE(changed.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(
            scalar(server, QStringLiteral(
                               "SELECT COUNT(*) FROM device_credentials WHERE remembered_until IS NOT NULL")),
            qint64(0), 15000);
        auto afterChange = ApiClient(server.url())
                               .request("POST", "/api/auth/login",
                                        {{"email", email.toStdString()},
                                         {"password", kKitPassword.toStdString() + " too"},
                                         {"deviceCredential", device}});
        QCOMPARE(afterChange.json.value("requiresMFA", false), true);
    }
};

QTEST_GUILESS_MAIN(TestRememberedDevice)
#include "TestRememberedDevice.moc"
