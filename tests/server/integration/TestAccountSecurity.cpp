// SPDX-License-Identifier: Apache-2.0
// A person's own view of their account's security, against a real server process on the backend
// under test: the sign-in error counts down the last attempts before the lock-out (the same for
// an unknown email) and the lock-out carries IT's help text; new backup codes without turning
// two-step verification off; the account's recent security activity (GET /api/account/activity),
// only the caller's own events and nothing secret.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"
#include "mfa/Totp.h"

#include <QDateTime>
#include <QTest>
#include <QUuid>

using namespace ehrs::test;
using ehrs::server::Totp;

namespace {
const QByteArray kPassword = "a long enough password";
const QString kHelp = QStringLiteral("Call the service desk on 4444 (24 hours).");
using Headers = QList<QPair<QByteArray, QByteArray>>;

QString email(const char* name)
{
    // Rate-limit counters live in the shared Redis across runs: every run uses its own accounts.
    static const QString run = QUuid::createUuid().toString(QUuid::Id128).left(8);
    return QStringLiteral("%1-%2@example.org").arg(QLatin1String(name), run);
}
} // namespace

class TestAccountSecurity : public QObject
{
    Q_OBJECT

    ServerProcess m_server;

    ApiResponse login(const QString& who, const QByteArray& password, const char* device = "iPhone",
                      const Headers& headers = {})
    {
        nlohmann::json body{{"email", who.toStdString()},
                            {"password", password.toStdString()},
                            {"deviceInfo", {{"type", "mobile"}, {"name", device}, {"os", "iOS 17.1"}}}};
        return ApiClient(m_server.url()).request("POST", "/api/auth/login", body, {}, headers);
    }
    ApiResponse call(const QByteArray& method, const QByteArray& path, const nlohmann::json& body,
                     const std::string& bearer)
    {
        return ApiClient(m_server.url()).request(method, path, body, QByteArray::fromStdString(bearer));
    }

private Q_SLOTS:
    void initTestCase()
    {
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
        QVERIFY(m_server.useBackendUnderTest());
        m_server.setEnv(QStringLiteral("RATE_LIMIT_LOGIN_ACCOUNT"), QStringLiteral("5/900"));
        m_server.setEnv(QStringLiteral("LOCKOUT_HELP_TEXT"), kHelp);
        m_server.setEnv(QStringLiteral("NETWORK_LOCATIONS"),
                        QStringLiteral("127.0.0.0/8=St Mary's, Ward 3;::1=St Mary's, Ward 3"));
        for (const char* name : {"nurse", "doctor", "clerk"})
            QVERIFY(m_server.addUser(email(name), QString::fromLatin1(kPassword)));
        QVERIFY(m_server.start());
    }

    void attemptsLeftAreCountedDownAlikeForEveryEmail()
    {
        // The known account and an unknown email get the same answers, attempt by attempt.
        const QString known = email("nurse");
        const QString unknown = email("nobody");
        const std::vector<int> expectedLeft{-1, 3, 2, 1, 0}; // limit 5: said from 3 left on
        for (size_t i = 0; i < expectedLeft.size(); ++i) {
            const QByteArray wrong = "wrong password " + QByteArray::number(int(i));
            const ApiResponse a = login(known, wrong);
            const ApiResponse b = login(unknown, wrong);
            QCOMPARE(a.status, 401);
            QCOMPARE(b.status, 401);
            QCOMPARE(a.body, b.body);
            const int left = a.json.contains("attemptsLeft") ? a.json["attemptsLeft"].get<int>() : -1;
            QVERIFY2(left == expectedLeft[i], a.body.constData());
        }
        // Paused: even the right password waits, and the answer says what IT wants people to do.
        const ApiResponse a = login(known, kPassword);
        const ApiResponse b = login(unknown, kPassword);
        QCOMPARE(a.status, 429);
        QCOMPARE(b.status, 429);
        QVERIFY(!a.header("retry-after").isEmpty());
        QCOMPARE(QString::fromStdString(a.str("helpText")), kHelp);
        QCOMPARE(QString::fromStdString(b.str("helpText")), kHelp);
        QCOMPARE(a.json["error"].dump(), b.json["error"].dump());
        QCOMPARE(a.json["message"].dump(), b.json["message"].dump());
    }

