// SPDX-License-Identifier: Apache-2.0
// The agent's answer to a rotation lost in a database failover (issue 15, docs/operations.md "High
// availability"): it keeps the refresh token before its current one and, when the server calls the
// current one unknown (401 "unauthorized": not re-used, revoked or expired), presents the previous
// one once. The fake server plays a promoted asynchronous standby that never saw the last rotation.
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
QByteArray presentedToken(const FakeHttpServer::Request& r)
{
    auto j = nlohmann::json::parse(r.body.begin(), r.body.end(), nullptr, false);
    return j.is_object() && j.contains("refreshToken")
               ? QByteArray::fromStdString(j["refreshToken"].get<std::string>())
               : QByteArray();
}

FakeHttpServer::Response answer(int status, const nlohmann::json& body)
{
    return {status, QByteArray::fromStdString(body.dump()), {}};
}

/// A server whose current refresh token is `current` (and whose previous one is `previous`):
/// the current one rotates to "next-<n>", the previous one is re-use, anything else is unknown.
struct ServerState
{
    QByteArray current;
    QByteArray previous;
    int rotations = 0;

    FakeHttpServer::Response handle(const FakeHttpServer::Request& r)
    {
        if (r.path != "/api/sessions/refresh") // the agent's other calls (its session list): not under test
            return answer(200, {{"success", true}, {"sessions", nlohmann::json::array()}, {"total", 0}});
        const QByteArray token = presentedToken(r);
        if (token == current) {
            previous = current;
            current = "next-" + QByteArray::number(++rotations);
            return answer(200, {{"success", true},
                                {"token", "at-" + current.toStdString()},
                                {"accessToken", "at-" + current.toStdString()},
                                {"refreshToken", current.toStdString()},
                                {"expiresIn", 900},
                                {"sessionId", "s1"}});
        }
        if (!previous.isEmpty() && token == previous)
            return answer(401, {{"error", "refresh_token_reused"}, {"message", "reused"}});
        return answer(401, {{"error", "unauthorized"}, {"message", "Invalid refresh token"}});
    }
};

struct Agent : AgentServiceHarness
{

    bool start(const StoredAccount& account)
    {
        if (!http.start())
            return false;
        store.stored = account;
        store.stored->serverUrl = http.url().toString();
        createService();
        service->start();
        return true;
    }
    QList<QByteArray> presented() const
    {
        QList<QByteArray> out;
        for (const auto& r : http.requests)
            if (r.path == "/api/sessions/refresh")
                out << presentedToken(r);
        return out;
    }
    bool signedOut() const
    {
        for (const auto& e : events)
            if (std::holds_alternative<ipc::SignedOutEvent>(e))
                return true;
        return false;
    }
};

StoredAccount account(const QString& refresh, const QString& previous)
{
    StoredAccount a;
    a.userId = QStringLiteral("u1");
    a.email = QStringLiteral("a@b.c");
    a.sessionId = QStringLiteral("s1");
    a.refreshToken = refresh;
    a.previousRefreshToken = previous;
    return a;
}
} // namespace

class TestLostRotationFallback : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rotationKeepsThePreviousToken()
    {
        ServerState state{"t1", {}};
        Agent a;
        a.http.handler = [&state](const FakeHttpServer::Request& r) { return state.handle(r); };
        QVERIFY(a.start(account(QStringLiteral("t1"), {})));
        auto token = a.service->token();
        QTRY_VERIFY(token.isFinished());
        QVERIFY(token.result());
        QCOMPARE(a.store.stored->refreshToken, QStringLiteral("next-1"));
        QCOMPARE(a.store.stored->previousRefreshToken, QStringLiteral("t1"));
        // Survives the keychain: the field is in the stored JSON.
        auto parsed = StoredAccount::fromJson(a.store.stored->toJson());
        QVERIFY(parsed);
        QCOMPARE(parsed->previousRefreshToken, QStringLiteral("t1"));
    }

    void lostRotationFallsBackToThePreviousToken()
    {
        // The promoted server never saw t2 (the agent's current token): it holds t1 as current.
        ServerState state{"t1", "t0"};
        Agent a;
        a.http.handler = [&state](const FakeHttpServer::Request& r) { return state.handle(r); };
        QVERIFY(a.start(account(QStringLiteral("t2"), QStringLiteral("t1"))));
        auto token = a.service->token();
        QTRY_VERIFY(token.isFinished());
        QVERIFY2(token.result(), qPrintable(token.result() ? QString() : token.result().error().message));
        QCOMPARE(token.result()->accessToken, QStringLiteral("at-next-1"));
        QCOMPARE(a.presented(), (QList<QByteArray>{"t2", "t1"}));
        QVERIFY(!a.signedOut());
        QCOMPARE(a.store.stored->refreshToken, QStringLiteral("next-1"));
        QCOMPARE(a.store.stored->previousRefreshToken, QStringLiteral("t1"));
    }

    // Only an unknown token falls back, and only once; the server's verdicts that end the session
    // (re-use, revocation, expiry) end it at once, as before.
    void onlyUnknownFallsBackOnce_data()
    {
        QTest::addColumn<QByteArray>("error");
        QTest::addColumn<int>("requests");
        QTest::newRow("unknown, previous unknown too") << QByteArray("unauthorized") << 2;
        QTest::newRow("reuse") << QByteArray("refresh_token_reused") << 1;
        QTest::newRow("revoked") << QByteArray("session_revoked") << 1;
        QTest::newRow("expired") << QByteArray("session_expired") << 1;
    }
    void onlyUnknownFallsBackOnce()
    {
        QFETCH(QByteArray, error);
        QFETCH(int, requests);
        Agent a;
        a.http.handler = [error](const FakeHttpServer::Request&) {
            return answer(401, {{"error", error.toStdString()}, {"message", "no"}});
        };
        QVERIFY(a.start(account(QStringLiteral("t2"), QStringLiteral("t1"))));
        QTRY_VERIFY(a.signedOut());
        QCOMPARE(a.presented().size(), requests);
        QCOMPARE(a.presented().front(), QByteArray("t2"));
        QVERIFY(!a.store.stored);
    }

    // With the newer rotation on the server, the previous token is never presented: the current one
    // is known and rotates (so the agent cannot cause the re-use that would end its own session).
    void knownTokenNeverFallsBack()
    {
        ServerState state{"t2", "t1"};
        Agent a;
        a.http.handler = [&state](const FakeHttpServer::Request& r) { return state.handle(r); };
        QVERIFY(a.start(account(QStringLiteral("t2"), QStringLiteral("t1"))));
        auto token = a.service->token();
        QTRY_VERIFY(token.isFinished());
        QVERIFY(token.result());
        QCOMPARE(a.presented(), QList<QByteArray>{"t2"});
    }
};

QTEST_GUILESS_MAIN(TestLostRotationFallback)
#include "TestLostRotationFallback.moc"
