// SPDX-License-Identifier: Apache-2.0
// Real responses of a running `ehr-sessions-server` (ServerProcess) to every operation that
// docs/openapi.yaml documents, successes and errors, checked against the document's schemas by
// an outside validator (Ajv, through tests/openapi/check_responses.mjs). Runs on the embedded
// SQLite default and on PostgreSQL + Redis (EHRS_TEST_BACKEND).
#include "ApiClient.h"
#include "ServerProcess.h"
#include "mfa/Totp.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using namespace ehrs::test;
using ehrs::server::Totp;

namespace {
const QByteArray kPassword = "a long enough password";
const QByteArray kNewPassword = "another long enough password";
const QByteArray kServiceId = "ehr-api";
const QByteArray kServiceSecret = "service-secret-0123456789";
const QByteArray kMetricsToken = "scrape-token-0123456789";
} // namespace

class TestOpenApiResponses : public QObject
{
    Q_OBJECT

    ServerProcess m_server;
    nlohmann::json m_exchanges = nlohmann::json::array();

    // Sends a request and records the exchange under the documented path template.
    ApiResponse callAt(const QByteArray& method, const QByteArray& documentedPath, const QByteArray& path,
                       const nlohmann::json& body = nullptr, const QByteArray& bearer = {},
                       const QList<QPair<QByteArray, QByteArray>>& headers = {})
    {
        ApiResponse r = ApiClient(m_server.url()).request(method, path, body, bearer, headers);
        m_exchanges.push_back({{"method", method.toStdString()},
                               {"path", documentedPath.toStdString()},
                               {"status", r.status},
                               {"contentType", r.header("content-type").toStdString()},
                               {"body", r.body.toStdString()}});
        return r;
    }
    ApiResponse call(const QByteArray& method, const QByteArray& path, const nlohmann::json& body = nullptr,
                     const QByteArray& bearer = {}, const QList<QPair<QByteArray, QByteArray>>& headers = {})
    {
        return callAt(method, path, path, body, bearer, headers);
    }