    void newBackupCodesKeepTwoStepOn()
    {
        const QString doctor = email("doctor");
        auto signedIn = login(doctor, kPassword);
        QCOMPARE(signedIn.status, 200);
        const std::string token = signedIn.str("accessToken");
        // Two-step off: nothing to renew.
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes",
                      {{"password", kPassword.toStdString()}, {"code", "x"}}, token)
                     .status,
                 409);
        auto setup = call("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, token);
        QCOMPARE(setup.status, 200);
        const auto secret = Totp::base32Decode(QString::fromStdString(setup.str("secret")));
        QVERIFY(secret);
        auto enabled =
            call("POST", "/api/auth/mfa/enable",
                 {{"code", Totp::code(*secret, QDateTime::currentSecsSinceEpoch()).toStdString()}}, token);
        QCOMPARE(enabled.status, 200);
        std::vector<std::string> old = enabled.json["backupCodes"].get<std::vector<std::string>>();
        QCOMPARE(old.size(), size_t(10));

        // Password and a second factor, both needed; a wrong one changes nothing.
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes", nlohmann::json::object(), token).status, 403);
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes",
                      {{"password", "wrong password!"}, {"code", old[0]}}, token)
                     .status,
                 403);
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes",
                      {{"password", kPassword.toStdString()}, {"code", "000000x"}}, token)
                     .status,
                 403);
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes",
                      {{"password", kPassword.toStdString()}, {"code", old[0]}}, "not-a-token")
                     .status,
                 401);
        // A backup code stands for the second factor (the phone may be the reason for new codes).
        auto renewed = call("POST", "/api/auth/mfa/backup-codes",
                            {{"password", kPassword.toStdString()}, {"code", old[0]}}, token);
        QCOMPARE(renewed.status, 200);
        const auto fresh = renewed.json["backupCodes"].get<std::vector<std::string>>();
        QCOMPARE(fresh.size(), size_t(10));
        for (const std::string& c : fresh)
            QVERIFY(std::find(old.begin(), old.end(), c) == old.end());
        auto me = call("GET", "/api/auth/me", nullptr, token);
        QCOMPARE(me.json["user"]["mfaEnabled"].get<bool>(), true);
        QCOMPARE(me.json["backupCodesRemaining"].get<int>(), 10);

        // The old codes stop working, the new ones sign in.
        auto challenge = login(doctor, kPassword);
        QVERIFY(challenge.json.value("requiresMFA", false));
        QCOMPARE(ApiClient(m_server.url())
                     .request("POST", "/api/auth/verify-mfa",
                              {{"mfaToken", challenge.str("mfaToken")}, {"code", old[1]}})
                     .status,
                 401);
        challenge = login(doctor, kPassword);
        QCOMPARE(ApiClient(m_server.url())
                     .request("POST", "/api/auth/verify-mfa",
                              {{"mfaToken", challenge.str("mfaToken")}, {"code", fresh[0]}})
                     .status,
                 200);
    }

    void activityShowsOnlyTheCallersOwnEvents()
    {
        const QString clerk = email("clerk");
        const QString nurse = email("nurse2");
        QVERIFY(m_server.addUser(nurse, QString::fromLatin1(kPassword)));
        // The clerk: a failed attempt from a browser, then two sign-ins.
        QCOMPARE(
            login(clerk, "wrong password!", "ignored",
                  {{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"}})
                .status,
            401);
        auto phone = login(clerk, kPassword, "Clerk's phone");
        QCOMPARE(phone.status, 200);
        auto ward = login(clerk, kPassword, "ward-pc-12");
        QCOMPARE(ward.status, 200);
        const std::string token = ward.str("accessToken");
        QCOMPARE(call("DELETE", "/api/sessions/" + QByteArray::fromStdString(phone.str("sessionId")), nullptr,
                      token)
                     .status,
                 200);
        // Someone else's events, which the clerk must not see.
        QCOMPARE(login(nurse, "wrong password?", "Mallory's tablet").status, 401);
        QCOMPARE(login(nurse, kPassword, "Nurse's tablet").status, 200);

        auto page = call("GET", "/api/account/activity", nullptr, token);
        QCOMPARE(page.status, 200);
        QCOMPARE(page.header("cache-control"), QByteArray("no-store"));
        const auto& events = page.json["events"];
        QVERIFY2(events.is_array() && events.size() == 4, page.body.constData());
        // Newest first: the sign-out, the two sign-ins, the failure.
        QCOMPARE(events[0]["event"].get<std::string>(), std::string("session_revoked"));
        QCOMPARE(events[0]["isCurrentSession"].get<bool>(), true);
        QCOMPARE(events[1]["event"].get<std::string>(), std::string("login_success"));
        QCOMPARE(events[1]["device"]["name"].get<std::string>(), std::string("ward-pc-12"));
        QCOMPARE(events[2]["event"].get<std::string>(), std::string("login_success"));
        QCOMPARE(events[2]["device"]["name"].get<std::string>(), std::string("Clerk's phone"));
        QCOMPARE(events[2]["isCurrentSession"].get<bool>(), false);
        QCOMPARE(events[3]["event"].get<std::string>(), std::string("login_failure"));
        QCOMPARE(events[3]["reason"].get<std::string>(), std::string("wrong_password"));
        QCOMPARE(events[3]["device"]["browser"].get<std::string>(), std::string("Chrome 120"));
        for (const auto& e : events) {
            QVERIFY(!e["ipAddress"].get<std::string>().empty());
            QCOMPARE(e["place"].get<std::string>(), std::string("St Mary's, Ward 3"));
            QVERIFY(QDateTime::fromString(QString::fromStdString(e["occurredAt"].get<std::string>()),
                                          Qt::ISODateWithMs)
                        .isValid());
        }
        QVERIFY(page.json["nextCursor"].is_null());
        // Nothing of the other account, and nothing secret.
        for (const char* absent : {"Mallory", "Nurse's tablet", kPassword.constData(), "wrong password!",
                                   "emailPseudonym", "Token", "hash"})
            QVERIFY2(!page.body.contains(absent), absent);

        // Pages: one event at a time, following the cursor.
        auto first = call("GET", "/api/account/activity?limit=1", nullptr, token);
        QCOMPARE(first.status, 200);
        QCOMPARE(first.json["events"].size(), size_t(1));
        const std::string cursor = first.str("nextCursor");
        QVERIFY(!cursor.empty());
        auto second =
            call("GET", QByteArray("/api/account/activity?limit=3&cursor=") + cursor.c_str(), nullptr, token);
        QCOMPARE(second.status, 200);
        QCOMPARE(second.json["events"].size(), size_t(3));
        QCOMPARE(second.json["events"][0]["id"].dump(), events[1]["id"].dump());
        QVERIFY(second.json["nextCursor"].is_null());

        // Bad input and no token.
        for (const char* bad :
             {"limit=0", "limit=101", "limit=ten", "cursor=abc", "cursor=1-x", "cursor=1%27--"})
            QCOMPARE(call("GET", QByteArray("/api/account/activity?") + bad, nullptr, token).status, 400);
        QCOMPARE(call("GET", "/api/account/activity", nullptr, "").status, 401);
    }

    void cleanupTestCase() { m_server.stop(); }
};

QTEST_GUILESS_MAIN(TestAccountSecurity)
#include "TestAccountSecurity.moc"
