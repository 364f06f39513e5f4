// SPDX-License-Identifier: Apache-2.0
// The session API end to end over HTTP, against the in-process server on a real database:
// PostgreSQL + Redis (EHRS_TEST_BACKEND=postgres) or the embedded SQLite default with its
// in-process cache (EHRS_TEST_BACKEND=sqlite). Same suite, both backends.
#include "ApiClient.h"
#include "InProcessServer.h"
#include "PrometheusText.h"
#include "Crypto.h"
#include "TestEnvironment.h"
#include "app/ServerApp.h"
#include "cache/SessionCache.h"
#include "db/Database.h"
#include "keys/KeyHierarchy.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <atomic>
#include <set>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;
using Json = nlohmann::json;

namespace {
const QByteArray& kPassword = InProcessServer::kPassword; // a reference: no static-initialisation order issue
const QByteArray kIphoneUa = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                             "Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
const QByteArray kWindowsEdgeUa = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                                  "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";

QByteArray b(const std::string& s)
{
    return QByteArray::fromStdString(s);
}
} // namespace

class TestSessionsApi : public QObject
{
    Q_OBJECT

private:
    using Login = InProcessServer::Login;

    bool postgres() const { return m_server.postgres(); }
    ApiClient& api() { return m_server.api(); }
    QString newUser(const QString& role = QStringLiteral("user")) { return m_server.newUser(role); }
    Login login(const QString& email, const QByteArray& userAgent = kIphoneUa, const Json& device = nullptr)
    {
        return m_server.login(email, userAgent, device);
    }
    ApiResponse refresh(const QByteArray& token) { return m_server.refresh(token); }
    int listStatus(const QByteArray& access) { return m_server.listStatus(access); }
    int count(const QString& sql, const QVariantList& params = {}) { return m_server.count(sql, params); }

    std::optional<QVariantList> sessionRow(const QString& id)
    {
        auto q = m_server.db().exec(QStringLiteral("SELECT access_token_hash, refresh_token_hash, rotation_counter, "
                                                   "revoked_at, revoke_reason FROM user_sessions WHERE id = ?"),
                                    {id});
        if (!q || !(*q)->next())
            return std::nullopt;
        QVariantList row;
        for (int i = 0; i < 5; ++i)
            row << (*q)->value(i);
        (*q)->finish();
        return row;
    }

    bool cacheHas(const QByteArray& key)
    {
        auto v = m_server.services().store.get({key});
        return v && (*v)[0].has_value();
    }

    /// readyz answers for the worker that took the connection; wait until several in a row agree.
    bool waitForCacheMode(const std::string& mode, int timeoutMs = 15000)
    {
        QDeadlineTimer deadline(timeoutMs);
        int agreeing = 0;
        while (!deadline.hasExpired() && agreeing < 8) {
            auto r = api().request("GET", "/readyz");
            const bool ok = r.json.is_object() && r.json.value("cache", std::string()) == mode;
            agreeing = ok ? agreeing + 1 : 0;
            if (!ok)
                QTest::qWait(100);
        }
        return agreeing >= 8;
    }

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void loginCreatesRowAndCacheEntries();
    void loginFailuresLookTheSame();
    void nativeClientDeviceInfo();
    void badInputGets4xxAndChangesNothing_data();
    void badInputGets4xxAndChangesNothing();
    void invalidTokensAreRejected_data();
    void invalidTokensAreRejected();
    void identityComesOnlyFromTheToken();
    void accessTokenExpires();
    void idleSessionExpires();
    void refreshRotatesBothTokens();
    void lostRefreshResponseIsAnsweredAgain();
    void previousAccessTokenOverlapsARefresh();
    void reuseOfRotatedTokenRevokesSession();
    void thiefWhoRefreshesFirstIsCaughtAfterTheGrace();
    void retryTokenIsSealedAndShortLived();
    void refreshTokensCannotBeMintedFromKeys();
    void oldSchemeRefreshTokenStillRefreshes();
    void concurrentRefreshesLeaveOneChain();
    void listMarksCurrentSession();
    void renameSession();
    void revokeMakesTokenFail();
    void revokeAllOthersKeepsCurrent();
    void otherUsersSessionIs404();
    void logoutEndsSession();
    void cleanupRemovesOnlyOldSessions();
    void adminRevokesUserSessions();
    void auditHasNoSecrets();
    void failedLoginsAreRateLimited();
    void metricsParseAsPrometheusText();
    void metricsAreTheDocumentedOnes();
    void openApiDescribesEveryRoute();
    void busyWorkerDoesNotBlockOthers();
    void redisOutageFallsBackToDatabase();

private:
    InProcessServer m_server;
};

void TestSessionsApi::initTestCase()
{
    QString skip;
    if (!m_server.start(&skip)) {
        if (!skip.isEmpty() && !servicesRequired())
            QSKIP(qPrintable(skip));
        QFAIL(qPrintable(skip.isEmpty() ? QStringLiteral("the server did not start") : skip));
    }
}

void TestSessionsApi::cleanupTestCase()
{
    m_server.stop();
}

void TestSessionsApi::init()
{
    m_server.clock().reset();
}

void TestSessionsApi::loginCreatesRowAndCacheEntries()
{
    const QString email = newUser();
    auto r = api().request("POST", "/api/auth/login", {{"email", email.toStdString()}, {"password", kPassword.toStdString()}},
                           {}, {{"User-Agent", kIphoneUa}});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("cache-control"), QByteArray("no-store"));
    QVERIFY(!r.str("accessToken").empty());
    QCOMPARE(r.str("token"), r.str("accessToken"));
    QCOMPARE(r.json["expiresIn"].get<int>(), 900);
    QCOMPARE(r.json["user"]["email"].get<std::string>(), email.toStdString());
    const QByteArray refreshToken = b(r.str("refreshToken"));
    QCOMPARE(crypto::base64UrlDecode(refreshToken)->size(), 48);
    const QString sid = QString::fromStdString(r.str("sessionId"));

    auto row = sessionRow(sid);
    QVERIFY(row);
    // Only hashes are stored, never the tokens.
    QCOMPARE(row->at(0).toString().toLatin1(), crypto::sha256Hex(b(r.str("accessToken"))));
    QCOMPARE(row->at(1).toString().toLatin1(), crypto::sha256Hex(refreshToken));
    QVERIFY(row->at(3).isNull());
    QVERIFY(cacheHas(SessionCache::accessKey(crypto::sha256Hex(b(r.str("accessToken"))))));
    QVERIFY(cacheHas(SessionCache::refreshKey(crypto::sha256Hex(refreshToken))));
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'login_success' AND session_id = ?"), {sid}), 1);
    QCOMPARE(listStatus(b(r.str("accessToken"))), 200);
}

