// SPDX-License-Identifier: Apache-2.0
#include "AgentServiceHarness.h"
#include "FakeClock.h"
#include "FakeHttpServer.h"
#include "FakeTokenStore.h"
#include "core/AgentService.h"
#include "net/ServerClient.h"
#include "refresh/RefreshScheduler.h"

#include <QNetworkAccessManager>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs;
using namespace ehrs::agent;
using namespace ehrs::agent::test;

namespace {
QByteArray refreshTokenOf(const QByteArray& body)
{
    auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    return j.is_object() && j.contains("refreshToken") ? QByteArray::fromStdString(j["refreshToken"].get<std::string>())
                                                         : QByteArray();
}

/// The server side of rotation: refresh token "rt-N" gets access "at-N+1" and "rt-N+1".
FakeHttpServer::Response rotate(const FakeHttpServer::Request& r)
{
    const int n = refreshTokenOf(r.body).mid(3).toInt();
    const nlohmann::json j{{"success", true},
                           {"token", "at-" + std::to_string(n + 1)},
                           {"accessToken", "at-" + std::to_string(n + 1)},
                           {"refreshToken", "rt-" + std::to_string(n + 1)},
                           {"expiresIn", 900},
                           {"sessionId", "s1"}};
    return {200, QByteArray::fromStdString(j.dump()), {}};
}

struct Harness : AgentServiceHarness
{
    bool start(const QString& refreshToken = QStringLiteral("rt-0"))
    {
        if (!http.start())
            return false;
        store.stored = StoredAccount{http.url().toString(), QStringLiteral("u1"), QStringLiteral("a@b.c"),
                                     QStringLiteral("s1"), refreshToken};
        createService();
        return true;
    }
    int refreshRequests() const
    {
        int n = 0;
        for (const auto& r : http.requests)
            n += r.path == "/api/sessions/refresh";
        return n;
    }
};
} // namespace

class TestAgentService : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void concurrentCallersShareOneRefresh();
    void rotatedTokenIsStoredBeforeHandout();
    void failedKeychainWriteRetriesWithOldToken();
    void endingErrorsSignOut_data();
    void endingErrorsSignOut();
    void transientErrorsBackOff_data();
    void transientErrorsBackOff();
    void deviceCredentialIsKeptAndPresented();
    void minValidIsNeverBroken();
    void cleartextOnlyToLoopback_data();
    void cleartextOnlyToLoopback();
    void loginRefusesCleartextToOtherHosts();
};

void TestAgentService::cleartextOnlyToLoopback_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("allowed");
    QTest::addColumn<bool>("allowedWithOptIn");
    QTest::newRow("https anywhere") << QStringLiteral("https://sessions.example.org") << true << true;
    QTest::newRow("http 127.0.0.1") << QStringLiteral("http://127.0.0.1:8000") << true << true;
    QTest::newRow("http 127.1.2.3") << QStringLiteral("http://127.1.2.3:8000") << true << true;
    QTest::newRow("http ::1") << QStringLiteral("http://[::1]:8000") << true << true;
    QTest::newRow("http localhost") << QStringLiteral("http://localhost:8000") << true << true;
    QTest::newRow("http LOCALHOST") << QStringLiteral("http://LOCALHOST") << true << true;
    QTest::newRow("http host name") << QStringLiteral("http://sessions.example.org") << false << true;
    QTest::newRow("http LAN address") << QStringLiteral("http://192.168.1.20:8000") << false << true;
    QTest::newRow("http 0.0.0.0") << QStringLiteral("http://0.0.0.0:8000") << false << true;
    QTest::newRow("http localhost look-alike")
        << QStringLiteral("http://localhost.example.org") << false << true;
    QTest::newRow("http 128.0.0.1") << QStringLiteral("http://128.0.0.1") << false << true;
    QTest::newRow("http IPv6 global") << QStringLiteral("http://[2001:db8::1]") << false << true;
}

void TestAgentService::cleartextOnlyToLoopback()
{
    QFETCH(QString, url);
    QFETCH(bool, allowed);
    QFETCH(bool, allowedWithOptIn);
    auto plain = AgentService::checkTransport(QUrl(url), false);
    QCOMPARE(plain.has_value(), allowed);
    if (!plain) {
        QCOMPARE(plain.error().code, ErrorCode::InvalidRequest);
        QVERIFY(
            plain.error().message.contains(u"the password and tokens would cross the network unencrypted"));
        QVERIFY(plain.error().message.contains(u"--allow-insecure-http"));
    }
    QCOMPARE(AgentService::checkTransport(QUrl(url), true).has_value(), allowedWithOptIn);
}

