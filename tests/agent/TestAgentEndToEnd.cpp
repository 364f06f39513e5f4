// SPDX-License-Identifier: Apache-2.0
// The agent binary against a real server process and the real keychain (scripts/test.sh runs this
// inside dbus-run-session with an unlocked gnome-keyring). Access tokens live 6 s here, so every
// refresh-related behaviour shows within seconds.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"
#include "mfa/Totp.h"
#include "net/ServerClient.h"
#include "storage/KeychainTokenStore.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTest>
#include <QUrl>
#include <nlohmann/json.hpp>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");

/// Collects the events pushed to one subscribed client.
struct Subscriber
{
    ipc::AgentClient client;
    QList<ipc::Event> events;

    bool attach(const QString& socketPath)
    {
        QObject::connect(&client, &ipc::AgentClient::eventReceived, [this](const ipc::Event& e) { events << e; });
        return await(client.connectToAgent(socketPath)) && await(client.subscribe());
    }
    template <typename E>
    const E* find() const
    {
        for (const auto& e : events) {
            if (const auto* hit = std::get_if<E>(&e))
                return hit;
        }
        return nullptr;
    }
};
} // namespace

class TestAgentEndToEnd : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void loginThenTokenIsAcceptedByServer();
    void refreshBeforeExpiryPushesTokenRefreshed();
    void sigkillAndRestartStaysSignedIn();
    void crashBetweenRotationAndKeychainWriteStaysSignedIn();
    void newSignInAndRevocationReachSubscribers();
    void serverDownThenBackRecovers();
    void loginWithTotpSecondStep();
    void othersFailuresDoNotLockOutThisDevice();

private:
    QString newUser();
    bool signIn(AgentProcess& agent, const QString& email);
    int httpStatus(const QByteArray& verb, const QString& path, const QString& bearer, QByteArray* body = nullptr);
    QString token(AgentProcess& agent);
    ipc::StatusReply status(AgentProcess& agent);
    std::optional<QString> keychainEntry(const AgentProcess& agent, const QString& email);

    ehrs::test::ServerProcess m_server;
    QNetworkAccessManager m_network;
    int m_users = 0;
};

void TestAgentEndToEnd::loginWithTotpSecondStep()
{
    const QString email = newUser();
    QVERIFY(!email.isEmpty());
    // Enrol TOTP through the server's API, as the desktop app does.
    ehrs::test::ApiClient api(m_server.url());
    auto first = api.request("POST", "/api/auth/login", {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
    QCOMPARE(first.status, 200);
    const QByteArray access = QByteArray::fromStdString(first.str("accessToken"));
    auto setup = api.request("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, access);
    QCOMPARE(setup.status, 200);
    const QByteArray secret = *ehrs::server::Totp::base32Decode(QString::fromStdString(setup.str("secret")));
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QCOMPARE(api.request("POST", "/api/auth/mfa/enable", {{"code", ehrs::server::Totp::code(secret, now).toStdString()}}, access).status,
             200);

    AgentProcess agent;
    QVERIFY(agent.start());
    // Wrong code: a clear failure, not signed in.
    auto wrong = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                            QStringLiteral("--password-stdin"), email},
                           kPassword.toUtf8() + "\n000000\n");
    QVERIFY(wrong.exitCode != 0);
    QVERIFY(token(agent).isEmpty());
    // The next step's code (the enrolment used the current one).
    const QString code = ehrs::server::Totp::code(secret, now + 30);
    auto ok = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                         QStringLiteral("--password-stdin"), email},
                        kPassword.toUtf8() + '\n' + code.toUtf8() + '\n');
    QVERIFY2(ok.exitCode == 0, ok.err.constData());
    const QString t = token(agent);
    QVERIFY(!t.isEmpty());
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), t), 200);
}

void TestAgentEndToEnd::othersFailuresDoNotLockOutThisDevice()
{
    const QString email = newUser();
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    // The device credential is in the keychain next to the account, and outlives the sign-out.
    KeychainTokenStore store(agent.keychainService());
    const QString server = m_server.url().toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
    const auto credential = await(store.loadDeviceCredential(server, email));
    QVERIFY(credential);
    QVERIFY2(credential->size() >= 22, qPrintable(*credential));
    QCOMPARE(agent.cli({QStringLiteral("logout")}).exitCode, 0);
    QVERIFY(!keychainEntry(agent, email));
    QCOMPARE(await(store.loadDeviceCredential(server, email)).value_or(QString()), *credential);

    // Someone else uses up the account's budget for failed logins: unknown clients are locked out.
    ehrs::test::ApiClient api(m_server.url());
    for (int i = 0; i < 11; ++i)
        (void)api.request("POST", "/api/auth/login",
                          {{"email", email.toStdString()}, {"password", "a wrong guess"}});
    QCOMPARE(api.request("POST", "/api/auth/login",
                         {{"email", email.toStdString()}, {"password", kPassword.toStdString()}})
                 .status,
             429);
    // The clinician's agent presents its credential and signs in all the same.
    QVERIFY(signIn(agent, email));
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), token(agent)), 200);
}