    static QString npmDir() { return qEnvironmentVariable("EHRS_OPENAPI_NPM_DIR"); }

private Q_SLOTS:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty())
            QSKIP("node is not installed");
        if (!QFile::exists(npmDir() + QStringLiteral("/node_modules/ajv")))
            QSKIP("the OpenAPI validators are not installed (scripts/test.sh runs "
                  "tests/openapi/install-validators.sh)");
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
        QVERIFY(m_server.useBackendUnderTest());
        m_server.setEnv(QStringLiteral("INTROSPECTION_CLIENTS"),
                        QString::fromLatin1(kServiceId + ':' + kServiceSecret));
        m_server.setEnv(QStringLiteral("METRICS_TOKEN"), QString::fromLatin1(kMetricsToken));
        QVERIFY(m_server.start());
    }

    void everyOperation()
    {
        QVERIFY(m_server.addUser(QStringLiteral("alice@example.org"), QString::fromLatin1(kPassword)));
        QVERIFY(m_server.addUser(QStringLiteral("it@example.org"), QString::fromLatin1(kPassword),
                                 QStringLiteral("IT"), {QStringLiteral("--admin")}));

        // Sign-in, its errors, the session list.
        QCOMPARE(call("POST", "/api/auth/login", {{"email", "alice@example.org"}}).status, 400);
        QCOMPARE(
            call("POST", "/api/auth/login", {{"email", "alice@example.org"}, {"password", "wrong password!"}})
                .status,
            401);
        const nlohmann::json aliceLogin{{"email", "alice@example.org"},
                                        {"password", kPassword.toStdString()}};
        auto a = call("POST", "/api/auth/login", aliceLogin);
        QCOMPARE(a.status, 200);
        const QByteArray access = QByteArray::fromStdString(a.str("accessToken"));
        const QByteArray refreshToken = QByteArray::fromStdString(a.str("refreshToken"));
        const QByteArray sessionId = QByteArray::fromStdString(a.str("sessionId"));
        const QByteArray aliceId = QByteArray::fromStdString(a.json["user"]["id"].get<std::string>());
        auto second = call("POST", "/api/auth/login", aliceLogin);
        QCOMPARE(second.status, 200);
        const QByteArray otherSession = QByteArray::fromStdString(second.str("sessionId"));

        QCOMPARE(call("GET", "/api/auth/me", nullptr, access).status, 200);
        QCOMPARE(call("GET", "/api/auth/me").status, 401);
        QCOMPARE(call("GET", "/api/sessions", nullptr, access).status, 200);
        QCOMPARE(call("GET", "/api/sessions", nullptr, "not-a-token").status, 401);
        {
            // The event stream never ends by itself: its head and first event, read for a moment.
            const QByteArray request = ApiClient::build(
                "GET", "/api/sessions/events", ApiClient(m_server.url()).hostHeader(), nullptr, access, {});
            ApiResponse r = ApiClient(m_server.url()).raw(request, 1500);
            QCOMPARE(r.status, 200);
            QVERIFY2(r.body.contains("event: ready"), r.body.constData());
            m_exchanges.push_back({{"method", "GET"},
                                   {"path", "/api/sessions/events"},
                                   {"status", r.status},
                                   {"contentType", r.header("content-type").toStdString()},
                                   {"body", r.body.toStdString()}});
            QCOMPARE(call("GET", "/api/sessions/events", nullptr, "not-a-token").status, 401);
            QCOMPARE(call("GET", "/api/sessions/events", nullptr, access, {{"Last-Event-ID", "x1"}}).status,
                     400);
        }

        // Shared workstations: PIN, park, the parked refresh, resume with a wrong and the right PIN.
        {
            nlohmann::json stationLogin = aliceLogin;
            stationLogin["deviceClass"] = "shared_workstation";
            auto w = call("POST", "/api/auth/login", stationLogin);
            QCOMPARE(w.status, 200);
            const QByteArray wAccess = QByteArray::fromStdString(w.str("accessToken"));
            const std::string wRefresh = w.str("refreshToken");
            const nlohmann::json pin{{"pin", "48291736"}, {"workstationId", "ws-ward3-7f3a9c2e"}};
            QCOMPARE(call("PUT", "/api/workstation/pin", {{"pin", "1234"}, {"workstationId", "ws-ward3-7f3a9c2e"}},
                          wAccess)
                         .status,
                     400);
            QCOMPARE(call("PUT", "/api/workstation/pin", pin).status, 401);
            QCOMPARE(call("PUT", "/api/workstation/pin", pin, access).status, 409); // a personal session
            QCOMPARE(call("POST", "/api/workstation/park", nlohmann::json::object(), access).status, 409);
            QCOMPARE(call("PUT", "/api/workstation/pin", pin, wAccess).status, 200);
            QCOMPARE(call("POST", "/api/workstation/park", nlohmann::json::object(), wAccess).status, 200);
            QCOMPARE(call("POST", "/api/workstation/park", nlohmann::json::object(), wAccess).status, 401);
            QCOMPARE(call("POST", "/api/sessions/refresh", {{"refreshToken", wRefresh}}).status, 403);
            QCOMPARE(call("POST", "/api/workstation/resume", {{"refreshToken", wRefresh}}).status, 400);
            QCOMPARE(call("POST", "/api/workstation/resume", {{"refreshToken", wRefresh}, {"pin", "97531864"}}).status,
                     401);
            auto resumed = call("POST", "/api/workstation/resume", {{"refreshToken", wRefresh}, {"pin", "48291736"}});
            QCOMPARE(resumed.status, 200);
            QCOMPARE(call("POST", "/api/workstation/resume",
                          {{"refreshToken", resumed.str("refreshToken")}, {"pin", "48291736"}})
                         .status,
                     409);
            // The token the resume rotated away, sent again within REFRESH_GRACE_SECONDS: the
            // resume hands it to the refresh rules, which treat it as a lost-response retry.
            QCOMPARE(call("POST", "/api/workstation/resume", {{"refreshToken", wRefresh}, {"pin", "48291736"}}).status,
                     200);
        }

        // Refresh: rotation, bad input, unknown token.
        QCOMPARE(call("POST", "/api/sessions/refresh", nlohmann::json::object()).status, 400);
        QCOMPARE(call("POST", "/api/sessions/refresh", {{"refreshToken", std::string(64, 'A')}}).status, 401);
        auto refreshed =
            call("POST", "/api/sessions/refresh", {{"refreshToken", refreshToken.toStdString()}});
        QCOMPARE(refreshed.status, 200);
        const QByteArray access2 = QByteArray::fromStdString(refreshed.str("accessToken"));

        // One session: rename, revoke.
        const QByteArray one = "/api/sessions/" + otherSession;
        const QByteArray unknown = "/api/sessions/00000000-0000-4000-8000-000000000000";
        QCOMPARE(callAt("PATCH", "/api/sessions/{id}", one, {{"name", "Ward PC"}}, access2).status, 200);
        QCOMPARE(
            callAt("PATCH", "/api/sessions/{id}", one, {{"name", std::string(500, 'x')}}, access2).status,
            400);
        QCOMPARE(callAt("PATCH", "/api/sessions/{id}", unknown, {{"name", "x"}}, access2).status, 404);
        QCOMPARE(callAt("PATCH", "/api/sessions/{id}", one, {{"name", "x"}}).status, 401);
        QCOMPARE(callAt("DELETE", "/api/sessions/{id}", unknown, nullptr, access2).status, 404);
        QCOMPARE(callAt("DELETE", "/api/sessions/{id}", one, nullptr).status, 401);
        QCOMPARE(callAt("DELETE", "/api/sessions/{id}", one, nullptr, access2).status, 200);

        // Sign out the others (re-authentication).
        QCOMPARE(call("POST", "/api/auth/login", aliceLogin).status, 200);
        QCOMPARE(call("DELETE", "/api/sessions", nlohmann::json::object(), access2).status, 400);
        QCOMPARE(call("DELETE", "/api/sessions", {{"password", "wrong password!"}}, access2).status, 403);
        QCOMPARE(call("DELETE", "/api/sessions", {{"password", kPassword.toStdString()}}).status, 401);
        QCOMPARE(call("DELETE", "/api/sessions", {{"password", kPassword.toStdString()}}, access2).status,
                 200);

        // Introspection for other services (HTTP Basic).
        const QByteArray basic = "Basic " + (kServiceId + ':' + kServiceSecret).toBase64();
        const QByteArray wrongBasic = "Basic " + (kServiceId + ":wrong-secret-0123456789").toBase64();
        QCOMPARE(call("POST", "/api/sessions/introspect", {{"token", access2.toStdString()}}, {},
                      {{"Authorization", basic}})
                     .status,
                 200);
        QCOMPARE(
            call("POST", "/api/sessions/introspect", {{"token", "garbage"}}, {}, {{"Authorization", basic}})
                .status,
            200); // {"active": false}
        QCOMPARE(
            call("POST", "/api/sessions/introspect", nlohmann::json::object(), {}, {{"Authorization", basic}})
                .status,
            400);
        QCOMPARE(call("POST", "/api/sessions/introspect", {{"token", access2.toStdString()}}, {},
                      {{"Authorization", wrongBasic}})
                     .status,
                 401);

        // Two-step verification: set up, enable, sign in with a backup code, disable.
        QCOMPARE(call("POST", "/api/auth/mfa/disable",
                      {{"password", kPassword.toStdString()}, {"code", "123456"}}, access2)
                     .status,
                 409); // not on
        QCOMPARE(call("POST", "/api/auth/mfa/setup", {{"password", "wrong password!"}}, access2).status, 403);
        QCOMPARE(call("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}).status, 401);
        auto setup = call("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, access2);
        QCOMPARE(setup.status, 200);
        const auto secret = Totp::base32Decode(QString::fromStdString(setup.str("secret")));
        QVERIFY(secret);
        QCOMPARE(call("POST", "/api/auth/mfa/enable", nlohmann::json::object(), access2).status, 400);
        QCOMPARE(call("POST", "/api/auth/mfa/enable", {{"code", "000000"}}).status, 401);
        const QString code = Totp::code(*secret, QDateTime::currentSecsSinceEpoch());
        auto enabled = call("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access2);
        QCOMPARE(enabled.status, 200);
        auto backupCodes = enabled.json["backupCodes"];
        QVERIFY(backupCodes.size() >= 3);
        // New backup codes (2FA stays on); the later steps use the new ones.
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes",
                      {{"password", "wrong password!"}, {"code", backupCodes[0].get<std::string>()}}, access2)
                     .status,
                 403);
        QCOMPARE(call("POST", "/api/auth/mfa/backup-codes", {{"password", kPassword.toStdString()}}).status,
                 401);
        auto renewed = call(
            "POST", "/api/auth/mfa/backup-codes",
            {{"password", kPassword.toStdString()}, {"code", backupCodes[0].get<std::string>()}}, access2);
        QCOMPARE(renewed.status, 200);
        backupCodes = renewed.json["backupCodes"];
        QCOMPARE(backupCodes.size(), size_t(10));
        QCOMPARE(call("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access2).status, 409);
        QCOMPARE(call("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, access2).status,
                 409);

        auto challenge = call("POST", "/api/auth/login", aliceLogin);
        QCOMPARE(challenge.status, 200);
        QVERIFY(challenge.json.value("requiresMFA", false));
        QCOMPARE(call("POST", "/api/auth/verify-mfa", {{"mfaToken", challenge.str("mfaToken")}}).status, 400);
        QCOMPARE(call("POST", "/api/auth/verify-mfa", {{"mfaToken", "forged"}, {"code", "123456"}}).status,
                 401);
        auto verified =
            call("POST", "/api/auth/verify-mfa",
                 {{"mfaToken", challenge.str("mfaToken")},
                  {"code", backupCodes[0].get<std::string>()},
                  {"rememberDevice", true}});
        QCOMPARE(verified.status, 200);
        QCOMPARE(verified.json.value("deviceRemembered", false), true);
        const QByteArray access3 = QByteArray::fromStdString(verified.str("accessToken"));

        // Remembered devices (issue 18): listed, forgotten, unknown ids 404.
        auto devices = call("GET", "/api/account/devices", nullptr, access3);
        QCOMPARE(devices.status, 200);
        QCOMPARE(devices.json["devices"].size(), size_t(1));
        const QByteArray deviceId = QByteArray::fromStdString(devices.json["devices"][0]["id"].get<std::string>());
        QCOMPARE(call("GET", "/api/account/devices").status, 401);
        QCOMPARE(callAt("DELETE", "/api/account/devices/{id}", "/api/account/devices/" + deviceId, nullptr, access3)
                     .status,
                 200);
        QCOMPARE(callAt("DELETE", "/api/account/devices/{id}", "/api/account/devices/" + deviceId, nullptr, access3)
                     .status,
                 404);
        QCOMPARE(call("POST", "/api/auth/mfa/disable",
                      {{"password", "wrong password!"}, {"code", backupCodes[1].get<std::string>()}}, access3)
                     .status,
                 403);
        QCOMPARE(call("POST", "/api/auth/mfa/disable", {{"password", kPassword.toStdString()}, {"code", "1"}})
                     .status,
                 401);
        QCOMPARE(call("POST", "/api/auth/mfa/disable",
                      {{"password", kPassword.toStdString()}, {"code", backupCodes[2].get<std::string>()}},
                      access3)
                     .status,
                 200);

        // The account's recent security activity.
        QCOMPARE(call("GET", "/api/account/activity", nullptr, access3).status, 200);
        QCOMPARE(
            callAt("GET", "/api/account/activity", "/api/account/activity?limit=1", nullptr, access3).status,
            200);
        QCOMPARE(
            callAt("GET", "/api/account/activity", "/api/account/activity?limit=0", nullptr, access3).status,
            400);
        QCOMPARE(call("GET", "/api/account/activity").status, 401);

        // Password change (ends the other sessions).
        QCOMPARE(call("POST", "/api/auth/password", {{"currentPassword", kPassword.toStdString()}}, access3)
                     .status,
                 400);
        QCOMPARE(call("POST", "/api/auth/password",
                      {{"currentPassword", "wrong password!"}, {"newPassword", kNewPassword.toStdString()}},
                      access3)
                     .status,
                 403);
        QCOMPARE(
            call("POST", "/api/auth/password",
                 {{"currentPassword", kPassword.toStdString()}, {"newPassword", kNewPassword.toStdString()}})
                .status,
            401);
        QCOMPARE(
            call("POST", "/api/auth/password",
                 {{"currentPassword", kPassword.toStdString()}, {"newPassword", kNewPassword.toStdString()}},
                 access3)
                .status,
            200);

        // IT: cleanup and revoking a user's sessions.
        auto it = call("POST", "/api/auth/login",
                       {{"email", "it@example.org"}, {"password", kPassword.toStdString()}});
        QCOMPARE(it.status, 200);
        const QByteArray admin = QByteArray::fromStdString(it.str("accessToken"));
        QCOMPARE(call("POST", "/api/sessions/cleanup", nullptr, admin).status, 200);
        QCOMPARE(call("POST", "/api/sessions/cleanup", nullptr, access3).status, 403);
        QCOMPARE(call("POST", "/api/sessions/cleanup").status, 401);
        const QByteArray userSessions = "/api/admin/users/" + aliceId + "/sessions";
        QCOMPARE(callAt("DELETE", "/api/admin/users/{id}/sessions", userSessions, nullptr, access3).status,
                 403);
        QCOMPARE(callAt("DELETE", "/api/admin/users/{id}/sessions", userSessions).status, 401);
        QCOMPARE(callAt("DELETE", "/api/admin/users/{id}/sessions",
                        "/api/admin/users/00000000-0000-4000-8000-000000000000/sessions", nullptr, admin)
                     .status,
                 404);
        QCOMPARE(callAt("DELETE", "/api/admin/users/{id}/sessions", userSessions, nullptr, admin).status,
                 200);

        // Logout.
        QCOMPARE(call("POST", "/api/auth/logout").status, 401);
        QCOMPARE(call("POST", "/api/auth/logout", nullptr, admin).status, 200);

        // Session policies (issue 14): the policy object in every answer that carries tokens, and
        // the two sign-ins a policy refuses.
        QVERIFY(m_server.addUser(QStringLiteral("nurse@example.org"), QString::fromLatin1(kPassword),
                                 QStringLiteral("Nurse"),
                                 {QStringLiteral("--groups"), QStringLiteral("nurses")}));
        QByteArray cli;
        QCOMPARE(m_server.run({QStringLiteral("policy"), QStringLiteral("set"), QStringLiteral("--group"),
                               QStringLiteral("nurses"), QStringLiteral("--max-sessions"),
                               QStringLiteral("1"), QStringLiteral("--on-limit"), QStringLiteral("refuse")},
                              {}, &cli),
                 0);
        const nlohmann::json nurseLogin{{"email", "nurse@example.org"},
                                        {"password", kPassword.toStdString()},
                                        {"deviceClass", "personal"}};
        auto nurse = call("POST", "/api/auth/login", nurseLogin);
        QCOMPARE(nurse.status, 200);
        QVERIFY2(nurse.json.contains("policy"), nurse.body.constData());
        QCOMPARE(call("POST", "/api/auth/login", nurseLogin).status, 409); // the limit, refused
        QCOMPARE(call("POST", "/api/sessions/refresh", {{"refreshToken", nurse.str("refreshToken")}}).status,
                 200);
        QCOMPARE(m_server.run({QStringLiteral("policy"), QStringLiteral("set"),
                               QStringLiteral("--device-class"), QStringLiteral("shared_workstation"),
                               QStringLiteral("--mfa-required"), QStringLiteral("yes")},
                              {}, &cli),
                 0);
        QCOMPARE(call("POST", "/api/auth/login",
                      {{"email", "nurse@example.org"},
                       {"password", kPassword.toStdString()},
                       {"deviceClass", "shared_workstation"}})
                     .status,
                 403);

        // Operations endpoints.
        QCOMPARE(call("GET", "/.well-known/jwks.json").status, 200);
        QCOMPARE(call("GET", "/api/openapi.json").status, 200);
        QCOMPARE(call("GET", "/healthz").status, 200);
        QCOMPARE(call("GET", "/readyz").status, 200);
        QCOMPARE(call("GET", "/metrics").status, 401);
        QCOMPARE(call("GET", "/metrics", nullptr, kMetricsToken).status, 200);

        // The outside validator.
        QFile file(QDir(m_server.dataDir()).filePath(QStringLiteral("exchanges.json")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray::fromStdString(m_exchanges.dump(2)));
        file.close();
        QProcess node;
        node.setProcessChannelMode(QProcess::MergedChannels);
        node.start(QStringLiteral("node"),
                   {QStringLiteral(EHRS_OPENAPI_DIR "/check_responses.mjs"), QStringLiteral("--npm-dir"),
                    npmDir(), QStringLiteral(EHRS_SOURCE_DIR "/docs/openapi.yaml"), file.fileName()});
        QVERIFY(node.waitForFinished(120000));
        const QByteArray out = node.readAll();
        qInfo().noquote() << out.trimmed();
        QVERIFY2(node.exitStatus() == QProcess::NormalExit && node.exitCode() == 0, out.constData());
    }

    void cleanupTestCase() { m_server.stop(); }
};

QTEST_GUILESS_MAIN(TestOpenApiResponses)
#include "TestOpenApiResponses.moc"
