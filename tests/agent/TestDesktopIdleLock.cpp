// SPDX-License-Identifier: Apache-2.0
// Issue 14 end to end: real server on the back end under test (EHRS_TEST_BACKEND: SQLite, or
// PostgreSQL + Redis) with short access tokens and a short SESSION_IDLE_TIMEOUT, real
// agent processes and keychain, and stand-ins for logind and the screensaver on a private bus
// (FakeLogind.h) that the agents use as their system bus (DBUS_SYSTEM_BUS_ADDRESS) and screensaver
// bus (EHRS_AGENT_SCREENSAVER_BUS; the keychain stays on the session bus the test runs under).
#include "AgentProcess.h"
#include "ApiClient.h"
#include "FakeLogind.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"
#include "storage/KeychainTokenStore.h"

#include <QElapsedTimer>
#include <QTest>
#include <QTimer>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;
using ehrs::agent::test::FakeDesktopBus;
using ehrs::agent::test::FakeLogindSession;
using ehrs::test::ApiClient;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");
constexpr int kAccessTtl = 4;    // s: an active agent refreshes about every 3 s
constexpr int kIdleTimeout = 10; // s: SESSION_IDLE_TIMEOUT of the test server
} // namespace

class TestDesktopIdleLock : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void idleDesktopIsSignedOutWhileActiveOnesStay();
    void lockedDesktopGetsNoTokensAndResumesOnUnlock();
    void screensaverLockIsSeenToo();
    void endOnLockEndsTheSessionOnTheServer();
    void endOnLockFromTheServersPolicy();
    void withoutDesktopOnlyLocalAppsCount();

private:
    QString newUser();
    /// An agent whose logind session is `sessionId` on `bus`.
    std::unique_ptr<AgentProcess> startAgent(const QString& sessionId, const QString& screensaverBus = {});
    bool signIn(AgentProcess& agent, const QString& email);
    std::optional<ipc::StatusReply> status(AgentProcess& agent);
    /// The user's sessions as seen by another sign-in of the same user (id -> lastActivityAt).
    QHash<QString, QString> serverSessions(const QString& email);

    FakeDesktopBus m_desktop;
    ServerProcess m_server;
    int m_users = 0;
};

void TestDesktopIdleLock::initTestCase()
{
    QString error = AgentProcess::missingKeychain();
    if (error.isEmpty() && !m_desktop.start(false, &error) && error.isEmpty())
        error = QStringLiteral("the private bus did not start");
    if (!error.isEmpty()) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL(qPrintable(error));
        QSKIP(qPrintable(error));
    }
    EHRS_REQUIRE_BACKEND_UNDER_TEST();
    QVERIFY(m_server.useBackendUnderTest());
    m_server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QString::number(kAccessTtl));
    m_server.setEnv(QStringLiteral("SESSION_IDLE_TIMEOUT"), QString::number(kIdleTimeout));
    QVERIFY(m_server.start());
}

QString TestDesktopIdleLock::newUser()
{
    const QString email = QStringLiteral("desk%1@example.org").arg(++m_users);
    return m_server.addUser(email, kPassword) ? email : QString();
}

std::unique_ptr<AgentProcess> TestDesktopIdleLock::startAgent(const QString& sessionId,
                                                              const QString& screensaverBus)
{
    auto agent = std::make_unique<AgentProcess>();
    agent->setEnv(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_desktop.address());
    agent->setEnv(QStringLiteral("XDG_SESSION_ID"), sessionId);
    // Without a screensaver of its own, the agent's screensaver bus is the private one (where
    // none is registered), never the session bus other tests' stand-ins may live on.
    agent->setEnv(QStringLiteral("EHRS_AGENT_SCREENSAVER_BUS"),
                  screensaverBus.isEmpty() ? m_desktop.address() : screensaverBus);
    agent->setEnv(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("ehrs.agent*.info=true"));
    if (!agent->start())
        return nullptr;
    return agent;
}

bool TestDesktopIdleLock::signIn(AgentProcess& agent, const QString& email)
{
    return agent.signIn(m_server.url().toString(), email, kPassword);
}

std::optional<ipc::StatusReply> TestDesktopIdleLock::status(AgentProcess& agent)
{
    auto r = agent.cli({QStringLiteral("status"), QStringLiteral("--json")});
    auto s = ipc::statusReplyFromPayload(r.out.trimmed());
    return s ? std::optional(*s) : std::nullopt;
}

