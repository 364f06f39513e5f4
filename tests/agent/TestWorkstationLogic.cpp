// SPDX-License-Identifier: Apache-2.0
// Issue 14 point 4, the agent's pure logic and its state machine against a fake server: the
// workstation id, the stored parked/PIN fields, the local API's new messages and error codes, and
// what a restarted agent makes of the parked accounts in its store.
#include "AgentServiceHarness.h"
#include "Crypto.h"
#include "FakeClock.h"
#include "FakeHttpServer.h"
#include "FakeTokenStore.h"
#include "WireModels.h"
#include "core/AgentConfig.h"
#include "core/AgentService.h"
#include "core/Await.h"
#include "ipc/AgentMessages.h"
#include "net/ServerClient.h"
#include "refresh/RefreshScheduler.h"

#include <QNetworkAccessManager>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs;
using namespace ehrs::agent;
using namespace ehrs::agent::test;

namespace {
StoredAccount account(const QString& server, const QString& email, const QString& refresh,
                      qint64 parkedAtMs = 0)
{
    StoredAccount a{server, email + QStringLiteral("-id"), email, email + QStringLiteral("-session"),
                    refresh};
    a.parkedAtMs = parkedAtMs;
    a.pinValidUntilMs = parkedAtMs > 0 ? 4102444800000 : 0;
    return a;
}

struct Harness : AgentServiceHarness
{
    void start(const QString& deviceClass = QStringLiteral("shared_workstation"))
    {
        AgentConfig c;
        c.deviceClass = deviceClass;
        c.workstationId = QStringLiteral("ws-0123456789abcdef");
        createService(c);
        QSignalSpy started(service.get(), &AgentService::started);
        service->start();
        QVERIFY(started.wait(5000));
    }
    QList<QByteArray> refreshBodies() const
    {
        QList<QByteArray> out;
        for (const auto& r : http.requests) {
            if (r.path == "/api/sessions/refresh")
                out << r.body;
        }
        return out;
    }
};

FakeHttpServer::Response tokens(const std::string& refresh)
{
    const nlohmann::json j{{"success", true},         {"token", "at-1"},  {"accessToken", "at-1"},
                           {"refreshToken", refresh}, {"expiresIn", 900}, {"sessionId", "s1"}};
    return {200, QByteArray::fromStdString(j.dump()), {}};
}
} // namespace

class TestWorkstationLogic : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void workstationIdHidesTheMachineId();
    void workstationIdRules_data();
    void workstationIdRules();
    void storedAccountKeepsParkAndPin();
    void messagesRoundTrip();
    void errorNamesCrossTheSocket();
    void restartRestoresActiveAndParked();
    void entryMarkedParkedIsNotRefreshed();
    void sessionParkedAnswerParksHere();
    void personalDeviceRefusesSwitch();
    void unknownParkedEmailNeedsThePassword();
};

void TestWorkstationLogic::workstationIdHidesTheMachineId()
{
    const QByteArray machineId = "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99";
    const QString id = workstationIdFromMachineId(machineId);
    QVERIFY(QRegularExpression(QStringLiteral("^ws-[0-9a-f]{16}$")).match(id).hasMatch());
    QVERIFY(isValidWorkstationId(id));
    QCOMPARE(workstationIdFromMachineId(machineId), id); // stable
    // Neither the machine-id nor its plain SHA-256 shows through.
    QVERIFY(!machineId.contains(id.mid(3).toLatin1()));
    QVERIFY(!crypto::sha256Hex(machineId).contains(id.mid(3).toLatin1()));
    QVERIFY(workstationIdFromMachineId("4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a98") != id);
    QVERIFY(workstationIdFromMachineId("").isEmpty());
}