void TestSessionsApi::loginFailuresLookTheSame()
{
    const QString email = newUser();
    const int before = count(QStringLiteral("SELECT COUNT(*) FROM user_sessions"));
    auto wrongPassword = api().request("POST", "/api/auth/login", {{"email", email.toStdString()}, {"password", "not the password!"}});
    auto unknownEmail = api().request("POST", "/api/auth/login", {{"email", "nobody@example.org"}, {"password", "not the password!"}});
    QCOMPARE(wrongPassword.status, 401);
    QCOMPARE(unknownEmail.status, 401);
    QCOMPARE(wrongPassword.body, unknownEmail.body);
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM user_sessions")), before);
    QVERIFY(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'login_failure'")) >= 2);
    // Disabled accounts answer the same way, even with the right password.
    auto user = m_server.services().users.findByEmail(email);
    QVERIFY(user && *user);
    QVERIFY(m_server.services().users.setDisabled((*user)->id, true, QDateTime::currentMSecsSinceEpoch()));
    auto disabled = api().request("POST", "/api/auth/login", {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
    QCOMPARE(disabled.status, 401);
    QCOMPARE(disabled.body, unknownEmail.body);
}

void TestSessionsApi::nativeClientDeviceInfo()
{
    const QString email = newUser();
    Login l = login(email, "EHR-Sessions-Agent/0.1.0",
                    Json{{"type", "laptop"}, {"name", "ward-laptop-7"}, {"os", "Debian GNU/Linux 12"}, {"browser", "EHR Sessions Agent 0.1.0"}});
    auto list = api().request("GET", "/api/sessions", nullptr, l.access);
    QCOMPARE(list.status, 200);
    const auto& s = list.json["sessions"][0];
    QCOMPARE(s["deviceInfo"]["type"].get<std::string>(), std::string("laptop"));
    QCOMPARE(s["deviceInfo"]["name"].get<std::string>(), std::string("ward-laptop-7"));
    QCOMPARE(s["deviceInfo"]["os"].get<std::string>(), std::string("Debian GNU/Linux 12"));
    // A bad device object is a 400, not a session with nonsense in it.
    auto bad = api().request("POST", "/api/auth/login",
                             {{"email", email.toStdString()}, {"password", kPassword.toStdString()}, {"deviceInfo", {{"type", "toaster"}}}});
    QCOMPARE(bad.status, 400);
}

void TestSessionsApi::badInputGets4xxAndChangesNothing_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("authenticated");
    QTest::addColumn<int>("status");

    QTest::newRow("malformed json") << QByteArray("POST") << QByteArray("/api/auth/login") << QByteArray("{\"email\":") << false << 400;
    QTest::newRow("array body") << QByteArray("POST") << QByteArray("/api/auth/login") << QByteArray("[1,2]") << false << 400;
    QTest::newRow("wrong types") << QByteArray("POST") << QByteArray("/api/auth/login") << QByteArray("{\"email\":5,\"password\":[]}") << false << 400;
    QTest::newRow("missing password") << QByteArray("POST") << QByteArray("/api/auth/login") << QByteArray("{\"email\":\"a@b.c\"}") << false << 400;
    QTest::newRow("overlong email") << QByteArray("POST") << QByteArray("/api/auth/login")
                                    << ("{\"email\":\"" + QByteArray(400, 'a') + "@x.org\",\"password\":\"pppppppppppp\"}") << false << 400;
    QTest::newRow("sql metacharacters") << QByteArray("POST") << QByteArray("/api/auth/login")
                                        << QByteArray("{\"email\":\"' OR 1=1; DROP TABLE users; --\",\"password\":\"x' OR '1'='1\"}") << false << 401;
    QTest::newRow("nul in email") << QByteArray("POST") << QByteArray("/api/auth/login")
                                  << QByteArray("{\"email\":\"a\\u0000@b.org\",\"password\":\"pppppppppppp\"}") << false << 400;
    QTest::newRow("blank email") << QByteArray("POST") << QByteArray("/api/auth/login")
                                 << QByteArray("{\"email\":\"  \\t \",\"password\":\"pppppppppppp\"}") << false << 400;
    QTest::newRow("blank mfa code") << QByteArray("POST") << QByteArray("/api/auth/verify-mfa")
                                    << QByteArray("{\"mfaToken\":\"x.y.z\",\"code\":\"   \"}") << false << 400;
    QTest::newRow("refresh not a string") << QByteArray("POST") << QByteArray("/api/sessions/refresh") << QByteArray("{\"refreshToken\":42}") << false << 400;
    QTest::newRow("refresh garbage") << QByteArray("POST") << QByteArray("/api/sessions/refresh") << QByteArray("{\"refreshToken\":\"abc\"}") << false << 401;
    QTest::newRow("refresh sql") << QByteArray("POST") << QByteArray("/api/sessions/refresh")
                                 << QByteArray("{\"refreshToken\":\"' OR ''='\"}") << false << 401;
    QTest::newRow("revoke unknown id") << QByteArray("DELETE") << ("/api/sessions/" + QUuid::createUuid().toByteArray(QUuid::WithoutBraces))
                                       << QByteArray() << true << 404;
    QTest::newRow("revoke malformed id") << QByteArray("DELETE") << QByteArray("/api/sessions/not-a-uuid'--") << QByteArray() << true << 404;
    QTest::newRow("rename overlong") << QByteArray("PATCH") << ("/api/sessions/" + QUuid::createUuid().toByteArray(QUuid::WithoutBraces))
                                     << ("{\"name\":\"" + QByteArray(300, 'n') + "\"}") << true << 400;
    QTest::newRow("rename wrong type") << QByteArray("PATCH") << ("/api/sessions/" + QUuid::createUuid().toByteArray(QUuid::WithoutBraces))
                                       << QByteArray("{\"name\":{}}") << true << 400;
    QTest::newRow("revoke all without password") << QByteArray("DELETE") << QByteArray("/api/sessions") << QByteArray("{}") << true << 400;
    QTest::newRow("unknown endpoint") << QByteArray("GET") << QByteArray("/api/nope") << QByteArray() << false << 404;
    QTest::newRow("wrong method") << QByteArray("PUT") << QByteArray("/api/sessions") << QByteArray() << true << 405;
    QTest::newRow("cleanup as non-admin") << QByteArray("POST") << QByteArray("/api/sessions/cleanup") << QByteArray() << true << 403;
}

void TestSessionsApi::badInputGets4xxAndChangesNothing()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    QFETCH(bool, authenticated);
    QFETCH(int, status);

    Login l = login(newUser());
    const int sessionsBefore = count(QStringLiteral("SELECT COUNT(*) FROM user_sessions WHERE revoked_at IS NULL"));
    const int usersBefore = count(QStringLiteral("SELECT COUNT(*) FROM users"));
    QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (authenticated)
        request += "Authorization: Bearer " + l.access + "\r\n";
    request += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    auto r = api().raw(request);
    QCOMPARE(r.status, status);
    QVERIFY2(r.json.is_object() && r.json.contains("error") && r.json.contains("message"), r.body.constData());
    QVERIFY(!r.body.contains("Exception") && !r.body.contains("SQL"));
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM user_sessions WHERE revoked_at IS NULL")), sessionsBefore);
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM users")), usersBefore);
    if (status == 405)
        QVERIFY(!r.header("allow").isEmpty());
    QCOMPARE(listStatus(l.access), 200);
}

void TestSessionsApi::invalidTokensAreRejected_data()
{
    QTest::addColumn<QByteArray>("kind");
    for (const char* k : {"missing", "garbage", "forged signature", "alg none", "re-signed with other key", "HS256 with empty key",
                          "wrong audience", "truncated", "expired"})
        QTest::newRow(k) << QByteArray(k);
}

void TestSessionsApi::invalidTokensAreRejected()
{
    QFETCH(QByteArray, kind);
    Login l = login(newUser());
    const QList<QByteArray> parts = l.access.split('.');
    QCOMPARE(parts.size(), 3);
    auto payload = Json::parse(crypto::base64UrlDecode(parts[1])->toStdString());
    auto encode = [](const Json& j) { return crypto::base64UrlEncode(QByteArray::fromStdString(j.dump())); };
    auto signWith = [&](const QByteArray& key, const Json& header, const Json& body) {
        const QByteArray input = encode(header) + '.' + encode(body);
        return input + '.' + crypto::base64UrlEncode(crypto::hmacSha256(key, input));
    };
    QByteArray token;
    if (kind == "missing") {
        token = {};
    } else if (kind == "garbage") {
        token = "not.a.jwt";
    } else if (kind == "forged signature") {
        token = parts[0] + '.' + parts[1] + '.' + crypto::base64UrlEncode(crypto::randomBytes(32));
    } else if (kind == "alg none") {
        token = encode(Json{{"alg", "none"}, {"typ", "JWT"}}) + '.' + parts[1] + '.';
    } else if (kind == "re-signed with other key") {
        token = signWith("another-secret-another-secret-another", Json::parse(crypto::base64UrlDecode(parts[0])->toStdString()), payload);
    } else if (kind == "HS256 with empty key") {
        token = signWith("", Json{{"alg", "HS256"}, {"typ", "JWT"}}, payload);
    } else if (kind == "wrong audience") {
        payload["aud"] = "someone-else";
        token = signWith("another-secret-another-secret-another", Json{{"alg", "HS256"}}, payload);
    } else if (kind == "truncated") {
        token = l.access.left(l.access.size() - 5);
    } else if (kind == "expired") {
        m_server.clock().advance(901'000);
        token = l.access;
    }
    auto r = api().request("GET", "/api/sessions", nullptr, token);
    QCOMPARE(r.status, 401);
    QCOMPARE(r.str("error"), std::string("unauthorized"));
    QCOMPARE(r.header("www-authenticate"), QByteArray("Bearer"));
}

void TestSessionsApi::identityComesOnlyFromTheToken()
{
    Login victim = login(newUser());
    Login attacker = login(newUser());
    // The old system trusted x-user-id: it must change nothing here.
    auto none = api().request("GET", "/api/sessions", nullptr, {}, {{"x-user-id", victim.userId.toLatin1()}});
    QCOMPARE(none.status, 401);
    auto mine = api().request("GET", "/api/sessions", nullptr, attacker.access, {{"x-user-id", victim.userId.toLatin1()}});
    QCOMPARE(mine.status, 200);
    for (const auto& s : mine.json["sessions"])
        QVERIFY(QString::fromStdString(s["id"].get<std::string>()) != victim.sessionId);
}

void TestSessionsApi::accessTokenExpires()
{
    Login l = login(newUser());
    QCOMPARE(listStatus(l.access), 200);
    // 890 s: ten seconds of real time to spare (iat is whole seconds, and a loaded machine is slow).
    m_server.clock().advance(890'000);
    QCOMPARE(listStatus(l.access), 200);
    m_server.clock().advance(11'000);
    QCOMPARE(listStatus(l.access), 401);
    // The session itself lives on: a refresh gives a working token.
    auto r = refresh(l.refresh);
    QCOMPARE(r.status, 200);
    QCOMPARE(listStatus(b(r.str("accessToken"))), 200);
}

void TestSessionsApi::idleSessionExpires()
{
    Login l = login(newUser());
    m_server.clock().advance(qint64(43200 + 1) * 1000);
    auto r = refresh(l.refresh);
    QCOMPARE(r.status, 401);
    QCOMPARE(r.str("error"), std::string("session_expired"));
}

void TestSessionsApi::refreshRotatesBothTokens()
{
    Login l = login(newUser());
    QCOMPARE(listStatus(l.access), 200); // cached as live
    auto r = refresh(l.refresh);
    QCOMPARE(r.status, 200);
    const QByteArray access2 = b(r.str("accessToken"));
    const QByteArray refresh2 = b(r.str("refreshToken"));
    QVERIFY(access2 != l.access);
    QVERIFY(refresh2 != l.refresh);
    QCOMPARE(QString::fromStdString(r.str("sessionId")), l.sessionId);
    QCOMPARE(r.str("token"), r.str("accessToken"));
    // The previous access token keeps working for the overlap (issue 13), then fails though it
    // has not expired.
    QCOMPARE(listStatus(l.access), 200);
    QCOMPARE(listStatus(access2), 200);
    m_server.clock().advance(SessionCache::kRotationOverlapMs + 1000);
    QCOMPARE(listStatus(l.access), 401);
    QCOMPARE(listStatus(access2), 200);
    auto row = sessionRow(l.sessionId);
    QVERIFY(row);
    QCOMPARE(row->at(2).toInt(), 1);
    QCOMPARE(row->at(1).toString().toLatin1(), crypto::sha256Hex(refresh2));
    auto again = refresh(refresh2);
    QCOMPARE(again.status, 200);
    QCOMPARE(listStatus(b(again.str("accessToken"))), 200);
}

void TestSessionsApi::lostRefreshResponseIsAnsweredAgain()
{
    Login l = login(newUser());
    auto first = refresh(l.refresh);
    QCOMPARE(first.status, 200);
    // The client never saw `first` (crash, network cut) and retries with the old token.
    auto retry = refresh(l.refresh);
    QCOMPARE(retry.status, 200);
    QCOMPARE(retry.str("refreshToken"), first.str("refreshToken"));
    QCOMPARE(retry.str("accessToken"), first.str("accessToken"));
    QCOMPARE(listStatus(b(retry.str("accessToken"))), 200);
    // Once the new pair has been used, the old refresh token is re-use.
    auto late = refresh(l.refresh);
    QCOMPARE(late.status, 401);
    QCOMPARE(late.str("error"), std::string("refresh_token_reused"));
}

void TestSessionsApi::previousAccessTokenOverlapsARefresh()
{
    // A token handed out just before a refresh is still accepted by every tier (this process's
    // live table, Redis's blacklist, the database) for the overlap after the rotation...
    Login l = login(newUser());
    QCOMPARE(listStatus(l.access), 200); // known live: the live table and the cache hold it
    auto r1 = refresh(l.refresh);
    QCOMPARE(r1.status, 200);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(listStatus(l.access), 200);
    QCOMPARE(listStatus(b(r1.str("accessToken"))), 200);
    QCOMPARE(listStatus(l.access), 200); // after the new pair's first use too
    // ... but only the previous one: a token two rotations back is dead.
    auto r2 = refresh(b(r1.str("refreshToken")));
    QCOMPARE(r2.status, 200);
    QCOMPARE(listStatus(b(r1.str("accessToken"))), 200);
    QCOMPARE(listStatus(l.access), 401);

    // Revocation ends the overlapping token at once.
    QCOMPARE(api().request("POST", "/api/auth/logout", nullptr, b(r2.str("accessToken"))).status, 200);
    QCOMPARE(listStatus(b(r1.str("accessToken"))), 401);

    // So does refresh-token re-use (theft detection).
    Login t = login(newUser());
    auto t1 = refresh(t.refresh);
    QCOMPARE(t1.status, 200);
    QCOMPARE(listStatus(b(t1.str("accessToken"))), 200); // the new pair is used: grace over
    QCOMPARE(listStatus(t.access), 200);                 // the previous token, in the overlap
    QCOMPARE(refresh(t.refresh).str("error"), std::string("refresh_token_reused"));
    QCOMPARE(listStatus(t.access), 401);
    QCOMPARE(listStatus(b(t1.str("accessToken"))), 401);
}

void TestSessionsApi::reuseOfRotatedTokenRevokesSession()
{
    Login l = login(newUser());
    auto r1 = refresh(l.refresh);
    QCOMPARE(listStatus(b(r1.str("accessToken"))), 200);
    auto r2 = refresh(b(r1.str("refreshToken")));
    QCOMPARE(r2.status, 200);
    QCOMPARE(listStatus(b(r2.str("accessToken"))), 200);

    // A token two rotations back is no longer recognised (only the previous one's hash is
    // kept): rejected, and the session it names is untouched.
    auto ancient = refresh(l.refresh);
    QCOMPARE(ancient.status, 401);
    QCOMPARE(ancient.str("error"), std::string("unauthorized"));
    QCOMPARE(listStatus(b(r2.str("accessToken"))), 200);

    // A thief replays the previous refresh token.
    auto stolen = refresh(b(r1.str("refreshToken")));
    QCOMPARE(stolen.status, 401);
    QCOMPARE(stolen.str("error"), std::string("refresh_token_reused"));
    // The whole session is gone: the legitimate client's tokens too.
    QCOMPARE(listStatus(b(r2.str("accessToken"))), 401);
    auto legit = refresh(b(r2.str("refreshToken")));
    QCOMPARE(legit.status, 401);
    auto row = sessionRow(l.sessionId);
    QVERIFY(row && !row->at(3).isNull());
    QCOMPARE(row->at(4).toString(), QStringLiteral("refresh_token_reused"));
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'refresh_reuse_detected' AND session_id = ?"),
                   {l.sessionId}),
             1);
}

void TestSessionsApi::thiefWhoRefreshesFirstIsCaughtAfterTheGrace()
{
    // A thief with a copy of the refresh token refreshes first and keeps quiet (does not use the
    // new access token). The legitimate client comes back with its now-old token after the grace
    // (default 10 s): that is re-use, not a lost response, and the whole session ends.
    Login l = login(newUser());
    auto thief = refresh(l.refresh);
    QCOMPARE(thief.status, 200);
    m_server.clock().advance(11'000);
    auto legit = refresh(l.refresh);
    QCOMPARE(legit.status, 401);
    QCOMPARE(legit.str("error"), std::string("refresh_token_reused"));
    // Dead for both: the thief's pair no longer works either.
    QCOMPARE(listStatus(b(thief.str("accessToken"))), 401);
    auto thiefAgain = refresh(b(thief.str("refreshToken")));
    QCOMPARE(thiefAgain.status, 401);
    QCOMPARE(thiefAgain.str("error"), std::string("refresh_token_reused"));
    auto row = sessionRow(l.sessionId);
    QVERIFY(row && !row->at(3).isNull());
    QCOMPARE(row->at(4).toString(), QStringLiteral("refresh_token_reused"));
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'refresh_reuse_detected' AND session_id = ?"),
                   {l.sessionId}),
             1);

    // Within the grace, the same old token is a lost-response retry: the same pair, no alarm.
    Login l2 = login(newUser());
    auto first = refresh(l2.refresh);
    QCOMPARE(first.status, 200);
    m_server.clock().advance(9'000);
    auto retry = refresh(l2.refresh);
    QCOMPARE(retry.status, 200);
    QCOMPARE(retry.str("refreshToken"), first.str("refreshToken"));
    QCOMPARE(retry.str("accessToken"), first.str("accessToken"));
    QCOMPARE(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'refresh_reuse_detected' AND session_id = ?"),
                   {l2.sessionId}),
             0);
    // ... and once the grace is over, even an unused pair does not make the old token good again.
    m_server.clock().advance(2'000);
    QCOMPARE(refresh(l2.refresh).str("error"), std::string("refresh_token_reused"));
}

void TestSessionsApi::retryTokenIsSealedAndShortLived()
{
    auto sealedOf = [&](const QString& sessionId) {
        auto q = m_server.db().exec(QStringLiteral("SELECT refresh_retry_sealed FROM user_sessions WHERE id = ?"), {sessionId});
        QVariant v;
        if (q && (*q)->next())
            v = (*q)->value(0);
        if (q)
            (*q)->finish();
        return v;
    };
    Login l = login(newUser());
    QVERIFY(sealedOf(l.sessionId).isNull()); // nothing to retry before the first rotation
    auto r = refresh(l.refresh);
    QCOMPARE(r.status, 200);
    const QByteArray newRefresh = b(r.str("refreshToken"));
    const QString sealed = sealedOf(l.sessionId).toString();
    QVERIFY(sealed.startsWith(u"v1."));
    QVERIFY(!sealed.contains(QString::fromLatin1(newRefresh))); // never the plain token
    // First use of the new pair erases it.
    QCOMPARE(listStatus(b(r.str("accessToken"))), 200);
    QVERIFY(sealedOf(l.sessionId).isNull());

    // An unused one is erased by the cleanup job once the grace has passed.
    Login l2 = login(newUser());
    QCOMPARE(refresh(l2.refresh).status, 200);
    QVERIFY(!sealedOf(l2.sessionId).isNull());
    m_server.clock().advance(11'000);
    QVERIFY(m_server.services().service.cleanup(AuditActor{{}, {}, QStringLiteral("system"), QStringLiteral("test")}));
    QVERIFY(sealedOf(l2.sessionId).isNull());
}

void TestSessionsApi::refreshTokensCannotBeMintedFromKeys()
{
    // Before the key hierarchy a refresh token was the session id, a generation and an HMAC tag
    // under a key derived from JWT_SECRET: anyone with it could mint any session's token. Tokens
    // built that way, with that key or with the access-token signing key, are now worthless, and
    // presenting them does not harm the session they name.
    Login l = login(newUser());
    const QByteArray root = "integration-test-secret-0123456789abcdef0123456789"; // InProcessServer's JWT_SECRET
    const QByteArray sid = QUuid::fromString(l.sessionId).toRfc4122();
    for (const QByteArray& key : {crypto::hmacSha256(root, "ehrs-token-derivation-v1"), root,
                                  KeyHierarchy::fromRoot(root).accessTokenHs256}) {
        for (quint32 generation : {0u, 1u}) {
            QByteArray g(4, '\0');
            g[3] = char(generation);
            const QByteArray forged =
                crypto::base64UrlEncode(sid + g + crypto::hmacSha256(key, "ehrs-refresh-v1" + sid + g).left(28));
            QVERIFY(forged != l.refresh);
            auto r = refresh(forged);
            QCOMPARE(r.status, 401);
            QCOMPARE(r.str("error"), std::string("unauthorized"));
        }
    }
    QCOMPARE(listStatus(l.access), 200);
    auto real = refresh(l.refresh);
    QCOMPARE(real.status, 200);
    // The real token has 32 bytes after the session id that no key predicts.
    QCOMPARE(crypto::base64UrlDecode(l.refresh)->left(16), sid);
}

void TestSessionsApi::oldSchemeRefreshTokenStillRefreshes()
{
    // A session started before the upgrade holds a token of the old (HMAC) scheme; only its hash
    // is stored, so it refreshes once more and the client carries on with a random token.
    Login l = login(newUser());
    const QByteArray sid = QUuid::fromString(l.sessionId).toRfc4122();
    const QByteArray g(4, '\0');
    const QByteArray oldToken = crypto::base64UrlEncode(
        sid + g + crypto::hmacSha256("some-pre-upgrade-derivation-key", "ehrs-refresh-v1" + sid + g).left(28));
    QVERIFY(m_server.db().execute(QStringLiteral("UPDATE user_sessions SET refresh_token_hash = ? WHERE id = ?"),
                                  {QString::fromLatin1(crypto::sha256Hex(oldToken)), l.sessionId}));
    auto r = refresh(oldToken);
    QCOMPARE(r.status, 200);
    QVERIFY(b(r.str("refreshToken")) != oldToken);
    QCOMPARE(listStatus(b(r.str("accessToken"))), 200);
    QCOMPARE(refresh(b(r.str("refreshToken"))).status, 200);
}

void TestSessionsApi::concurrentRefreshesLeaveOneChain()
{
    Login l = login(newUser());
    const QByteArray request =
        ApiClient::build("POST", "/api/sessions/refresh", api().hostHeader(), {{"refreshToken", l.refresh.toStdString()}}, {}, {});
    const QList<ApiResponse> responses = api().parallel(QList<QByteArray>(20, request));
    QCOMPARE(responses.size(), 20);
    std::set<std::string> refreshTokens, accessTokens;
    for (const auto& r : responses) {
        QCOMPARE(r.status, 200);
        refreshTokens.insert(r.str("refreshToken"));
        accessTokens.insert(r.str("accessToken"));
    }
    // Serialised and deterministic: every caller got the same single successor pair.
    QCOMPARE(refreshTokens.size(), size_t(1));
    QCOMPARE(accessTokens.size(), size_t(1));
    auto row = sessionRow(l.sessionId);
    QCOMPARE(row->at(2).toInt(), 1);
    QCOMPARE(row->at(1).toString().toLatin1(), crypto::sha256Hex(b(*refreshTokens.begin())));
    QCOMPARE(listStatus(b(*accessTokens.begin())), 200);
    auto next = refresh(b(*refreshTokens.begin()));
    QCOMPARE(next.status, 200);
    QCOMPARE(listStatus(b(next.str("accessToken"))), 200);
}

void TestSessionsApi::listMarksCurrentSession()
{
    const QString email = newUser();
    Login phone = login(email, kIphoneUa);
    Login pc = login(email, kWindowsEdgeUa);
    Login third = login(email, "curl/8.4.0");
    auto r = api().request("GET", "/api/sessions", nullptr, pc.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json["total"].get<int>(), 3);
    QCOMPARE(r.json["sessions"].size(), size_t(3));
    int current = 0;
    for (const auto& s : r.json["sessions"]) {
        const QString id = QString::fromStdString(s["id"].get<std::string>());
        for (const char* field : {"createdAt", "lastActivityAt", "expiresAt", "ipAddress", "location", "userAgent"})
            QVERIFY2(s.contains(field), field);
        if (s["isCurrent"].get<bool>()) {
            ++current;
            QCOMPARE(id, pc.sessionId);
            QCOMPARE(s["deviceInfo"]["browser"].get<std::string>(), std::string("Edge 120"));
        }
        if (id == phone.sessionId) {
            QCOMPARE(s["deviceInfo"]["type"].get<std::string>(), std::string("mobile"));
            QCOMPARE(s["deviceInfo"]["os"].get<std::string>(), std::string("iOS 17.1"));
        }
        QCOMPARE(s["ipAddress"].get<std::string>(), std::string("127.0.0.1"));
        QCOMPARE(s["location"].get<std::string>(), std::string("Local network"));
        QVERIFY(s["isActive"].get<bool>());
    }
    QCOMPARE(current, 1);
    Q_UNUSED(third);
}

void TestSessionsApi::renameSession()
{
    const QString email = newUser();
    Login a = login(email);
    Login b2 = login(email);
    auto r = api().request("PATCH", "/api/sessions/" + b2.sessionId.toLatin1(), {{"name", "Ward 3 tablet"}}, a.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json["session"]["name"].get<std::string>(), std::string("Ward 3 tablet"));
    auto list = api().request("GET", "/api/sessions", nullptr, b2.access);
    bool seen = false;
    for (const auto& s : list.json["sessions"])
        seen = seen || (s["id"].get<std::string>() == b2.sessionId.toStdString() && s["name"] == "Ward 3 tablet");
    QVERIFY(seen);
    Login stranger = login(newUser());
    auto other = api().request("PATCH", "/api/sessions/" + a.sessionId.toLatin1(), {{"name", "mine now"}}, stranger.access);
    QCOMPARE(other.status, 404);
}

void TestSessionsApi::revokeMakesTokenFail()
{
    const QString email = newUser();
    Login a = login(email);
    Login b2 = login(email);
    QCOMPARE(listStatus(b2.access), 200); // cached as live first: revocation must beat the cache
    auto r = api().request("DELETE", "/api/sessions/" + b2.sessionId.toLatin1(), nullptr, a.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json["success"].get<bool>(), true);
    auto denied = api().request("GET", "/api/sessions", nullptr, b2.access);
    QCOMPARE(denied.status, 401);
    QCOMPARE(denied.str("error"), std::string("session_revoked"));
    QCOMPARE(refresh(b2.refresh).str("error"), std::string("session_revoked"));
    auto list = api().request("GET", "/api/sessions", nullptr, a.access);
    QCOMPARE(list.json["total"].get<int>(), 1);
    // Revoking it again: it is no longer a live session of the caller.
    QCOMPARE(api().request("DELETE", "/api/sessions/" + b2.sessionId.toLatin1(), nullptr, a.access).status, 404);
}

void TestSessionsApi::revokeAllOthersKeepsCurrent()
{
    const QString email = newUser();
    Login keep = login(email);
    Login o1 = login(email);
    Login o2 = login(email);
    auto wrong = api().request("DELETE", "/api/sessions", {{"password", "definitely wrong"}}, keep.access);
    QCOMPARE(wrong.status, 403);
    QCOMPARE(listStatus(o1.access), 200);
    QCOMPARE(listStatus(o2.access), 200);
    auto r = api().request("DELETE", "/api/sessions", {{"password", kPassword.toStdString()}}, keep.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json["revokedCount"].get<int>(), 2);
    QCOMPARE(listStatus(o1.access), 401);
    QCOMPARE(listStatus(o2.access), 401);
    auto list = api().request("GET", "/api/sessions", nullptr, keep.access);
    QCOMPARE(list.json["total"].get<int>(), 1);
    QCOMPARE(QString::fromStdString(list.json["sessions"][0]["id"].get<std::string>()), keep.sessionId);
}

void TestSessionsApi::otherUsersSessionIs404()
{
    Login victim = login(newUser());
    Login attacker = login(newUser());
    auto r = api().request("DELETE", "/api/sessions/" + victim.sessionId.toLatin1(), nullptr, attacker.access);
    QCOMPARE(r.status, 404);
    QCOMPARE(listStatus(victim.access), 200);
    QVERIFY(sessionRow(victim.sessionId)->at(3).isNull());
}

void TestSessionsApi::logoutEndsSession()
{
    Login l = login(newUser());
    auto r = api().request("POST", "/api/auth/logout", nullptr, l.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(listStatus(l.access), 401);
    QCOMPARE(refresh(l.refresh).status, 401);
    QCOMPARE(api().request("POST", "/api/auth/logout", nullptr, l.access).status, 401);
}

void TestSessionsApi::cleanupRemovesOnlyOldSessions()
{
    const QString email = newUser();
    Login live = login(email);
    Login revoked = login(email);
    Login expired = login(email);
    QCOMPARE(api().request("DELETE", "/api/sessions/" + revoked.sessionId.toLatin1(), nullptr, live.access).status, 200);
    QVERIFY(m_server.db().execute(QStringLiteral("UPDATE user_sessions SET expires_at = ? WHERE id = ?"),
                          {QDateTime::currentMSecsSinceEpoch() - 1000, expired.sessionId}));
    const QString adminEmail = newUser(QStringLiteral("admin"));
    Login admin = login(adminEmail);
    QCOMPARE(api().request("POST", "/api/sessions/cleanup", nullptr, live.access).status, 403);
    auto r = api().request("POST", "/api/sessions/cleanup", nullptr, admin.access);
    QCOMPARE(r.status, 200);
    QVERIFY(r.json["cleanedCount"].get<int>() >= 2);
    QVERIFY(!sessionRow(revoked.sessionId));
    QVERIFY(!sessionRow(expired.sessionId));
    QVERIFY(sessionRow(live.sessionId));
    QVERIFY(sessionRow(admin.sessionId));
    QCOMPARE(listStatus(live.access), 200);
    QCOMPARE(refresh(live.refresh).status, 200);
    QVERIFY(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'cleanup'")) >= 1);
}

void TestSessionsApi::adminRevokesUserSessions()
{
    const QString email = newUser();
    Login s1 = login(email);
    Login s2 = login(email);
    Login admin = login(newUser(QStringLiteral("admin")));
    QCOMPARE(api().request("DELETE", "/api/admin/users/" + s1.userId.toLatin1() + "/sessions", nullptr, s2.access).status, 403);
    auto r = api().request("DELETE", "/api/admin/users/" + s1.userId.toLatin1() + "/sessions", nullptr, admin.access);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json["revokedCount"].get<int>(), 2);
    QCOMPARE(listStatus(s1.access), 401);
    QCOMPARE(listStatus(s2.access), 401);
    QCOMPARE(api().request("DELETE", "/api/admin/users/00000000-0000-4000-8000-000000000000/sessions", nullptr, admin.access).status, 404);
}

void TestSessionsApi::auditHasNoSecrets()
{
    Login l = login(newUser());
    auto r = refresh(l.refresh);
    QCOMPARE(r.status, 200);
    auto q = m_server.db().exec(QStringLiteral("SELECT COALESCE(CAST(details AS TEXT), ''), COALESCE(user_agent, '') FROM audit_events"));
    QVERIFY(q);
    int rows = 0;
    while ((*q)->next()) {
        ++rows;
        const QString text = (*q)->value(0).toString() + (*q)->value(1).toString();
        QVERIFY(!text.contains(QString::fromLatin1(l.refresh)));
        QVERIFY(!text.contains(QString::fromLatin1(l.access)));
        QVERIFY(!text.contains(QString::fromLatin1(crypto::sha256Hex(l.refresh))));
        QVERIFY(!text.contains(QString::fromLatin1(kPassword)));
    }
    (*q)->finish();
    QVERIFY(rows > 0);
}

void TestSessionsApi::failedLoginsAreRateLimited()
{
    const QString email = newUser();
    const QString other = newUser();
    const Json wrong{{"email", email.toStdString()}, {"password", "wrong password!!"}};
    for (int i = 0; i < 10; ++i)
        QCOMPARE(api().request("POST", "/api/auth/login", wrong).status, 401);
    auto limited = api().request("POST", "/api/auth/login", wrong);
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.str("error"), std::string("rate_limited"));
    const int retryAfter = limited.header("retry-after").toInt();
    QVERIFY(retryAfter >= 1 && retryAfter <= 2 * 900 + 1);
    // Locked out even with the right password, until the announced wait passes; others are unaffected.
    const Json right{{"email", email.toStdString()}, {"password", kPassword.toStdString()}};
    QCOMPARE(api().request("POST", "/api/auth/login", right).status, 429);
    QVERIFY(!login(other).access.isEmpty());
    QVERIFY(count(QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'rate_limited'")) >= 1);
    // Retry-After is the wait that works: a few seconds short it is still 429, then it passes.
    m_server.clock().advance(qint64(retryAfter - 2) * 1000);
    QCOMPARE(api().request("POST", "/api/auth/login", right).status, 429);
    m_server.clock().advance(2 * 1000);
    QVERIFY(!login(email).access.isEmpty());
}

void TestSessionsApi::metricsParseAsPrometheusText()
{
    Login l = login(newUser());
    QCOMPARE(refresh(l.refresh).status, 200);
    auto r = api().request("GET", "/metrics");
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("content-type").startsWith("text/plain; version=0.0.4"));
    const auto e = exposition::parseExposition(r.body);
    QVERIFY2(e.error.isEmpty(), e.error.constData());
    for (const char* family : {"ehrs_http_requests_total", "ehrs_http_request_duration_seconds", "ehrs_refreshes_total",
                               "ehrs_logins_total", "ehrs_active_sessions", "ehrs_redis_up", "ehrs_revocation_feed_up"})
        QVERIFY2(e.types.contains(family), family);
    QVERIFY(e.value("ehrs_refreshes_total") >= 1);
    QVERIFY(e.value("ehrs_http_requests_total", {{"route", "/api/auth/login"}, {"method", "POST"}, {"status", "200"}}) >= 1);
    QVERIFY(e.value("ehrs_active_sessions") >= 1);
    QCOMPARE(e.value("ehrs_redis_up"), postgres() ? 1.0 : 0.0);
    // Nothing secret in there.
    QVERIFY(!r.body.contains(l.refresh) && !r.body.contains(l.access));
}

void TestSessionsApi::metricsAreTheDocumentedOnes()
{
    // Make every family have a series (prometheus-cpp leaves out families without one): a login,
    // a refresh, a revocation (logout) and a rate limit.
    Login l = login(newUser());
    auto refreshed = refresh(l.refresh);
    QCOMPARE(refreshed.status, 200);
    const QByteArray access = QByteArray::fromStdString(refreshed.str("accessToken"));
    QCOMPARE(api().request("POST", "/api/auth/logout", nullptr, access).status, 200);
    const Json wrong{{"email", newUser().toStdString()}, {"password", "wrong password!!"}};
    int status = 0;
    for (int i = 0; i < 20 && status != 429; ++i)
        status = api().request("POST", "/api/auth/login", wrong).status;
    QCOMPARE(status, 429);
    auto r = api().request("GET", "/metrics");
    QCOMPARE(r.status, 200);
    const auto e = exposition::parseExposition(r.body);
    QVERIFY2(e.error.isEmpty(), e.error.constData());
    QStringList served;
    for (const QByteArray& family : e.families) {
        if (family.startsWith("ehrs_"))
            served << QString::fromLatin1(family);
    }
    // The names docs/operations.md lists under "Metrics", before its own subsections.
    QFile docs(QStringLiteral(EHRS_SOURCE_DIR "/docs/operations.md"));
    QVERIFY(docs.open(QIODevice::ReadOnly));
    QString section = QString::fromUtf8(docs.readAll());
    section = section.mid(section.indexOf(u"\n## Metrics\n"));
    section = section.left(section.indexOf(u"\n#", 5));
    QStringList documented;
    for (const auto& m : QRegularExpression(QStringLiteral("ehrs_[a-z_]+")).globalMatch(section))
        documented << m.captured();
    documented.removeDuplicates();
    documented.sort();
    served.sort();
    QCOMPARE(served, documented);
}

void TestSessionsApi::openApiDescribesEveryRoute()
{
    auto r = api().request("GET", "/api/openapi.json");
    QCOMPARE(r.status, 200);
    QVERIFY(r.json.is_object());
    QCOMPARE(r.str("openapi"), std::string("3.1.0"));
    const auto& paths = r.json["paths"];
    std::set<std::string> documented;
    for (auto it = paths.begin(); it != paths.end(); ++it) {
        for (auto m = it.value().begin(); m != it.value().end(); ++m)
            documented.insert(QByteArray::fromStdString(m.key()).toUpper().toStdString() + ' ' + it.key());
    }
    std::set<std::string> registered;
    for (QByteArray route : m_server.app().routes()) {
        route.replace(":id", "{id}");
        registered.insert(route.toStdString());
    }
    for (const auto& route : registered)
        QVERIFY2(documented.count(route), route.c_str());
    for (const auto& route : documented)
        QVERIFY2(registered.count(route), route.c_str());
    // Every operation documents at least one success response.
    for (auto it = paths.begin(); it != paths.end(); ++it) {
        for (auto m = it.value().begin(); m != it.value().end(); ++m)
            QVERIFY2(m.value().contains("responses") && !m.value()["responses"].empty(), it.key().c_str());
    }
}

void TestSessionsApi::busyWorkerDoesNotBlockOthers()
{
    Login l = login(newUser());
    // Hold the session's row (PostgreSQL) or the database write lock (SQLite) from the test's own
    // connection: a refresh of that session now waits inside the worker thread that took it.
    Transaction tx(m_server.db());
    QVERIFY(tx.begin());
    if (postgres()) {
        auto q = m_server.db().exec(QStringLiteral("SELECT id FROM user_sessions WHERE id = ? FOR UPDATE"), {l.sessionId});
        QVERIFY(q);
        (*q)->finish();
    }
    QTcpSocket stuck;
    stuck.connectToHost(QHostAddress::LocalHost, quint16(m_server.app().url().port()));
    QVERIFY(stuck.waitForConnected(2000));
    stuck.write(ApiClient::build("POST", "/api/sessions/refresh", api().hostHeader(), {{"refreshToken", l.refresh.toStdString()}},
                                 {}, {}));
    QVERIFY(stuck.waitForBytesWritten(2000));
    QTest::qWait(200);
    // New connections are spread over the workers by a hash of their address; those that land on
    // the other worker answer at once (32 tries: all on the blocked one has odds of 2^-32).
    int quick = 0;
    for (int i = 0; i < 32 && quick == 0; ++i) {
        QElapsedTimer t;
        t.start();
        auto r = api().raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 600);
        if (r.status == 200 && t.elapsed() < 500)
            ++quick;
    }
    QVERIFY2(quick >= 1, "every worker was blocked by one slow request");
    QVERIFY(stuck.bytesAvailable() == 0); // the refresh is still waiting for the lock
    QVERIFY(tx.commit());
    // Released: the held request completes normally.
    QByteArray reply;
    QElapsedTimer t;
    t.start();
    while (!reply.contains("\r\n\r\n") && t.elapsed() < 10000) {
        stuck.waitForReadyRead(100);
        reply += stuck.readAll();
    }
    QVERIFY2(reply.startsWith("HTTP/1.1 200"), reply.left(80).constData());
}

void TestSessionsApi::redisOutageFallsBackToDatabase()
{
    if (!postgres())
        QSKIP("the embedded default has no Redis; the PostgreSQL run covers the outage");
    QCOMPARE(api().request("GET", "/readyz").json["cache"].get<std::string>(), std::string("redis"));
    const QString email = newUser();
    Login a = login(email);
    Login b2 = login(email);
    QCOMPARE(listStatus(b2.access), 200); // b2's token is now cached as live in Redis

    m_server.redis()->stop(); // graceful: its data (the live entry) survives the restart
    // Every endpoint keeps working from PostgreSQL.
    Login c = login(email);
    QVERIFY(!c.access.isEmpty());
    auto r = refresh(c.refresh);
    QCOMPARE(r.status, 200);
    QCOMPARE(listStatus(b(r.str("accessToken"))), 200);
    QCOMPARE(api().request("DELETE", "/api/sessions/" + b2.sessionId.toLatin1(), nullptr, a.access).status, 200);
    QCOMPARE(listStatus(b2.access), 401); // revocation enforced without Redis
    QVERIFY(waitForCacheMode("database-fallback"));

    // Redis comes back with the stale "live" entry for b2: it must not resurrect the session.
    QVERIFY(m_server.redis()->start(/*appendOnly=*/true));
    QVERIFY(waitForCacheMode("redis"));
    for (int i = 0; i < 4; ++i) // both worker threads, whichever gets the connection
        QCOMPARE(listStatus(b2.access), 401);
    QCOMPARE(listStatus(a.access), 200);
    auto again = refresh(b(r.str("refreshToken")));
    QCOMPARE(again.status, 200);

    // A hard crash (SIGKILL) in the middle of traffic: still served, then recovered.
    m_server.redis()->kill();
    QCOMPARE(listStatus(b(again.str("accessToken"))), 200);
    QCOMPARE(login(email).access.isEmpty(), false);
    QVERIFY(m_server.redis()->start(true));
    QVERIFY(waitForCacheMode("redis"));
}

QTEST_GUILESS_MAIN(TestSessionsApi)
#include "TestSessionsApi.moc"
