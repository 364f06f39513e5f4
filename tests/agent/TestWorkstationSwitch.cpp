// SPDX-License-Identifier: Apache-2.0
// Issue 14 point 4 end to end, the agent's side: two nurses on ONE agent of a shared workstation
// (deviceClass shared_workstation), a real server on the back end under test (EHRS_TEST_BACKEND:
// SQLite, or PostgreSQL + Redis), the real agent process and keychain, and a local app subscribed
// to the agent. Nurse A signs in and sets a PIN; nurse B signs in (A is parked); the app always
// gets the active nurse's token (the JWT's sub) and hears `user-switched`; the nurses switch back
// and forth with their PINs; a parked nurse's token is refused by the server; the agent restarts
// with the parked list and the active nurse; wrong PINs end in a full sign-in; the server's
// `workstation handovers` shows the hand-overs.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "Crypto.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"
#include "storage/KeychainTokenStore.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;
using ehrs::test::ApiClient;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");
const QByteArray kPinA = "48291736";
const QByteArray kPinB = "70315924";

/// The `sub` claim (user id) of an access token, read without verification (the server verifies).
QString subOf(const QString& jwt)
{
    const QStringList parts = jwt.split(u'.');
    if (parts.size() != 3)
        return {};
    auto payload = crypto::base64UrlDecode(parts.at(1).toLatin1());
    if (!payload)
        return {};
    const auto j = nlohmann::json::parse(payload->begin(), payload->end(), nullptr, false);
    return j.is_object() && j.contains("sub") && j["sub"].is_string()
               ? QString::fromStdString(j["sub"].get<std::string>())
               : QString();
}
} // namespace

class TestWorkstationSwitch : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void twoNursesSwitchOnOneAgent();
    void personalDeviceKeepsTheOldRules();

private:
    std::unique_ptr<AgentProcess> startAgent(const QString& deviceClass);
    std::optional<ipc::StatusReply> status(AgentProcess& agent);
    /// Connects `app` to `agent` and subscribes it; its events go to `events`.
    bool attach(ipc::AgentClient& app, AgentProcess& agent);
    /// The server's answer to GET /api/sessions with `accessToken`.
    int sessionsStatus(const QString& accessToken);
    QString resumeCli(AgentProcess& agent, const QString& email, const QByteArray& pin, int* exitCode);

    ServerProcess m_server;
    QString m_workstationId;
    QList<ipc::Event> m_events;
};

void TestWorkstationSwitch::initTestCase()
{
    if (const QString missing = AgentProcess::missingKeychain(); !missing.isEmpty()) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL(qPrintable(missing));
        QSKIP(qPrintable(missing));
    }
    EHRS_REQUIRE_BACKEND_UNDER_TEST();
    QVERIFY(m_server.useBackendUnderTest());
    m_server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("60"));
    QVERIFY(m_server.start());
    QVERIFY(m_server.addUser(QStringLiteral("nurse.a@example.org"), kPassword));
    QVERIFY(m_server.addUser(QStringLiteral("nurse.b@example.org"), kPassword));
    QVERIFY(m_server.addUser(QStringLiteral("own.device@example.org"), kPassword));
    // One workstation per run: the hand-over list below is this test's alone.
    m_workstationId =
        QStringLiteral("ws-test-%1").arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'));
}

std::unique_ptr<AgentProcess> TestWorkstationSwitch::startAgent(const QString& deviceClass)
{
    auto agent = std::make_unique<AgentProcess>();
    agent->setEnv(QStringLiteral("EHRS_AGENT_DEVICE_CLASS"), deviceClass);
    agent->setEnv(QStringLiteral("EHRS_AGENT_WORKSTATION_ID"), m_workstationId);
    agent->setEnv(QStringLiteral("EHRS_AGENT_DESKTOP_ACTIVITY"), QStringLiteral("0"));
    agent->setEnv(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("ehrs.agent*.info=true"));
    if (!agent->start())
        return nullptr;
    return agent;
}

std::optional<ipc::StatusReply> TestWorkstationSwitch::status(AgentProcess& agent)
{
    // A (re)started agent answers "starting" until it has read the keychain.
    QDeadlineTimer deadline(10000);
    for (;;) {
        auto r = agent.cli({QStringLiteral("status"), QStringLiteral("--json")});
        auto s = ipc::statusReplyFromPayload(r.out.trimmed());
        if (!s)
            return std::nullopt;
        if (s->state != u"starting" || deadline.hasExpired())
            return *s;
        QTest::qWait(50);
    }
}

bool TestWorkstationSwitch::attach(ipc::AgentClient& app, AgentProcess& agent)
{
    if (!await(app.connectToAgent(agent.socketPath(), 2000)))
        return false;
    return await(app.subscribe()).has_value();
}