void TestAgentEndToEnd::initTestCase()
{
    KeychainTokenStore probe(QStringLiteral("ehr-sessions-test-probe"));
    auto loaded = await(probe.load());
    if (!loaded && loaded.error().code == ErrorCode::Unavailable) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL(qPrintable(loaded.error().message));
        QSKIP(qPrintable(QStringLiteral("no keychain: ") + loaded.error().message));
    }
    m_server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("6"));
    // The crash test retries about 8 s after the rotation (longer on a loaded machine): well
    // within this grace, so the retry is a lost response and never re-use.
    m_server.setEnv(QStringLiteral("REFRESH_GRACE_SECONDS"), QStringLiteral("60"));
    QVERIFY(m_server.start());
}

QString TestAgentEndToEnd::newUser()
{
    const QString email = QStringLiteral("clinician%1@example.org").arg(++m_users);
    if (!m_server.addUser(email, kPassword, QStringLiteral("Clinician %1").arg(m_users)))
        return {};
    return email;
}

bool TestAgentEndToEnd::signIn(AgentProcess& agent, const QString& email)
{
    auto r = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                        QStringLiteral("--password-stdin"), email},
                       kPassword.toUtf8() + '\n');
    if (r.exitCode != 0)
        qWarning("login failed (%d): %s\nagent log:\n%s", r.exitCode, r.err.constData(), agent.log().constData());
    return r.exitCode == 0;
}

int TestAgentEndToEnd::httpStatus(const QByteArray& verb, const QString& path, const QString& bearer, QByteArray* body)
{
    QUrl url = m_server.url();
    url.setPath(path);
    QNetworkRequest request(url);
    if (!bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + bearer.toUtf8());
    QNetworkReply* reply = m_network.sendCustomRequest(request, verb);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    if (body)
        *body = reply->readAll();
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QString TestAgentEndToEnd::token(AgentProcess& agent)
{
    auto r = agent.cli({QStringLiteral("token")});
    if (r.exitCode != 0)
        return {};
    return QString::fromUtf8(r.out).trimmed();
}

ipc::StatusReply TestAgentEndToEnd::status(AgentProcess& agent)
{
    auto r = agent.cli({QStringLiteral("status"), QStringLiteral("--json")});
    auto s = ipc::statusReplyFromPayload(r.out.trimmed());
    return s ? *s : ipc::StatusReply{};
}

std::optional<QString> TestAgentEndToEnd::keychainEntry(const AgentProcess& agent, const QString& email)
{
    KeychainTokenStore store(agent.keychainService());
    StoredAccount key;
    key.serverUrl = m_server.url().toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
    key.email = email;
    auto entry = await(store.readEntry(key.storageKey()));
    return entry ? *entry : std::nullopt;
}

void TestAgentEndToEnd::loginThenTokenIsAcceptedByServer()
{
    const QString email = newUser();
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));

    auto r = agent.cli({QStringLiteral("token")});
    QCOMPARE(r.exitCode, 0);
    const QByteArray out = r.out;
    QCOMPARE(out.count('\n'), 1); // the token and nothing else
    const QString access = QString::fromUtf8(out).trimmed();
    QCOMPARE(access.count(u'.'), 2); // a JWT

    QByteArray body;
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access, &body), 200);
    auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    auto sessions = sessionListFromJson(j);
    QVERIFY(sessions);
    QCOMPARE(sessions->size(), size_t(1));
    QVERIFY(sessions->front().deviceInfo.browser.startsWith(u"EHR Sessions Agent"));
    QVERIFY(!sessions->front().deviceInfo.name.isEmpty());

    // The refresh token is in the keychain, and never in anything the socket says.
    auto entry = keychainEntry(agent, email);
    QVERIFY(entry);
    auto stored = StoredAccount::fromJson(entry->toUtf8());
    QVERIFY(stored);
    QCOMPARE(stored->sessionId, sessions->front().id);
    QVERIFY(!stored->refreshToken.isEmpty());
    auto st = agent.cli({QStringLiteral("status"), QStringLiteral("--json")});
    QCOMPARE(st.exitCode, 0);
    QVERIFY(!st.out.contains(stored->refreshToken.toUtf8()));
    QVERIFY(st.out.contains(email.toUtf8()));

    // Not signed in → `token` fails with a one-line reason and nothing on stdout.
    QCOMPARE(agent.cli({QStringLiteral("logout")}).exitCode, 0);
    auto after = agent.cli({QStringLiteral("token")});
    QVERIFY(after.exitCode != 0);
    QVERIFY(after.out.isEmpty());
    QCOMPARE(after.err.trimmed().count('\n'), 0);
    QVERIFY(!keychainEntry(agent, email));
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access), 401); // revoked on the server
}

