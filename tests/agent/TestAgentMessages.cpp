// SPDX-License-Identifier: Apache-2.0
#include "ipc/AgentMessages.h"

#include <QTest>

using namespace ehrs;
using namespace ehrs::ipc;
using namespace Qt::StringLiterals;

class TestAgentMessages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requestRoundTrip_data();
    void requestRoundTrip();
    void invalidRequests_data();
    void invalidRequests();
    void replies();
    void errorReply();
    void events_data();
    void events();
    void liveUpdatesNeedsItsFlag();
    void rememberDeviceTravels();
};

void TestAgentMessages::requestRoundTrip_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("name");
    QTest::newRow("token") << int(RequestType::Token) << u"token"_s;
    QTest::newRow("status") << int(RequestType::Status) << u"status"_s;
    QTest::newRow("login") << int(RequestType::Login) << u"login"_s;
    QTest::newRow("verify-mfa") << int(RequestType::VerifyMfa) << u"verify-mfa"_s;
    QTest::newRow("logout") << int(RequestType::Logout) << u"logout"_s;
    QTest::newRow("subscribe") << int(RequestType::Subscribe) << u"subscribe"_s;
}

void TestAgentMessages::requestRoundTrip()
{
    QFETCH(int, type);
    QFETCH(QString, name);
    Request r;
    r.type = RequestType(type);
    r.id = 42;
    r.serverUrl = u"https://sessions.example.org"_s;
    r.email = u"dr.who@example.org"_s;
    r.password = u"correct horse"_s;
    r.code = u"123456"_s;
    r.minValidSeconds = 30;
    r.allowInsecureHttp = true;
    const QByteArray payload = toPayload(r);
    QVERIFY(payload.contains("\"type\":\"" + name.toUtf8() + "\""));
    auto back = requestFromJson(payload);
    QVERIFY2(back, qPrintable(back ? QString() : back.error().message));
    QCOMPARE(int(back->type), type);
    QCOMPARE(back->id, 42);
    if (r.type == RequestType::Login) {
        QCOMPARE(back->email, r.email);
        QCOMPARE(back->password, r.password);
        QCOMPARE(back->serverUrl, r.serverUrl);
        QCOMPARE(back->allowInsecureHttp, true); // the user's opt-in travels with the request
        Request plain = r;
        plain.allowInsecureHttp = false;
        QCOMPARE(requestFromJson(toPayload(plain))->allowInsecureHttp, false);
    } else {
        QVERIFY(!payload.contains("password"));
    }
    if (r.type == RequestType::VerifyMfa)
        QCOMPARE(back->code, r.code);
    if (r.type == RequestType::Token)
        QCOMPARE(back->minValidSeconds, 30);
}

void TestAgentMessages::invalidRequests_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("not json") << QByteArray("{nope");
    QTest::newRow("array") << QByteArray("[1,2]");
    QTest::newRow("no type") << QByteArray(R"({"id":1})");
    QTest::newRow("unknown type") << QByteArray(R"({"type":"refresh-token","id":1})");
    QTest::newRow("type not string") << QByteArray(R"({"type":5})");
    QTest::newRow("id not integer") << QByteArray(R"({"type":"status","id":"x"})");
    QTest::newRow("login without password") << QByteArray(R"({"type":"login","email":"a@b.c"})");
    QTest::newRow("login password not string")
        << QByteArray(R"({"type":"login","email":"a@b.c","password":1})");
    QTest::newRow("login allowInsecureHttp not bool")
        << QByteArray(R"({"type":"login","email":"a@b.c","password":"p","allowInsecureHttp":"yes"})");
    QTest::newRow("verify-mfa without code") << QByteArray(R"({"type":"verify-mfa"})");
    QTest::newRow("verify-mfa rememberDevice not bool")
        << QByteArray(R"({"type":"verify-mfa","code":"123456","rememberDevice":"yes"})");
    QTest::newRow("negative minValidSeconds") << QByteArray(R"({"type":"token","minValidSeconds":-1})");
}

void TestAgentMessages::invalidRequests()
{
    QFETCH(QByteArray, payload);
    auto r = requestFromJson(payload);
    QVERIFY(!r);
    QCOMPARE(r.error().code, ErrorCode::InvalidRequest);
}