int TestWorkstationSwitch::sessionsStatus(const QString& accessToken)
{
    return ApiClient(m_server.url()).request("GET", "/api/sessions", nullptr, accessToken.toLatin1()).status;
}

QString TestWorkstationSwitch::resumeCli(AgentProcess& agent, const QString& email, const QByteArray& pin,
                                         int* exitCode)
{
    auto r = agent.cli({QStringLiteral("resume"), QStringLiteral("--pin-stdin"), email}, pin + '\n');
    *exitCode = r.exitCode;
    return QString::fromUtf8(r.err);
}

void TestWorkstationSwitch::twoNursesSwitchOnOneAgent()
{
    const QString a = QStringLiteral("nurse.a@example.org");
    const QString b = QStringLiteral("nurse.b@example.org");
    auto agent = startAgent(QStringLiteral("shared_workstation"));
    QVERIFY(agent);
    ipc::AgentClient app;
    QObject::connect(&app, &ipc::AgentClient::eventReceived, this,
                     [this](const ipc::Event& e) { m_events << e; });
    QVERIFY(attach(app, *agent));

    // The app's view: the token it gets now belongs to `userId`.
    auto tokenOf = [&app]() -> QString {
        auto t = await(app.token());
        return t ? t->accessToken : QString();
    };
    // Whether the last user-switched event names `email`, waited for up to 5 s.
    auto waitForSwitchTo = [this](const QString& email) {
        auto last = [this]() -> std::optional<QString> {
            for (auto it = m_events.crbegin(); it != m_events.crend(); ++it) {
                if (const auto* sw = std::get_if<ipc::UserSwitchedEvent>(&*it))
                    return sw->email;
            }
            return std::nullopt;
        };
        QDeadlineTimer deadline(5000);
        while (last() != email && !deadline.hasExpired())
            QTest::qWait(20);
        return last() == email;
    };

    // Nurse A signs in fully; the agent says what it is.
    QVERIFY(agent->signIn(m_server.url().toString(), a, kPassword));
    auto s = status(*agent);
    QVERIFY(s && s->signedIn);
    QCOMPARE(s->deviceClass, QStringLiteral("shared_workstation"));
    QCOMPARE(s->workstationId, m_workstationId);
    QVERIFY(!s->pinSet);
    QVERIFY(s->parkedAccounts.empty());
    const QString userA = s->userId;
    const QString serverUrl = s->serverUrl;
    QVERIFY(!userA.isEmpty());
    QVERIFY(waitForSwitchTo(a));

    // No switch without a PIN to come back with.
    auto noPin = agent->cli({QStringLiteral("switch-user")});
    QCOMPARE(noPin.exitCode, 1);
    QVERIFY2(noPin.err.contains("Set a PIN first"), noPin.err.constData());
    // A PIN the server refuses, in its words; then A's own.
    auto easy = agent->cli({QStringLiteral("pin"), QStringLiteral("--pin-stdin")}, "1234\n");
    QCOMPARE(easy.exitCode, 1);
    QVERIFY2(easy.err.contains("the PIN was not set"), easy.err.constData());
    auto setA = agent->cli({QStringLiteral("pin"), QStringLiteral("--pin-stdin")}, kPinA + '\n');
    QVERIFY2(setA.exitCode == 0, setA.err.constData());
    QVERIFY2(setA.err.contains("PIN set for nurse.a@example.org until"), setA.err.constData());
    s = status(*agent);
    QVERIFY(s && s->pinSet && s->pinValidUntil > QDateTime::currentDateTimeUtc());

    const QString tokenA1 = tokenOf();
    QCOMPARE(subOf(tokenA1), userA);
    QCOMPARE(sessionsStatus(tokenA1), 200);

    // Nurse B signs in on the same agent while A is active: A is parked, B is active.
    const qsizetype before = m_events.size();
    QVERIFY(agent->signIn(m_server.url().toString(), b, kPassword));
    s = status(*agent);
    QVERIFY(s && s->signedIn);
    QCOMPARE(s->email, b);
    const QString userB = s->userId;
    QVERIFY(!userB.isEmpty() && userB != userA);
    QCOMPARE(int(s->parkedAccounts.size()), 1);
    QCOMPARE(s->parkedAccounts.front().email, a);
    QCOMPARE(s->parkedAccounts.front().userId, userA);
    QVERIFY(s->parkedAccounts.front().parkedAt.isValid());
    QVERIFY(!s->pinSet); // B's own PIN is not set yet
    QVERIFY(waitForSwitchTo(b));
    QCOMPARE(subOf(tokenOf()), userB);
    // A's token stopped working when A was parked.
    QCOMPARE(sessionsStatus(tokenA1), 401);
    // The app heard: nobody (A parked), then B, then B's token.
    {
        QStringList switches;
        for (qsizetype i = before; i < m_events.size(); ++i) {
            if (const auto* sw = std::get_if<ipc::UserSwitchedEvent>(&m_events.at(i)))
                switches << sw->email;
        }
        QCOMPARE(switches, (QStringList{QString(), b}));
    }

    auto setB = await(app.setPin(QString::fromLatin1(kPinB)));
    QVERIFY2(setB.has_value(), setB ? "" : qPrintable(setB.error().message));
    QVERIFY(setB->validUntil > QDateTime::currentDateTimeUtc());

    // Back and forth with PINs, by the CLI (A) and by the app (B).
    QString previous = tokenOf();
    for (int round = 0; round < 3; ++round) {
        int rc = -1;
        const QString err = resumeCli(*agent, a, kPinA, &rc);
        QVERIFY2(rc == 0, qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("Resumed the session of nurse.a@example.org")), qPrintable(err));
        QVERIFY(waitForSwitchTo(a));
        const QString tokenA = tokenOf();
        QCOMPARE(subOf(tokenA), userA);
        QCOMPARE(sessionsStatus(previous), 401); // B's, parked
        QCOMPARE(sessionsStatus(tokenA), 200);

        auto back = await(app.resume(b, QString::fromLatin1(kPinB)));
        QVERIFY2(back.has_value(), back ? "" : qPrintable(back.error().message));
        QCOMPARE(back->email, b);
        QCOMPARE(back->userId, userB);
        QVERIFY(!back->requiresMfa && !back->sessionId.isEmpty());
        QVERIFY(waitForSwitchTo(b));
        previous = tokenOf();
        QCOMPARE(subOf(previous), userB);
        QCOMPARE(sessionsStatus(tokenA), 401); // A's, parked again
    }

    // Every token the app was pushed belongs to whoever was switched to last before it.
    {
        QString active;
        int tokens = 0;
        for (const ipc::Event& e : std::as_const(m_events)) {
            if (const auto* sw = std::get_if<ipc::UserSwitchedEvent>(&e)) {
                active = sw->userId;
            } else if (const auto* t = std::get_if<ipc::TokenRefreshedEvent>(&e)) {
                QCOMPARE(subOf(t->accessToken), active);
                ++tokens;
            }
        }
        QVERIFY(tokens >= 8);
    }

    // Switch user from the CLI: nobody is active; local apps are told so, not "signed out".
    auto sw = agent->cli({QStringLiteral("switch-user")});
    QVERIFY2(sw.exitCode == 0, sw.err.constData());
    QVERIFY2(sw.err.contains("Parked the session of nurse.b@example.org"), sw.err.constData());
    QVERIFY(waitForSwitchTo(QString()));
    auto none = await(app.token());
    QVERIFY(!none);
    QVERIFY(ipc::isNoActiveClinician(none.error()));
    QCOMPARE(sessionsStatus(previous), 401);
    auto tokenCli = agent->cli({QStringLiteral("token")});
    QCOMPARE(tokenCli.exitCode, 5);
    QVERIFY2(tokenCli.err.contains("No clinician is active on this workstation"), tokenCli.err.constData());
    QVERIFY(tokenCli.out.isEmpty());
    s = status(*agent);
    QVERIFY(s && !s->signedIn);
    QCOMPARE(int(s->parkedAccounts.size()), 2);
    QVERIFY(s->signedOutReason.isEmpty());
    // The switch-user screen's ask on the wire: the agent's own code.
    {
        ipc::Request r;
        r.type = ipc::RequestType::Token;
        auto raw = await(app.request(r));
        QVERIFY(!raw);
        QCOMPARE(ipc::errorWireName(raw.error()), QStringLiteral("no_active_clinician"));
    }

    // A restarted agent knows who is parked here.
    app.disconnectFromAgent();
    agent->stop();
    QVERIFY(agent->start());
    s = status(*agent);
    QVERIFY(s && !s->signedIn);
    QCOMPARE(int(s->parkedAccounts.size()), 2);
    QVERIFY(attach(app, *agent));
    // ... and is not refreshing the parked sessions (no refresh: the server would say parked).
    QVERIFY(!agent->log().contains("the server says the session of"));
    int rc = -1;
    QString err = resumeCli(*agent, a, kPinA, &rc);
    QVERIFY2(rc == 0, qPrintable(err));
    QCOMPARE(subOf(tokenOf()), userA);
    // Restarted with A active and B parked: the same after the restart.
    app.disconnectFromAgent();
    agent->stop();
    QVERIFY(agent->start());
    s = status(*agent);
    QVERIFY(s && s->signedIn);
    QCOMPARE(s->email, a);
    QVERIFY(s->pinSet);
    QCOMPARE(int(s->parkedAccounts.size()), 1);
    QCOMPARE(s->parkedAccounts.front().email, b);
    QVERIFY(attach(app, *agent));
    QCOMPARE(subOf(tokenOf()), userA);

    // Wrong PINs for B: the attempts left, then only the password helps.
    err = resumeCli(*agent, b, "11112222", &rc);
    QCOMPARE(rc, 5);
    QVERIFY2(err.contains(QStringLiteral("wrong PIN for nurse.b@example.org (2 more attempt(s)")),
             qPrintable(err));
    // Nobody active now (A was parked for B); the app also learns the attempts left.
    auto wrong = await(app.resume(b, QStringLiteral("33334444")));
    QVERIFY(!wrong);
    QVERIFY(ipc::isInvalidPin(wrong.error()));
    QCOMPARE(wrong.error().attemptsLeft, 1);
    auto last = await(app.resume(b, QStringLiteral("55556666")));
    QVERIFY(!last);
    QVERIFY2(ipc::isFullSignInRequired(last.error()), qPrintable(last.error().message));
    s = status(*agent);
    QVERIFY(s && !s->signedIn);
    QCOMPARE(int(s->parkedAccounts.size()), 1);
    QCOMPARE(s->parkedAccounts.front().email, a);
    // B's keychain entry is gone; A's (parked) is there.
    KeychainTokenStore keychain(agent->keychainService());
    auto entryB = await(keychain.readEntry(QStringLiteral("account:%1|%2").arg(serverUrl, b)));
    QVERIFY(entryB && !*entryB);
    auto entryA = await(keychain.readEntry(QStringLiteral("account:%1|%2").arg(serverUrl, a)));
    QVERIFY(entryA && *entryA);
    QVERIFY((*entryA)->contains(QStringLiteral("parkedAtMs")));
    // The right PIN does not bring B back now: the password does.
    err = resumeCli(*agent, b, kPinB, &rc);
    QCOMPARE(rc, 6);
    QVERIFY2(err.contains(QStringLiteral("ehr-sessions-agent login nurse.b@example.org")), qPrintable(err));
    QVERIFY(agent->signIn(m_server.url().toString(), b, kPassword));
    QVERIFY(waitForSwitchTo(b));
    QCOMPARE(subOf(tokenOf()), userB);
    // A can still come back with the PIN (B has none in this new sign-in: B is signed out).
    err = resumeCli(*agent, a, kPinA, &rc);
    QVERIFY2(rc == 0, qPrintable(err));
    QCOMPARE(subOf(tokenOf()), userA);
    s = status(*agent);
    QVERIFY(s && s->parkedAccounts.empty());

    // The audit: who was active at this workstation, from when to when.
    QByteArray out;
    QCOMPARE(m_server.run({QStringLiteral("workstation"), QStringLiteral("handovers"),
                           QStringLiteral("--workstation"), m_workstationId},
                          {}, &out),
             0);
    QVERIFY2(out.contains("hand-over(s)"), out.constData());
    QVERIFY2(out.count("nurse.a@example.org") >= 5, out.constData());
    QVERIFY2(out.count("nurse.b@example.org") >= 4, out.constData());
    QVERIFY2(out.count("(resumed with PIN)") >= 7, out.constData());

    // No PIN in the agent's log.
    const QByteArray log = agent->log();
    QVERIFY(!log.contains(kPinA));
    QVERIFY(!log.contains(kPinB));
    QVERIFY(!log.contains("11112222"));
}