void TestAgentEndToEnd::refreshBeforeExpiryPushesTokenRefreshed()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const QString first = token(agent);
    QVERIFY(!first.isEmpty());
    Subscriber sub;
    QVERIFY(sub.attach(agent.socketPath()));
    // 6 s tokens are refreshed at ~80%: an event must arrive before the first one expires.
    QElapsedTimer t;
    t.start();
    QTRY_VERIFY_WITH_TIMEOUT(sub.find<ipc::TokenRefreshedEvent>() != nullptr, 8000);
    QVERIFY(t.elapsed() < 6000);
    const QString pushed = sub.find<ipc::TokenRefreshedEvent>()->accessToken;
    QVERIFY(pushed != first);
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), pushed), 200);
    QCOMPARE(token(agent), pushed);
    const auto s = status(agent);
    QVERIFY(s.signedIn);
    QVERIFY(s.nextRefreshAt.isValid());
    QVERIFY(s.lastRefreshAt.isValid());
    QVERIFY(s.nextRefreshAt < s.accessTokenExpiresAt);
}

void TestAgentEndToEnd::sigkillAndRestartStaysSignedIn()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const QString sessionId = status(agent).sessionId;
    QVERIFY(!sessionId.isEmpty());
    // Let a rotation or two happen first, so the keychain holds a rotated token.
    QTest::qWait(7000);
    agent.kill();
    QVERIFY(agent.start());
    const QString access = token(agent);
    QVERIFY2(!access.isEmpty(), agent.log().constData());
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access), 200);
    const auto s = status(agent);
    QVERIFY(s.signedIn);
    QCOMPARE(s.sessionId, sessionId); // the same session, no new sign-in
    QCOMPARE(s.email, email);
}

void TestAgentEndToEnd::crashBetweenRotationAndKeychainWriteStaysSignedIn()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const QString sessionId = status(agent).sessionId;
    const auto before = StoredAccount::fromJson(keychainEntry(agent, email).value_or(QString()).toUtf8());
    QVERIFY(before);
    agent.kill();

    // The restarted agent refreshes at once; the hook kills it after the server rotated the token
    // and before the keychain write.
    agent.setEnv(QStringLiteral("EHRS_AGENT_TEST_CRASH_AFTER_ROTATION"), QStringLiteral("1"));
    (void)agent.start(); // false when it is already gone by the time its socket is probed
    QCOMPARE(agent.waitForExit(15000), 86);
    const auto after = StoredAccount::fromJson(keychainEntry(agent, email).value_or(QString()).toUtf8());
    QVERIFY(after);
    QCOMPARE(after->refreshToken, before->refreshToken); // the rotated token never reached the keychain

    // Stay down past the access token's lifetime (but within REFRESH_GRACE_SECONDS): the server
    // then replays a pair whose access token has expired, which the agent must rotate once more
    // instead of handing out.
    QTest::qWait(7000);
    agent.unsetEnv(QStringLiteral("EHRS_AGENT_TEST_CRASH_AFTER_ROTATION"));
    QVERIFY(agent.start());
    const auto t = agent.cli({QStringLiteral("token")});
    QVERIFY2(t.exitCode == 0, (t.err + "\nagent log:\n" + agent.log()).constData());
    const QString access = QString::fromUtf8(t.out).trimmed();
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access), 200);
    const auto s = status(agent);
    QVERIFY(s.signedIn);
    QCOMPARE(s.sessionId, sessionId);
    // And it keeps refreshing normally afterwards (no reuse detection tripped) while in use: an app
    // asks once more after the restart's refreshes (issue 14: an unused agent does not refresh).
    Subscriber sub;
    QVERIFY(sub.attach(agent.socketPath()));
    QTest::qWait(1000);
    QVERIFY(!token(agent).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(sub.find<ipc::TokenRefreshedEvent>() != nullptr, 8000);
    QVERIFY(!sub.find<ipc::SignedOutEvent>());
}