void TestAgentMessages::replies()
{
    const QDateTime exp(QDate(2026, 1, 5), QTime(8, 15), Qt::UTC);
    auto in = incomingFromPayload(replyPayload(7, TokenReply{u"abc.def.ghi"_s, exp}));
    QVERIFY(in);
    QVERIFY(!in->isEvent);
    QCOMPARE(in->id, 7);
    QVERIFY(!in->error);
    auto token = tokenReplyFromPayload(in->payload);
    QVERIFY(token);
    QCOMPARE(token->accessToken, u"abc.def.ghi"_s);
    QCOMPARE(token->expiresAt, exp);

    StatusReply s;
    s.state = u"signed-in"_s;
    s.signedIn = true;
    s.email = u"a@b.c"_s;
    s.sessionId = u"s1"_s;
    s.nextRefreshAt = exp;
    s.storage = u"keychain"_s;
    auto status = statusReplyFromPayload(replyPayload(8, s));
    QVERIFY(status);
    QCOMPARE(status->state, s.state);
    QCOMPARE(status->signedIn, true);
    QCOMPARE(status->email, s.email);
    QCOMPARE(status->nextRefreshAt, exp);
    QVERIFY(!status->lastRefreshAt.isValid());
    QVERIFY(!replyPayload(8, s).contains("refreshToken"));
    QCOMPARE(status->liveUpdates, false);
    s.liveUpdates = true; // an app that connects later learns that the event stream is live
    QVERIFY(replyPayload(8, s).contains(R"("liveUpdates":true)"));
    QCOMPARE(statusReplyFromPayload(replyPayload(8, s))->liveUpdates, true);

    LoginReply mfa;
    mfa.requiresMfa = true;
    mfa.methods = QStringList{u"totp"_s, u"backup_code"_s};
    auto login = loginReplyFromPayload(replyPayload(9, mfa));
    QVERIFY(login);
    QVERIFY(login->requiresMfa);
    QCOMPARE(login->methods, mfa.methods);
    QVERIFY(!replyPayload(9, mfa).contains("mfaToken"));
}

void TestAgentMessages::errorReply()
{
    auto in = incomingFromPayload(errorPayload(3, Error{ErrorCode::SessionRevoked, u"revoked"_s}));
    QVERIFY(in);
    QCOMPARE(in->id, 3);
    QVERIFY(in->error);
    QCOMPARE(in->error->code, ErrorCode::SessionRevoked);
    QCOMPARE(in->error->message, u"revoked"_s);
    QCOMPARE(in->error->retryAfterSeconds, 0);
    QVERIFY(!errorPayload(3, Error{ErrorCode::SessionRevoked, u"revoked"_s}).contains("retryAfter"));
    // A rate-limited reply carries the server's wait, so the app can say how long.
    auto limited = incomingFromPayload(errorPayload(4, Error{ErrorCode::RateLimited, u"slow down"_s, 840}));
    QVERIFY(limited && limited->error);
    QCOMPARE(limited->error->code, ErrorCode::RateLimited);
    QCOMPARE(limited->error->retryAfterSeconds, 840);
    auto bogus = incomingFromPayload(R"({"type":"reply","id":5,"ok":false,"error":"rate_limited","retryAfter":-7})");
    QVERIFY(bogus && bogus->error);
    QCOMPARE(bogus->error->retryAfterSeconds, 0);
    QVERIFY(!incomingFromPayload("{\"type\":\"reply\",\"id\":1}")); // no ok
    QVERIFY(!incomingFromPayload("{\"type\":\"other\"}"));
}

void TestAgentMessages::events_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("name");
    QTest::newRow("token-refreshed") << 0 << u"token-refreshed"_s;
    QTest::newRow("signed-out") << 1 << u"signed-out"_s;
    QTest::newRow("session-revoked") << 2 << u"session-revoked"_s;
    QTest::newRow("new-sign-in") << 3 << u"new-sign-in"_s;
    QTest::newRow("live-updates on") << 4 << u"live-updates"_s;
    QTest::newRow("live-updates off") << 5 << u"live-updates"_s;
    QTest::newRow("suspicious-sign-in") << 6 << u"suspicious-sign-in"_s;
    QTest::newRow("lock-changed locked") << 7 << u"lock-changed"_s;
    QTest::newRow("lock-changed unlocked") << 8 << u"lock-changed"_s;
}