QHash<QString, QString> TestDesktopIdleLock::serverSessions(const QString& email)
{
    ApiClient api(m_server.url());
    auto login = api.request("POST", "/api/auth/login",
                             {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
    if (login.status != 200)
        return {};
    const std::string own = login.str("sessionId");
    auto list =
        api.request("GET", "/api/sessions", nullptr, QByteArray::fromStdString(login.str("accessToken")));
    QHash<QString, QString> out;
    if (list.status == 200 && list.json.contains("sessions")) {
        for (const auto& s : list.json["sessions"]) {
            if (s.value("id", std::string()) != own)
                out.insert(QString::fromStdString(s.value("id", std::string())),
                           QString::fromStdString(s.value("lastActivityAt", std::string())));
        }
    }
    (void)api.request("POST", "/api/auth/logout", nlohmann::json::object(),
                      QByteArray::fromStdString(login.str("accessToken")));
    return out;
}

void TestDesktopIdleLock::idleDesktopIsSignedOutWhileActiveOnesStay()
{
    // Three clinicians' workstations: nobody at the first (idle for an hour, no app asks); someone
    // typing at the second; an app asking for tokens at the third, whose desktop is idle.
    FakeLogindSession& away = m_desktop.addSession(QStringLiteral("away"));
    away.setIdle(true, QDateTime::currentDateTimeUtc().addSecs(-3600));
    FakeLogindSession& typing = m_desktop.addSession(QStringLiteral("typing"));
    typing.setIdle(false);
    FakeLogindSession& appOnly = m_desktop.addSession(QStringLiteral("app"));
    appOnly.setIdle(true, QDateTime::currentDateTimeUtc().addSecs(-3600));

    const QString awayUser = newUser(), typingUser = newUser(), appUser = newUser();
    auto awayAgent = startAgent(away.id());
    auto typingAgent = startAgent(typing.id());
    auto appAgent = startAgent(appOnly.id());
    QVERIFY(awayAgent && typingAgent && appAgent);
    QVERIFY(signIn(*awayAgent, awayUser));
    QVERIFY(signIn(*typingAgent, typingUser));
    QVERIFY(signIn(*appAgent, appUser));
    const auto awayStatus = status(*awayAgent);
    const auto typingStatus = status(*typingAgent);
    const auto appStatus = status(*appAgent);
    QVERIFY(awayStatus && typingStatus && appStatus);
    QCOMPARE(awayStatus->activitySource, QStringLiteral("logind+local-apps"));

    // The app asks every second; the typist keeps typing (IdleHint stays false, and the hint is
    // re-announced as logind does when input resets the idle timer).
    ipc::AgentClient app;
    QVERIFY(await(app.connectToAgent(appAgent->socketPath())));
    int appTokens = 0;
    QTimer ask;
    QObject::connect(&ask, &QTimer::timeout, [&] {
        app.token().then([&appTokens](const Result<ipc::TokenReply>& t) { appTokens += t.has_value(); });
        typing.setIdle(false);
    });
    ask.start(1000);
    // Three idle timeouts.
    QTest::qWait(3 * kIdleTimeout * 1000 + 2000);
    ask.stop();
    QVERIFY2(appTokens >= 3 * kIdleTimeout - 3, qPrintable(QString::number(appTokens)));

    // On the server: the unattended session is over, the two in use are not.
    const auto awaySessions = serverSessions(awayUser);
    QVERIFY2(!awaySessions.contains(awayStatus->sessionId), awayAgent->log().constData());
    QVERIFY(serverSessions(typingUser).contains(typingStatus->sessionId));
    QVERIFY(serverSessions(appUser).contains(appStatus->sessionId));

    // The away agent held back its refreshes and said so.
    const auto held = status(*awayAgent);
    QVERIFY(held && held->signedIn && held->idle);
    QVERIFY(awayAgent->log().contains("no activity since the last refresh"));
    // The clinician comes back and asks: told plainly, in the server's words.
    auto tokenCli = awayAgent->cli({QStringLiteral("token")});
    QCOMPARE(tokenCli.exitCode, 1);
    QVERIFY2(tokenCli.err.contains("Sign in again to continue.") &&
                 (tokenCli.err.contains("inactivity") || tokenCli.err.contains("without activity")),
             tokenCli.err.constData());
    const auto after = status(*awayAgent);
    QVERIFY(after && !after->signedIn);
    QCOMPARE(after->signedOutReason, QStringLiteral("session_expired"));
    auto statusCli = awayAgent->cli({QStringLiteral("status")});
    QVERIFY2(statusCli.out.contains("Why:") && statusCli.out.contains("Sign in again to continue."),
             statusCli.out.constData());

    // The others still work, in the sessions they started with: no new sign-in.
    const auto typingAfter = status(*typingAgent);
    const auto appAfter = status(*appAgent);
    QVERIFY(typingAfter && typingAfter->signedIn && appAfter && appAfter->signedIn);
    QCOMPARE(typingAfter->sessionId, typingStatus->sessionId);
    QCOMPARE(appAfter->sessionId, appStatus->sessionId);
    QCOMPARE(typingAgent->cli({QStringLiteral("token")}).exitCode, 0);
}

void TestDesktopIdleLock::lockedDesktopGetsNoTokensAndResumesOnUnlock()
{
    FakeLogindSession& desk = m_desktop.addSession(QStringLiteral("lockable"));
    desk.setIdle(false);
    const QString email = newUser();
    auto agent = startAgent(desk.id());
    QVERIFY(agent);
    QVERIFY(signIn(*agent, email));
    const auto before = status(*agent);
    QVERIFY(before && before->signedIn);
    QCOMPARE(agent->cli({QStringLiteral("token")}).exitCode, 0);
    // A subscribed local app hears of the lock and of the unlock as they happen (lock-changed).
    ipc::AgentClient subscriber;
    QList<bool> lockEvents;
    connect(&subscriber, &ipc::AgentClient::eventReceived, this, [&lockEvents](const ipc::Event& e) {
        if (const auto* lock = std::get_if<ipc::LockChangedEvent>(&e))
            lockEvents << lock->locked;
    });
    QVERIFY(await(subscriber.connectToAgent(agent->socketPath())));
    QVERIFY(await(subscriber.subscribe()));

    desk.setLocked(true);
    QTRY_COMPARE_WITH_TIMEOUT(lockEvents, QList<bool>{true}, 5000);
    QVERIFY(status(*agent)->locked);
    auto refused = agent->cli({QStringLiteral("token")});
    QCOMPARE(refused.exitCode, 4);
    QVERIFY2(refused.err.contains("The workstation is locked; unlock it to continue."),
             refused.err.constData());
    // A local app gets the distinct code.
    ipc::AgentClient app;
    QVERIFY(await(app.connectToAgent(agent->socketPath())));
    auto appAnswer = await(app.token());
    QVERIFY(!appAnswer);
    QVERIFY(ipc::isWorkstationLocked(appAnswer.error()));

    // No refresh while locked: the server's lastActivityAt stands still across two token lifetimes
    // (the refresh would have been due after about 3 s), still inside the idle timeout.
    const QString lockedAt = serverSessions(email).value(before->sessionId);
    QVERIFY(!lockedAt.isEmpty());
    QTest::qWait(2 * kAccessTtl * 1000 - 1000);
    QCOMPARE(serverSessions(email).value(before->sessionId), lockedAt);
    QVERIFY(agent->log().contains("not refreshing until it is unlocked"));

    // Unlocked: the same session goes on, without a sign-in.
    desk.setLocked(false);
    QTRY_COMPARE_WITH_TIMEOUT(lockEvents, (QList<bool>{true, false}), 5000);
    QVERIFY(!status(*agent)->locked);
    auto again = agent->cli({QStringLiteral("token")});
    QCOMPARE(again.exitCode, 0);
    const auto after = status(*agent);
    QVERIFY(after && after->signedIn);
    QCOMPARE(after->sessionId, before->sessionId);
    QTRY_VERIFY_WITH_TIMEOUT(serverSessions(email).value(before->sessionId) != lockedAt, 5000);
}

void TestDesktopIdleLock::screensaverLockIsSeenToo()
{
    // A desktop whose screensaver (org.freedesktop.ScreenSaver) locks: on its own bus, so that its
    // lock does not reach the other tests' agents.
    FakeDesktopBus screensaverBus;
    QString error;
    QVERIFY2(screensaverBus.start(true, &error), qPrintable(error));
    FakeLogindSession& desk = m_desktop.addSession(QStringLiteral("screensaver"));
    desk.setIdle(false);
    const QString email = newUser();
    auto agent = startAgent(desk.id(), screensaverBus.address());
    QVERIFY(agent);
    QVERIFY(signIn(*agent, email));
    QCOMPARE(status(*agent)->activitySource, QStringLiteral("logind+screensaver+local-apps"));
    screensaverBus.setScreenSaverActive(true);
    QTRY_VERIFY_WITH_TIMEOUT(status(*agent)->locked, 5000);
    QCOMPARE(agent->cli({QStringLiteral("token")}).exitCode, 4);
    screensaverBus.setScreenSaverActive(false);
    QTRY_VERIFY_WITH_TIMEOUT(!status(*agent)->locked, 5000);
    QCOMPARE(agent->cli({QStringLiteral("token")}).exitCode, 0);
}

void TestDesktopIdleLock::endOnLockEndsTheSessionOnTheServer()
{
    // The server on this branch may not send a policy yet: the agent's own setting asks for it.
    FakeLogindSession& desk = m_desktop.addSession(QStringLiteral("strict"));
    desk.setIdle(false);
    const QString email = newUser();
    auto agent = std::make_unique<AgentProcess>();
    agent->setEnv(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_desktop.address());
    agent->setEnv(QStringLiteral("EHRS_AGENT_SCREENSAVER_BUS"), m_desktop.address());
    agent->setEnv(QStringLiteral("XDG_SESSION_ID"), desk.id());
    agent->setEnv(QStringLiteral("EHRS_END_ON_LOCK"), QStringLiteral("1"));
    QVERIFY(agent->start());
    QVERIFY(signIn(*agent, email));
    const auto before = status(*agent);
    QVERIFY(before && before->signedIn);
    QVERIFY(serverSessions(email).contains(before->sessionId));

    desk.setLocked(true);
    QTRY_VERIFY_WITH_TIMEOUT(!status(*agent)->signedIn, 5000);
    QCOMPARE(status(*agent)->signedOutReason, QStringLiteral("ended_on_lock"));
    QVERIFY(!serverSessions(email).contains(before->sessionId)); // POST logout reached the server
    KeychainTokenStore store(agent->keychainService());
    StoredAccount key;
    key.serverUrl = m_server.url().toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
    key.email = email;
    auto entry = await(store.readEntry(key.storageKey()));
    QVERIFY(entry && !*entry); // keychain entry gone
    auto statusCli = agent->cli({QStringLiteral("status")});
    QVERIFY2(statusCli.out.contains("ended when the workstation was locked"), statusCli.out.constData());
    desk.setLocked(false);
}

void TestDesktopIdleLock::endOnLockFromTheServersPolicy()
{
    // IT's rule (issue 14 point 3) reaches the agent in the login answer's `policy`: no local
    // setting here, so only the server's `endOnLock` can end the session on lock.
    FakeLogindSession& desk = m_desktop.addSession(QStringLiteral("ward"));
    desk.setIdle(false);
    const QString email = QStringLiteral("lockward%1@example.org").arg(++m_users);
    QVERIFY(m_server.addUser(email, kPassword, QStringLiteral("Nurse"),
                             {QStringLiteral("--groups"), QStringLiteral("lockward")}));
    QByteArray out;
    QCOMPARE(
        m_server.run({QStringLiteral("policy"), QStringLiteral("set"), QStringLiteral("--group"),
                      QStringLiteral("lockward"), QStringLiteral("--end-on-lock"), QStringLiteral("yes")},
                     {}, &out),
        0);
    auto agent = startAgent(desk.id());
    QVERIFY(agent);
    QVERIFY(signIn(*agent, email));
    const auto before = status(*agent);
    QVERIFY(before && before->signedIn);

    desk.setLocked(true);
    QTRY_VERIFY_WITH_TIMEOUT(!status(*agent)->signedIn, 5000);
    QCOMPARE(status(*agent)->signedOutReason, QStringLiteral("ended_on_lock"));
    QVERIFY(!serverSessions(email).contains(before->sessionId));
    desk.setLocked(false);

    // A clinician outside that group keeps the usual behaviour: the lock pauses, it does not end.
    FakeLogindSession& other = m_desktop.addSession(QStringLiteral("office"));
    other.setIdle(false);
    const QString plain = newUser();
    auto second = startAgent(other.id());
    QVERIFY(second);
    QVERIFY(signIn(*second, plain));
    other.setLocked(true);
    QTRY_VERIFY_WITH_TIMEOUT(status(*second)->locked, 5000);
    QTest::qWait(1000);
    QVERIFY(status(*second)->signedIn);
    other.setLocked(false);
}

void TestDesktopIdleLock::withoutDesktopOnlyLocalAppsCount()
{
    QTemporaryDir nowhere;
    const QString noBus = QStringLiteral("unix:path=") + nowhere.filePath(QStringLiteral("no-bus"));
    AgentProcess agent;
    agent.setEnv(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), noBus);
    agent.setEnv(QStringLiteral("EHRS_AGENT_SCREENSAVER_BUS"), noBus);
    QVERIFY(agent.start());
    const QString email = newUser();
    QVERIFY(signIn(agent, email));
    QCOMPARE(status(agent)->activitySource, QStringLiteral("local-apps"));
    QCOMPARE(agent.log().count("no desktop activity source"), 1);
    // Nobody asks for a token: held, and the idle timeout ends the session.
    QTRY_VERIFY_WITH_TIMEOUT(status(agent)->idle, 3 * kAccessTtl * 1000);
    QTest::qWait(kIdleTimeout * 1000 + 1000);
    const auto s = status(agent);
    QVERIFY(!serverSessions(email).contains(s->sessionId));
    QCOMPARE(agent.cli({QStringLiteral("token")}).exitCode, 1);
    QCOMPARE(agent.log().count("no desktop activity source"), 1); // said once
}

QTEST_GUILESS_MAIN(TestDesktopIdleLock)
#include "TestDesktopIdleLock.moc"