void TestWorkstationLogic::workstationIdRules_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("valid");
    QTest::newRow("derived") << QStringLiteral("ws-0123456789abcdef") << true;
    QTest::newRow("ward name") << QStringLiteral("ward3.station-7:a_b") << true;
    QTest::newRow("7 chars") << QStringLiteral("ws-1234") << false;
    QTest::newRow("8 chars") << QStringLiteral("ws-12345") << true;
    QTest::newRow("64 chars") << QString(64, u'a') << true;
    QTest::newRow("65 chars") << QString(65, u'a') << false;
    QTest::newRow("space") << QStringLiteral("ws 012345678") << false;
    QTest::newRow("slash") << QStringLiteral("ws/012345678") << false;
    QTest::newRow("non-ascii") << QStringLiteral("ws-0123456é") << false;
}

void TestWorkstationLogic::workstationIdRules()
{
    QFETCH(QString, id);
    QFETCH(bool, valid);
    QCOMPARE(isValidWorkstationId(id), valid);
}

void TestWorkstationLogic::storedAccountKeepsParkAndPin()
{
    StoredAccount a = account(QStringLiteral("https://s.example"), QStringLiteral("a@x.org"),
                              QStringLiteral("rt"), 1764661000123);
    auto back = StoredAccount::fromJson(a.toJson());
    QVERIFY(back);
    QCOMPARE(*back, a);
    QVERIFY(back->isParked());
    // An entry of an older agent: active, no PIN.
    auto old = StoredAccount::fromJson(R"({"serverUrl":"https://s","email":"a@x.org","refreshToken":"rt"})");
    QVERIFY(old);
    QVERIFY(!old->isParked());
    QCOMPARE(old->pinValidUntilMs, 0);
    // Nonsense is ignored rather than trusted.
    auto odd = StoredAccount::fromJson(
        R"({"serverUrl":"https://s","email":"a@x.org","refreshToken":"rt","parkedAtMs":"soon","pinValidUntilMs":-5})");
    QVERIFY(odd);
    QVERIFY(!odd->isParked());
    QCOMPARE(odd->pinValidUntilMs, 0);
}

void TestWorkstationLogic::messagesRoundTrip()
{
    // Requests.
    ipc::Request setPin;
    setPin.type = ipc::RequestType::SetPin;
    setPin.id = 7;
    setPin.pin = QStringLiteral("48291736");
    auto parsed = ipc::requestFromJson(ipc::toPayload(setPin));
    QVERIFY(parsed);
    QCOMPARE(parsed->type, ipc::RequestType::SetPin);
    QCOMPARE(parsed->pin, setPin.pin);
    ipc::Request resume;
    resume.type = ipc::RequestType::Resume;
    resume.email = QStringLiteral("a@x.org");
    resume.pin = QStringLiteral("1357");
    parsed = ipc::requestFromJson(ipc::toPayload(resume));
    QVERIFY(parsed);
    QCOMPARE(parsed->email, resume.email);
    QCOMPARE(parsed->pin, resume.pin);
    QVERIFY(ipc::requestFromJson(R"({"type":"switch-user","id":3})"));
    QVERIFY(!ipc::requestFromJson(R"({"type":"resume","id":3,"email":"a@x.org"})"));
    QVERIFY(!ipc::requestFromJson(R"({"type":"resume","id":3,"email":"a@x.org","pin":""})"));
    QVERIFY(!ipc::requestFromJson(R"({"type":"resume","id":3,"email":" ","pin":"1357"})"));
    QVERIFY(!ipc::requestFromJson(R"({"type":"set-pin","id":3,"pin":12345678})"));
    QVERIFY(ipc::requestHeaderOf(R"({"type":"set-pin","id":3})").wellFormed);

    // Replies.
    ipc::StatusReply st;
    st.deviceClass = QStringLiteral("shared_workstation");
    st.workstationId = QStringLiteral("ws-0123456789abcdef");
    st.pinSet = true;
    st.pinValidUntil = QDateTime::fromMSecsSinceEpoch(1764700000000, Qt::UTC);
    st.parkedAccounts.push_back({QStringLiteral("b@x.org"), QStringLiteral("u-b"),
                                 QDateTime::fromMSecsSinceEpoch(1764600000000, Qt::UTC),
                                 QStringLiteral("https://s")});
    auto s = ipc::statusReplyFromPayload(ipc::replyPayload(1, st));
    QVERIFY(s);
    QCOMPARE(s->deviceClass, st.deviceClass);
    QCOMPARE(s->workstationId, st.workstationId);
    QVERIFY(s->pinSet);
    QCOMPARE(s->pinValidUntil, st.pinValidUntil);
    QCOMPARE(int(s->parkedAccounts.size()), 1);
    QCOMPARE(s->parkedAccounts.front().email, QStringLiteral("b@x.org"));
    QCOMPARE(s->parkedAccounts.front().userId, QStringLiteral("u-b"));
    QCOMPARE(s->parkedAccounts.front().parkedAt, st.parkedAccounts.front().parkedAt);
    auto pinReply = ipc::setPinReplyFromPayload(ipc::replyPayload(2, ipc::SetPinReply{st.pinValidUntil}));
    QVERIFY(pinReply);
    QCOMPARE(pinReply->validUntil, st.pinValidUntil);
    auto parked = ipc::switchUserReplyFromPayload(
        ipc::replyPayload(3, ipc::SwitchUserReply{QStringLiteral("a@x.org"), QStringLiteral("u-a")}));
    QVERIFY(parked);
    QCOMPARE(parked->email, QStringLiteral("a@x.org"));
    QCOMPARE(parked->userId, QStringLiteral("u-a"));
    const auto wire = nlohmann::json::parse(
        ipc::replyPayload(3, ipc::SwitchUserReply{QStringLiteral("a@x.org"), QStringLiteral("u-a")})
            .toStdString());
    QCOMPARE(QString::fromStdString(wire["parked"]["email"].get<std::string>()), QStringLiteral("a@x.org"));

    // The event.
    auto ev = ipc::eventFromPayload(
        ipc::toPayload(ipc::UserSwitchedEvent{QStringLiteral("b@x.org"), QStringLiteral("u-b")}));
    QVERIFY(ev);
    QCOMPARE(ipc::eventName(*ev), QStringLiteral("user-switched"));
    QCOMPARE(std::get<ipc::UserSwitchedEvent>(*ev).email, QStringLiteral("b@x.org"));
    QCOMPARE(std::get<ipc::UserSwitchedEvent>(*ev).userId, QStringLiteral("u-b"));
    auto nobody = ipc::eventFromPayload(ipc::toPayload(ipc::UserSwitchedEvent{}));
    QVERIFY(nobody && std::get<ipc::UserSwitchedEvent>(*nobody).email.isEmpty());
}

void TestWorkstationLogic::errorNamesCrossTheSocket()
{
    // The server's body -> the agent's Error -> the socket -> a client's Error.
    const Error fromServer = apiErrorFromJson(
        nlohmann::json{{"error", "invalid_pin"}, {"message", "Wrong PIN"}, {"attemptsLeft", 2}}, 401);
    QCOMPARE(fromServer.code, ErrorCode::Unauthenticated);
    QVERIFY(ipc::isInvalidPin(fromServer));
    auto in = ipc::incomingFromPayload(ipc::errorPayload(5, fromServer));
    QVERIFY(in && in->error);
    QVERIFY(ipc::isInvalidPin(*in->error));
    QCOMPARE(in->error->attemptsLeft, 2);
    QCOMPARE(in->error->code, ErrorCode::Unauthenticated);

    const Error full = apiErrorFromJson(
        nlohmann::json{{"error", "full_sign_in_required"}, {"message", "Too many wrong PINs"}}, 403);
    in = ipc::incomingFromPayload(ipc::errorPayload(6, full));
    QVERIFY(in && in->error && ipc::isFullSignInRequired(*in->error));
    QCOMPARE(in->error->code, ErrorCode::Forbidden);
    QCOMPARE(in->error->message, QStringLiteral("Too many wrong PINs"));

    in = ipc::incomingFromPayload(ipc::errorPayload(7, ipc::noActiveClinicianError()));
    QVERIFY(in && in->error && ipc::isNoActiveClinician(*in->error));
    QVERIFY(!ipc::isWorkstationLocked(*in->error));
    const auto wire =
        nlohmann::json::parse(ipc::errorPayload(7, ipc::noActiveClinicianError()).toStdString());
    QCOMPARE(wire["error"].get<std::string>(), std::string("no_active_clinician"));
    // The existing codes are as they were.
    QCOMPARE(ipc::errorWireName(ipc::workstationLockedError()), QStringLiteral("workstation_locked"));
    QCOMPARE(ipc::errorWireName(Error{ErrorCode::Conflict, {}}), QStringLiteral("conflict"));
    const Error plain = apiErrorFromJson(nlohmann::json{{"error", "session_revoked"}, {"message", "x"}}, 401);
    QVERIFY(plain.name.isEmpty());
}

void TestWorkstationLogic::restartRestoresActiveAndParked()
{
    Harness h;
    QVERIFY(h.http.start());
    const QString url = h.http.url().toString();
    h.store.stored = account(url, QStringLiteral("active@x.org"), QStringLiteral("rt-active"));
    h.store.parked = {
        account(url, QStringLiteral("parked@x.org"), QStringLiteral("rt-parked"), 1764600000000)};
    h.http.handler = [](const FakeHttpServer::Request&) { return tokens("rt-active-2"); };
    h.start();
    QTRY_VERIFY(h.service->state() == AgentService::State::SignedIn);
    const ipc::StatusReply s = h.service->status();
    QVERIFY(s.signedIn);
    QCOMPARE(s.email, QStringLiteral("active@x.org"));
    QCOMPARE(s.deviceClass, QStringLiteral("shared_workstation"));
    QCOMPARE(int(s.parkedAccounts.size()), 1);
    QCOMPARE(s.parkedAccounts.front().email, QStringLiteral("parked@x.org"));
    QCOMPARE(s.parkedAccounts.front().parkedAt.toMSecsSinceEpoch(), 1764600000000);
    // Only the active account is refreshed.
    const auto bodies = h.refreshBodies();
    QCOMPARE(bodies.size(), 1);
    QVERIFY(bodies.front().contains("rt-active"));
    for (const auto& r : h.http.requests)
        QVERIFY(!r.body.contains("rt-parked"));
}

void TestWorkstationLogic::entryMarkedParkedIsNotRefreshed()
{
    // The agent crashed after the server parked the session and the entry was marked, before the
    // current-account pointer was dropped.
    Harness h;
    QVERIFY(h.http.start());
    h.store.stored =
        account(h.http.url().toString(), QStringLiteral("a@x.org"), QStringLiteral("rt-a"), 1764600000000);
    h.start();
    QTest::qWait(100);
    QVERIFY(h.http.requests.isEmpty());
    const ipc::StatusReply s = h.service->status();
    QVERIFY(!s.signedIn);
    QCOMPARE(int(s.parkedAccounts.size()), 1);
    auto t = await(h.service->token());
    QVERIFY(!t);
    QVERIFY(ipc::isNoActiveClinician(t.error()));
}

void TestWorkstationLogic::sessionParkedAnswerParksHere()
{
    // Parked on the server (before a crash of this agent): the refresh is answered session_parked.
    Harness h;
    QVERIFY(h.http.start());
    h.store.stored = account(h.http.url().toString(), QStringLiteral("a@x.org"), QStringLiteral("rt-a"));
    h.http.handler = [](const FakeHttpServer::Request&) {
        return FakeHttpServer::Response{
            403,
            R"({"error":"session_parked","message":"This session is parked on a shared workstation"})",
            {}};
    };
    h.start();
    QTRY_VERIFY(!h.service->status().parkedAccounts.empty());
    const ipc::StatusReply s = h.service->status();
    QVERIFY(!s.signedIn);
    QVERIFY(s.signedOutReason.isEmpty()); // not a sign-out
    QCOMPARE(s.parkedAccounts.front().email, QStringLiteral("a@x.org"));
    QTRY_COMPARE(int(h.store.parked.size()), 1);
    QVERIFY(h.store.parked.front().isParked());
    QCOMPARE(h.store.parked.front().refreshToken, QStringLiteral("rt-a")); // kept, to resume
    QVERIFY(!h.store.stored);
    auto t = await(h.service->token());
    QVERIFY(!t && ipc::isNoActiveClinician(t.error()));
    // Nobody is refreshed any more.
    const int asked = h.refreshBodies().size();
    h.clock.advance(3600 * 1000);
    QTest::qWait(100);
    QCOMPARE(h.refreshBodies().size(), asked);
    // No signed-out event: the switch-user screen, not the sign-in form.
    for (const auto& e : std::as_const(h.events))
        QVERIFY(!std::holds_alternative<ipc::SignedOutEvent>(e));
}

void TestWorkstationLogic::personalDeviceRefusesSwitch()
{
    Harness h;
    QVERIFY(h.http.start());
    StoredAccount a = account(h.http.url().toString(), QStringLiteral("a@x.org"), QStringLiteral("rt-a"));
    a.pinValidUntilMs = 4102444800000;
    h.store.stored = a;
    h.http.handler = [](const FakeHttpServer::Request&) { return tokens("rt-a2"); };
    h.start(QStringLiteral("personal"));
    QTRY_VERIFY(h.service->state() == AgentService::State::SignedIn);
    QCOMPARE(h.service->status().deviceClass, QStringLiteral("personal"));
    auto sw = await(h.service->switchUser());
    QVERIFY(!sw);
    QCOMPARE(sw.error().code, ErrorCode::Conflict);
    QVERIFY(sw.error().message.contains(u"shared workstations"));
    for (const auto& r : h.http.requests)
        QVERIFY(r.path != "/api/workstation/park");
    // Nor is a second sign-in accepted while signed in.
    auto second =
        await(h.service->login(h.http.url().toString(), QStringLiteral("b@x.org"), QStringLiteral("pw")));
    QVERIFY(!second);
    QCOMPARE(second.error().code, ErrorCode::Conflict);
}

void TestWorkstationLogic::unknownParkedEmailNeedsThePassword()
{
    Harness h;
    QVERIFY(h.http.start());
    h.store.parked = {account(h.http.url().toString(), QStringLiteral("a@x.org"), QStringLiteral("rt-a"), 1)};
    h.start();
    auto r = await(h.service->resume(QStringLiteral("nobody@x.org"), QStringLiteral("48291736")));
    QVERIFY(!r);
    QVERIFY(ipc::isFullSignInRequired(r.error()));
    QVERIFY(h.http.requests.isEmpty()); // the server is not asked who works here
    QCOMPARE(int(h.service->status().parkedAccounts.size()), 1);
    // The email matches whatever its case.
    h.http.handler = [](const FakeHttpServer::Request&) {
        return FakeHttpServer::Response{
            401, R"({"error":"invalid_pin","message":"Wrong PIN","attemptsLeft":1})", {}};
    };
    r = await(h.service->resume(QStringLiteral("A@X.org"), QStringLiteral("48291736")));
    QVERIFY(!r);
    QVERIFY(ipc::isInvalidPin(r.error()));
    QCOMPARE(r.error().attemptsLeft, 1);
    QCOMPARE(h.http.requests.size(), 1);
    QCOMPARE(h.http.requests.front().path, QByteArray("/api/workstation/resume"));
    QCOMPARE(int(h.service->status().parkedAccounts.size()), 1); // a wrong PIN keeps it
    // full_sign_in_required forgets it.
    h.http.handler = [](const FakeHttpServer::Request&) {
        return FakeHttpServer::Response{
            403,
            R"({"error":"full_sign_in_required","message":"Too many wrong PINs; sign in with your password"})",
            {}};
    };
    r = await(h.service->resume(QStringLiteral("a@x.org"), QStringLiteral("48291736")));
    QVERIFY(!r && ipc::isFullSignInRequired(r.error()));
    QVERIFY(h.service->status().parkedAccounts.empty());
    QTRY_VERIFY(h.store.parked.empty());
}

QTEST_GUILESS_MAIN(TestWorkstationLogic)
#include "TestWorkstationLogic.moc"