void TestAgentMessages::events()
{
    QFETCH(int, index);
    QFETCH(QString, name);
    const QDateTime t(QDate(2026, 1, 5), QTime(9, 0), Qt::UTC);
    const QList<Event> all{
        TokenRefreshedEvent{u"tok"_s, t},
        SignedOutEvent{u"session_revoked"_s, u"m"_s},
        SessionRevokedEvent{u"s9"_s, true},
        NewSignInEvent{u"s2"_s, u"Chrome 120 on Windows 10/11"_s, u"203.0.113.7"_s, u"Oslo, NO"_s, t},
        LiveUpdatesEvent{true},
        LiveUpdatesEvent{false},
        SuspiciousSignInEvent{{u"first sign-in from Lisbon, Portugal"_s, u"a device never seen"_s},
                              u"Firefox 121 on Linux"_s,
                              u"Lisbon, Portugal"_s,
                              t},
        LockChangedEvent{true},
        LockChangedEvent{false}};
    const Event& event = all.at(index);
    QCOMPARE(eventName(event), name);
    const QByteArray payload = toPayload(event);
    auto in = incomingFromPayload(payload);
    QVERIFY(in);
    QVERIFY(in->isEvent);
    auto back = eventFromPayload(payload);
    QVERIFY(back);
    QCOMPARE(back->index(), event.index());
    QCOMPARE(toPayload(*back), payload);
    if (const auto* live = std::get_if<LiveUpdatesEvent>(&event)) {
        QCOMPARE(payload, QByteArray(R"({"event":"live-updates","live":)") + (live->live ? "true" : "false") +
                              R"(,"type":"event"})");
        QCOMPARE(std::get<LiveUpdatesEvent>(*back).live, live->live);
    }
    if (const auto* lock = std::get_if<LockChangedEvent>(&event)) {
        QCOMPARE(payload, QByteArray(R"({"event":"lock-changed","locked":)") +
                              (lock->locked ? "true" : "false") + R"(,"type":"event"})");
        QCOMPARE(std::get<LockChangedEvent>(*back).locked, lock->locked);
    }
    if (const auto* suspicious = std::get_if<SuspiciousSignInEvent>(&event)) {
        const auto& b = std::get<SuspiciousSignInEvent>(*back);
        QCOMPARE(b.reasons, suspicious->reasons);
        QCOMPARE(b.device, suspicious->device);
        QCOMPARE(b.location, suspicious->location);
        QCOMPARE(b.time, t);
    }
}

void TestAgentMessages::rememberDeviceTravels()
{
    // verify-mfa's rememberDevice: sent only when asked for, and read back.
    Request r;
    r.type = RequestType::VerifyMfa;
    r.code = u"123456"_s;
    QVERIFY(!toPayload(r).contains("rememberDevice"));
    QCOMPARE(requestFromJson(toPayload(r))->rememberDevice, false);
    r.rememberDevice = true;
    QCOMPARE(requestFromJson(toPayload(r))->rememberDevice, true);
    // The reply says whether the server remembered the device only when it was asked.
    LoginReply signedIn;
    signedIn.email = u"a@b.c"_s;
    QVERIFY(!replyPayload(1, signedIn).contains("deviceRemembered"));
    QVERIFY(!loginReplyFromPayload(replyPayload(1, signedIn))->deviceRemembered.has_value());
    for (const bool remembered : {true, false}) {
        signedIn.deviceRemembered = remembered;
        QCOMPARE(loginReplyFromPayload(replyPayload(1, signedIn))->deviceRemembered,
                 std::optional<bool>(remembered));
    }
}

void TestAgentMessages::liveUpdatesNeedsItsFlag()
{
    QVERIFY(!eventFromPayload(R"({"type":"event","event":"live-updates"})"));
    QVERIFY(!eventFromPayload(R"({"type":"event","event":"live-updates","live":"yes"})"));
    QVERIFY(!eventFromPayload(R"({"type":"event","event":"lock-changed"})"));
    QVERIFY(!eventFromPayload(R"({"type":"event","event":"lock-changed","locked":1})"));
}

QTEST_GUILESS_MAIN(TestAgentMessages)
#include "TestAgentMessages.moc"