void TestAgentService::loginRefusesCleartextToOtherHosts()
{
    Harness h;
    QVERIFY(h.http.start());
    h.store.stored.reset();
    h.service = std::make_unique<AgentService>(h.store, h.server, h.scheduler, h.clock, [] {
        AgentConfig c;
        c.watchServerEvents = false;
        return c;
    }());
    h.http.handler = [](const FakeHttpServer::Request&) {
        return FakeHttpServer::Response{
            401, R"({"error":"unauthenticated","message":"Invalid email or password"})", {}};
    };
    // 0.0.0.0 reaches this machine's listening sockets, but it is not a loopback address: it
    // stands for any host the password would travel to unencrypted.
    const QString remote = QStringLiteral("http://0.0.0.0:%1").arg(h.http.url().port());
    auto refused = h.service->login(remote, QStringLiteral("a@b.c"), QStringLiteral("a long password"));
    QVERIFY(refused.isFinished());
    QVERIFY(!refused.result());
    QVERIFY(refused.result().error().message.contains(u"unencrypted"));
    QVERIFY(h.http.requests.isEmpty()); // the password was never sent

    // The explicit opt-in sends it (the fake server then refuses the password).
    auto optedIn = h.service->login(remote, QStringLiteral("a@b.c"), QStringLiteral("a long password"), true);
    QTRY_VERIFY_WITH_TIMEOUT(optedIn.isFinished(), 10000);
    QVERIFY(!optedIn.result());
    QCOMPARE(optedIn.result().error().code, ErrorCode::Unauthenticated);
    QCOMPARE(h.http.requests.size(), 1);
    QCOMPARE(h.http.requests.first().path, QByteArray("/api/auth/login"));

    // Loopback needs no opt-in.
    auto local =
        h.service->login(h.http.url().toString(), QStringLiteral("a@b.c"), QStringLiteral("a long password"));
    QTRY_VERIFY_WITH_TIMEOUT(local.isFinished(), 10000);
    QCOMPARE(h.http.requests.size(), 2);
}

void TestAgentService::concurrentCallersShareOneRefresh()
{
    Harness h;
    h.http.handler = rotate;
    h.http.delayMs = 200; // keep the first refresh in flight while the others arrive
    QVERIFY(h.start());
    h.service->start();
    QList<QFuture<Result<ipc::TokenReply>>> futures;
    for (int i = 0; i < 5; ++i)
        futures << h.service->token();
    QVERIFY(!futures.front().isFinished());
    for (auto& f : futures) {
        QTRY_VERIFY(f.isFinished());
        QVERIFY(f.result());
        QCOMPARE(f.result()->accessToken, QStringLiteral("at-1"));
    }
    QCOMPARE(h.refreshRequests(), 1);
    // And a token still fresh is served from memory.
    auto again = h.service->token();
    QTRY_VERIFY(again.isFinished());
    QCOMPARE(h.refreshRequests(), 1);
}

void TestAgentService::rotatedTokenIsStoredBeforeHandout()
{
    Harness h;
    h.http.handler = rotate;
    QVERIFY(h.start());
    h.service->start();
    auto token = h.service->token();
    QTRY_VERIFY(token.isFinished());
    QVERIFY(token.result());
    QCOMPARE(h.store.saves.size(), 1);
    QCOMPARE(h.store.saves.front().refreshToken, QStringLiteral("rt-1"));
    QCOMPARE(h.events.size(), 1);
    QVERIFY(std::holds_alternative<ipc::TokenRefreshedEvent>(h.events.front()));
}

void TestAgentService::failedKeychainWriteRetriesWithOldToken()
{
    Harness h;
    h.http.handler = rotate;
    QVERIFY(h.start());
    h.store.failSave = Error{ErrorCode::StorageError, QStringLiteral("keychain locked")};
    h.service->start();
    auto first = h.service->token();
    QTRY_VERIFY(first.isFinished());
    QVERIFY(!first.result()); // not handed out: it is not stored
    QCOMPARE(first.result().error().code, ErrorCode::StorageError);
    QVERIFY(h.events.isEmpty());
    QCOMPARE(h.scheduler.failedAttempts(), 1);

    h.store.failSave.reset();
    auto second = h.service->token();
    QTRY_VERIFY(second.isFinished());
    QVERIFY(second.result());
    // The retry presented the token the keychain still has (rt-0), which the real server answers
    // with the same pair as before.
    QCOMPARE(refreshTokenOf(h.http.requests.at(1).body), QByteArray("rt-0"));
    QCOMPARE(h.store.stored->refreshToken, QStringLiteral("rt-1"));
}