void TestAgentEndToEnd::newSignInAndRevocationReachSubscribers()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const QString agentSession = status(agent).sessionId;
    Subscriber sub;
    QVERIFY(sub.attach(agent.socketPath()));

    // The same account signs in somewhere else ...
    ServerClient other(m_network);
    LoginRequest login{email, kPassword, DeviceInfo{QStringLiteral("mobile"), QStringLiteral("Pixel 7"),
                                                    QStringLiteral("Android 14"), QStringLiteral("Chrome 120")}};
    auto outcome = await(other.login(m_server.url(), login));
    QVERIFY(outcome);
    const auto otherTokens = std::get<AuthTokens>(*outcome);
    // ... which the agent notices alongside its next refresh.
    QTRY_VERIFY_WITH_TIMEOUT(sub.find<ipc::NewSignInEvent>() != nullptr, 10000);
    const auto* signIn = sub.find<ipc::NewSignInEvent>();
    QCOMPARE(signIn->sessionId, otherTokens.sessionId);
    QVERIFY(signIn->device.contains(u"Chrome 120"));
    QVERIFY(!signIn->ipAddress.isEmpty());

    // From that other device, the user revokes the agent's session (with a fresh access token:
    // on a loaded machine the wait above can outlast this test's 6 s access tokens).
    auto fresh = await(other.refresh(m_server.url(), otherTokens.refreshToken));
    QVERIFY(fresh);
    QCOMPARE(httpStatus("DELETE", QStringLiteral("/api/sessions/") + agentSession, fresh->accessToken), 200);
    QTRY_VERIFY_WITH_TIMEOUT(sub.find<ipc::SignedOutEvent>() != nullptr, 10000);
    QCOMPARE(sub.find<ipc::SignedOutEvent>()->reason, QStringLiteral("session_revoked"));
    const auto* revoked = sub.find<ipc::SessionRevokedEvent>();
    QVERIFY(revoked);
    QCOMPARE(revoked->sessionId, agentSession);
    QVERIFY(revoked->current);
    // The event is sent after the keychain entry is deleted.
    QVERIFY(!keychainEntry(agent, email));
    const auto s = status(agent);
    QVERIFY(!s.signedIn);
    QCOMPARE(s.signedOutReason, QStringLiteral("session_revoked"));
    auto t = agent.cli({QStringLiteral("token")});
    QVERIFY(t.exitCode != 0);
    QVERIFY(t.out.isEmpty());
    QVERIFY(!t.err.isEmpty());
}

void TestAgentEndToEnd::serverDownThenBackRecovers()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const int port = m_server.url().port();
    const QString sessionId = status(agent).sessionId;
    // An app at work (issue 14): an agent nobody uses does not refresh, so would not notice.
    QVERIFY(!token(agent).isEmpty());

    m_server.stop();
    // Long enough for the token to expire and several retries to fail.
    QTRY_VERIFY_WITH_TIMEOUT(!status(agent).lastError.isEmpty(), 15000);
    QTest::qWait(4000);
    auto down = status(agent);
    QVERIFY(down.signedIn); // a network failure never signs out
    QCOMPARE(down.state, QStringLiteral("offline"));
    QVERIFY(down.nextRefreshAt.isValid()); // a retry is scheduled

    Subscriber sub;
    QVERIFY(sub.attach(agent.socketPath()));
    QVERIFY(m_server.start({QStringLiteral("--port"), QString::number(port)}));
    QCOMPARE(m_server.url().port(), port);
    // Backoff is capped by the attempt count so far (< 16 s here): recovery needs no user action.
    QTRY_VERIFY_WITH_TIMEOUT(sub.find<ipc::TokenRefreshedEvent>() != nullptr, 30000);
    const QString access = token(agent);
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access), 200);
    const auto up = status(agent);
    QCOMPARE(up.state, QStringLiteral("signed-in"));
    QCOMPARE(up.sessionId, sessionId);
    QVERIFY(up.lastError.isEmpty());
}

QTEST_GUILESS_MAIN(TestAgentEndToEnd)
#include "TestAgentEndToEnd.moc"