void TestWorkstationSwitch::personalDeviceKeepsTheOldRules()
{
    auto agent = startAgent(QStringLiteral("personal"));
    QVERIFY(agent);
    const QString own = QStringLiteral("own.device@example.org");
    QVERIFY(agent->signIn(m_server.url().toString(), own, kPassword));
    auto s = status(*agent);
    QVERIFY(s && s->signedIn);
    QCOMPARE(s->deviceClass, QStringLiteral("personal"));
    // A second sign-in is refused as before; no switch of user.
    auto second = agent->cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                              QStringLiteral("--password-stdin"), QStringLiteral("nurse.a@example.org")},
                             kPassword.toUtf8() + '\n');
    QCOMPARE(second.exitCode, 1);
    QVERIFY2(second.err.contains("already signed in as own.device@example.org"), second.err.constData());
    auto sw = agent->cli({QStringLiteral("switch-user")});
    QCOMPARE(sw.exitCode, 1);
    QVERIFY2(sw.err.contains("for shared workstations"), sw.err.constData());
    // The server refuses a PIN on a personal session (409), said as it is.
    auto pin = agent->cli({QStringLiteral("pin"), QStringLiteral("--pin-stdin")}, kPinA + '\n');
    QCOMPARE(pin.exitCode, 1);
    QVERIFY2(pin.err.contains("shared workstation"), pin.err.constData());
}

QTEST_GUILESS_MAIN(TestWorkstationSwitch)
#include "TestWorkstationSwitch.moc"