void TestAgentService::endingErrorsSignOut_data()
{
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<bool>("revokedEvent");
    QTest::newRow("revoked") << QByteArray("session_revoked") << true;
    QTest::newRow("reuse") << QByteArray("refresh_token_reused") << true;
    QTest::newRow("expired") << QByteArray("session_expired") << true;
    QTest::newRow("unknown token") << QByteArray("unauthorized") << true;
}

void TestAgentService::endingErrorsSignOut()
{
    QFETCH(QByteArray, error);
    QFETCH(bool, revokedEvent);
    Harness h;
    h.http.handler = [error](const FakeHttpServer::Request&) {
        return FakeHttpServer::Response{401, "{\"error\":\"" + error + "\",\"message\":\"ended\"}", {}};
    };
    QVERIFY(h.start());
    h.service->start();
    QTRY_VERIFY(!h.events.isEmpty() && std::holds_alternative<ipc::SignedOutEvent>(h.events.back()));
    QCOMPARE(std::get<ipc::SignedOutEvent>(h.events.back()).reason, QString::fromLatin1(error));
    QCOMPARE(h.events.size() == 2, revokedEvent);
    QVERIFY(!h.store.stored); // the keychain entry is gone
    QVERIFY(!h.service->isSignedIn());
    QVERIFY(!h.scheduler.isScheduled());
    auto token = h.service->token();
    QTRY_VERIFY(token.isFinished());
    QVERIFY(!token.result());
    QCOMPARE(QString::fromLatin1(errorCodeName(token.result().error().code).data()), QString::fromLatin1(error));
}

void TestAgentService::transientErrorsBackOff_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("retryAfter");
    QTest::addColumn<qint64>("minDelayMs");
    QTest::newRow("503 Retry-After 30") << 503 << QByteArray("30") << qint64(30'000);
    QTest::newRow("429 Retry-After 7") << 429 << QByteArray("7") << qint64(7'000);
    QTest::newRow("500") << 500 << QByteArray() << qint64(500);
    QTest::newRow("502") << 502 << QByteArray() << qint64(500);
}

void TestAgentService::transientErrorsBackOff()
{
    QFETCH(int, status);
    QFETCH(QByteArray, retryAfter);
    QFETCH(qint64, minDelayMs);
    Harness h;
    h.http.handler = [status, retryAfter](const FakeHttpServer::Request&) {
        FakeHttpServer::Response r{status, "{\"error\":\"unavailable\",\"message\":\"busy\"}", {}};
        if (!retryAfter.isEmpty())
            r.headers << std::pair{QByteArray("Retry-After"), retryAfter};
        return r;
    };
    QVERIFY(h.start());
    h.service->start();
    QTRY_COMPARE(h.scheduler.failedAttempts(), 1);
    QVERIFY(h.service->isSignedIn()); // never signed out for a server hiccup
    QVERIFY(h.store.stored);
    const qint64 delay = *h.scheduler.deadlineMs() - h.clock.elapsedMs();
    QVERIFY2(delay >= minDelayMs, qPrintable(QString::number(delay)));
    QVERIFY(!h.service->status().lastError.isEmpty());
}

void TestAgentService::minValidIsNeverBroken()
{
    // Issue 13: the agent never hands out a token with less than the caller's minValidSeconds
    // left; when it cannot refresh in time it says why.
    Harness h;
    bool down = false;
    h.http.handler = [&down](const FakeHttpServer::Request& r) {
        if (down)
            return FakeHttpServer::Response{503, "{\"error\":\"unavailable\",\"message\":\"busy\"}", {}};
        return rotate(r);
    };
    QVERIFY(h.start());
    h.service->start();
    auto first = h.service->token(120);
    QTRY_VERIFY(first.isFinished());
    QVERIFY(first.result());

    // Longer than the server's tokens ever live (900 s): refused with the reason, not a 900 s token.
    auto tooLong = h.service->token(1000);
    QTRY_VERIFY(tooLong.isFinished());
    QVERIFY(!tooLong.result());
    QVERIFY2(tooLong.result().error().message.contains(QStringLiteral("live 900 s")),
             qPrintable(tooLong.result().error().message));

    // 100 s left, the server unreachable: 200 s asked cannot be met, 60 s can.
    h.clock.advance(800'000);
    down = true;
    auto refused = h.service->token(200);
    QTRY_VERIFY(refused.isFinished());
    QVERIFY(!refused.result());
    QVERIFY2(refused.result().error().message.contains(QStringLiteral("could not refresh in time")),
             qPrintable(refused.result().error().message));
    auto met = h.service->token(60);
    QTRY_VERIFY(met.isFinished());
    QVERIFY(met.result());
}

void TestAgentService::deviceCredentialIsKeptAndPresented()
{
    Harness h;
    int logins = 0;
    h.http.handler = [&logins](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
        auto tokens = [](const char* credential) {
            const nlohmann::json j{{"success", true},
                                   {"token", "at-1"},
                                   {"accessToken", "at-1"},
                                   {"refreshToken", "rt-1"},
                                   {"expiresIn", 900},
                                   {"sessionId", "s1"},
                                   {"deviceCredential", credential}};
            return FakeHttpServer::Response{200, QByteArray::fromStdString(j.dump()), {}};
        };
        if (r.path == "/api/auth/login" && ++logins == 1)
            return tokens("dc-1");
        if (r.path == "/api/auth/login") // the second time a code is asked for
            return {200, R"({"success":true,"requiresMFA":true,"mfaToken":"mfa-1","methods":["totp"]})", {}};
        if (r.path == "/api/auth/verify-mfa")
            return tokens("dc-2");
        if (r.path == "/api/sessions")
            return {200, R"({"success":true,"sessions":[],"total":0})", {}};
        return {200, R"({"success":true})", {}};
    };
    QVERIFY(h.start());
    h.store.stored.reset(); // nobody signed in yet
    h.service->start();
    auto bodyOf = [&h](const QByteArray& path) {
        for (auto it = h.http.requests.crbegin(); it != h.http.requests.crend(); ++it) {
            if (it->path == path)
                return nlohmann::json::parse(it->body.toStdString(), nullptr, false);
        }
        return nlohmann::json();
    };

    auto first = h.service->login(h.http.url().toString(), QStringLiteral("a@b.c"), QStringLiteral("pw"));
    QTRY_VERIFY(first.isFinished());
    QVERIFY(first.result());
    QVERIFY(!bodyOf("/api/auth/login").contains("deviceCredential")); // none yet
    QCOMPARE(h.store.deviceCredentials.size(), 1);
    QCOMPARE(h.store.deviceCredentials.begin().value(), QStringLiteral("dc-1"));
    QVERIFY(h.store.deviceCredentials.begin().key().contains(u"a@b.c"));

    // Signing out ends the session and deletes the account entry, not the device's credential.
    auto out = h.service->logout();
    QTRY_VERIFY(out.isFinished());
    QTRY_VERIFY(!h.store.stored);
    QCOMPARE(h.store.deviceCredentials.size(), 1);
    QCOMPARE(h.store.deviceCredentials.begin().value(), QStringLiteral("dc-1"));

    // The next sign-in of that account presents it, at login and with the second factor.
    auto second = h.service->login(h.http.url().toString(), QStringLiteral("A@b.c"), QStringLiteral("pw"));
    QTRY_VERIFY(second.isFinished());
    QVERIFY(second.result());
    QVERIFY(second.result()->pendingMfa);
    QCOMPARE(bodyOf("/api/auth/login").value("deviceCredential", ""), std::string("dc-1"));
    auto verified = h.service->verifyMfa(*second.result()->pendingMfa, QStringLiteral("123456"));
    QTRY_VERIFY(verified.isFinished());
    QVERIFY(verified.result());
    QCOMPARE(bodyOf("/api/auth/verify-mfa").value("deviceCredential", ""), std::string("dc-1"));
    // A newly issued one replaces it.
    QCOMPARE(h.store.deviceCredentials.size(), 1);
    QCOMPARE(h.store.deviceCredentials.begin().value(), QStringLiteral("dc-2"));
}

QTEST_GUILESS_MAIN(TestAgentService)
#include "TestAgentService.moc"
