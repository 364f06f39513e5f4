// SPDX-License-Identifier: Apache-2.0
// The new-sign-in desktop notification, end to end: a real server, a real agent process, a real
// session bus (scripts/test.sh runs this inside dbus-run-session). Only the notification daemon is
// a stand-in: this process owns org.freedesktop.Notifications and records the Notify calls.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"
#include "mfa/Totp.h"
#include "notify/DesktopNotifier.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDateTime>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <memory>
#include <optional>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");
const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QByteArray kChromeOnWindows =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";
const QByteArray kOtherDeviceIp = "203.0.113.7";
} // namespace

/// A recording stand-in for the notification daemon (freedesktop Desktop Notifications 1.2).
class RecordingNotifications : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")
public:
    struct Call
    {
        QString appName;
        QString icon;
        QString summary;
        QString body;
        QVariantMap hints;
    };
    QList<Call> calls;

public Q_SLOTS:
    uint Notify(const QString& appName, uint replacesId, const QString& appIcon, const QString& summary,
                const QString& body, const QStringList& actions, const QVariantMap& hints, int expireTimeout)
    {
        Q_UNUSED(replacesId);
        Q_UNUSED(actions);
        Q_UNUSED(expireTimeout);
        calls.append({appName, appIcon, summary, body, hints});
        Q_EMIT notified();
        return uint(calls.size());
    }
    QStringList GetCapabilities() { return {QStringLiteral("body"), QStringLiteral("body-markup")}; }
    void CloseNotification(uint id) { Q_UNUSED(id); }
    QString GetServerInformation(QString& vendor, QString& version, QString& specVersion)
    {
        vendor = QStringLiteral("ehrs-test");
        version = QStringLiteral("1");
        specVersion = QStringLiteral("1.2");
        return QStringLiteral("recording stand-in");
    }

Q_SIGNALS:
    void notified();
};

class TestDesktopNotifier : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void formatsAndSanitisesInProcess();
    void newSignInShowsNotification();
    void offSwitchMeansNoNotification_data();
    void offSwitchMeansNoNotification();
    void twoStepChangeShowsNotification();
    void refreshReuseSignOutShowsNotification();
    void suspiciousSignInFormatsAndSanitisesInProcess();
    void suspiciousSignInShowsNotification_data();
    void suspiciousSignInShowsNotification();

private:
    QString newUser();
    /// Starts `agent` with its own XDG_CONFIG_HOME holding `agentConf` (empty: no file) and signs in.
    bool startSignedIn(AgentProcess& agent, QTemporaryDir& config, const QByteArray& agentConf,
                       const QString& email);
    /// Signs in to `email` as Chrome on Windows from kOtherDeviceIp (through a trusted proxy).
    bool signInFromOtherDevice(const QString& email);
    /// A server on which every sign-in from a device without a credential is suspicious (issue 18).
    ehrs::test::ServerProcess* strictServer();
    QList<RecordingNotifications::Call> callsWithSummary(const QString& summary) const;

    QDBusConnection m_bus{QString()};
    RecordingNotifications m_daemon;
    ehrs::test::ServerProcess m_server;
    std::unique_ptr<ehrs::test::ServerProcess> m_strictServer;
    int m_users = 0;
};

void TestDesktopNotifier::initTestCase()
{
    const bool required = qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1";
    // A connection of its own, so the agent code in this process (the in-process test) talks to
    // the stand-in through the bus like any other client.
    m_bus =
        QDBusConnection::connectToBus(QDBusConnection::SessionBus, QStringLiteral("ehrs-test-notifications"));
    if (!m_bus.isConnected()) {
        if (required)
            QFAIL("no D-Bus session bus");
        QSKIP("no D-Bus session bus: run inside dbus-run-session (scripts/test.sh does)");
    }
    if (m_bus.interface()->isServiceRegistered(kService))
        QSKIP("org.freedesktop.Notifications is already owned on this session bus (a real notification "
              "daemon?): run inside a private dbus-run-session (scripts/test.sh does) so the test can "
              "stand in for it");
    QVERIFY(m_bus.registerObject(kPath, &m_daemon, QDBusConnection::ExportAllSlots));
    QVERIFY2(m_bus.registerService(kService), qPrintable(m_bus.lastError().message()));

    m_server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("6"));
    // The other device's address reaches the server through a reverse proxy on loopback.
    m_server.setEnv(QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("127.0.0.1"));
    QVERIFY(m_server.start());
}

void TestDesktopNotifier::init()
{
    m_daemon.calls.clear();
}

void TestDesktopNotifier::cleanupTestCase()
{
    if (m_bus.isConnected()) {
        m_bus.unregisterService(kService);
        m_bus.unregisterObject(kPath);
    }
}

QString TestDesktopNotifier::newUser()
{
    const QString email = QStringLiteral("notified%1@example.org").arg(++m_users);
    if (!m_server.addUser(email, kPassword, QStringLiteral("Clinician %1").arg(m_users)))
        return {};
    return email;
}

bool TestDesktopNotifier::startSignedIn(AgentProcess& agent, QTemporaryDir& config,
                                        const QByteArray& agentConf, const QString& email)
{
    if (!agentConf.isEmpty()) {
        QDir(config.path()).mkpath(QStringLiteral("ehr-sessions"));
        QFile conf(config.filePath(QStringLiteral("ehr-sessions/agent.conf")));
        if (!conf.open(QIODevice::WriteOnly) || conf.write(agentConf) != agentConf.size())
            return false;
    }
    agent.setEnv(QStringLiteral("XDG_CONFIG_HOME"), config.path());
    if (!agent.start())
        return false;
    const QUrl server =
        m_strictServer && email.startsWith(u"strict") ? m_strictServer->url() : m_server.url();
    auto r = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), server.toString(),
                        QStringLiteral("--password-stdin"), email},
                       kPassword.toUtf8() + '\n');
    if (r.exitCode != 0)
        qWarning("login failed (%d): %s\nagent log:\n%s", r.exitCode, r.err.constData(),
                 agent.log().constData());
    return r.exitCode == 0;
}

ehrs::test::ServerProcess* TestDesktopNotifier::strictServer()
{
    if (!m_strictServer) {
        m_strictServer = std::make_unique<ehrs::test::ServerProcess>();
        // new_device alone (20) reaches the threshold: the other device's sign-in is suspicious.
        m_strictServer->setEnv(QStringLiteral("SUSPICIOUS_SIGNIN_THRESHOLD"), QStringLiteral("20"));
        m_strictServer->setEnv(QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("127.0.0.1"));
        if (!m_strictServer->start())
            m_strictServer.reset();
    }
    return m_strictServer.get();
}

QList<RecordingNotifications::Call> TestDesktopNotifier::callsWithSummary(const QString& summary) const
{
    QList<RecordingNotifications::Call> out;
    for (const auto& call : m_daemon.calls) {
        if (call.summary == summary)
            out << call;
    }
    return out;
}

bool TestDesktopNotifier::signInFromOtherDevice(const QString& email)
{
    ehrs::test::ApiClient api(m_strictServer && email.startsWith(u"strict") ? m_strictServer->url()
                                                                            : m_server.url());
    auto r = api.request("POST", "/api/auth/login",
                         {{"email", email.toStdString()}, {"password", kPassword.toStdString()}}, {},
                         {{"User-Agent", kChromeOnWindows}, {"X-Forwarded-For", kOtherDeviceIp}});
    if (r.status != 200)
        qWarning("other device's login: %d %s", r.status, r.body.constData());
    return r.status == 200;
}

void TestDesktopNotifier::formatsAndSanitisesInProcess()
{
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);
    DesktopNotifier notifier; // the session bus, as in the agent
    // Other events never notify; D-Bus keeps the order of one sender's calls, so a notification
    // for this one would be recorded first.
    notifier.onEvent(
        ipc::TokenRefreshedEvent{QStringLiteral("not-a-real-token"), QDateTime::currentDateTimeUtc()});
    // Device and location are chosen by whoever signed in: no markup, no extra lines.
    notifier.onEvent(ipc::NewSignInEvent{
        QStringLiteral("s1"),
        QStringLiteral("<a href=\"https://evil.example\">Chrome</a>\nThis was you, "
                       "no action needed\u202e"),
        QStringLiteral("203.0.113.7"), QStringLiteral("Berlin, <b>DE</b>"), QDateTime::currentDateTimeUtc()});
    QVERIFY(notified.wait(5000));
    QVERIFY(!notified.wait(300));
    QCOMPARE(m_daemon.calls.size(), 1);
    const auto& call = m_daemon.calls.first();
    QCOMPARE(call.appName, QStringLiteral("EHR Sessions"));
    QCOMPARE(call.summary, QStringLiteral("New sign-in"));
    const QStringList lines = call.body.split(u'\n');
    QCOMPARE(lines.size(), 2);
    QCOMPARE(
        lines.at(0),
        QStringLiteral("a href=\"https://evil.example\"Chrome/a This was you, no action needed, 203.0.113.7 "
                       "(Berlin, bDE/b)"));
    QVERIFY(lines.at(1).startsWith(u"Not you?"));
}

void TestDesktopNotifier::newSignInShowsNotification()
{
    const QString email = newUser();
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    agent.unsetEnv(QStringLiteral("EHRS_AGENT_NOTIFY")); // the default: notifications on
    QTemporaryDir config;
    QVERIFY(startSignedIn(agent, config, {}, email));
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);
    // Signing in on this machine is not a "new sign-in" to warn about.
    QVERIFY(!notified.wait(1000));

    QVERIFY(signInFromOtherDevice(email));
    // Noticed through the stream's session-created, or else alongside the next refresh (6 s
    // tokens). It may arrive while the other device's login is still being answered (the request
    // spins an event loop), so the count is checked, not a wait for a later signal.
    if (!QTest::qWaitFor([&notified] { return !notified.isEmpty(); }, 15000)) {
        qWarning("agent log:\n%s", agent.log().constData()); // whole: QVERIFY2 cuts at 1 KiB
        QFAIL("no notification within 15 s");
    }
    QVERIFY(!notified.wait(500));
    QCOMPARE(m_daemon.calls.size(), 1);
    const auto& call = m_daemon.calls.first();
    QCOMPARE(call.appName, QStringLiteral("EHR Sessions"));
    QCOMPARE(call.summary, QStringLiteral("New sign-in"));
    QCOMPARE(call.body.section(u'\n', 0, 0), QStringLiteral("Chrome 120 on Windows 10/11, 203.0.113.7"));
    QVERIFY(call.body.contains(u"Not you?"));
    QVERIFY(!call.icon.isEmpty());
    QCOMPARE(call.hints.value(QStringLiteral("urgency")).toInt(), 1);
}

void TestDesktopNotifier::offSwitchMeansNoNotification_data()
{
    QTest::addColumn<QByteArray>("agentConf");
    QTest::addColumn<QString>("notifyEnv"); // empty: unset
    QTest::newRow("agent.conf newSignIn=false")
        << QByteArray("[notifications]\nnewSignIn=false\n") << QString();
    QTest::newRow("EHRS_AGENT_NOTIFY=0") << QByteArray() << QStringLiteral("0");
}

void TestDesktopNotifier::offSwitchMeansNoNotification()
{
    QFETCH(QByteArray, agentConf);
    QFETCH(QString, notifyEnv);
    const QString email = newUser();
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    if (notifyEnv.isEmpty())
        agent.unsetEnv(QStringLiteral("EHRS_AGENT_NOTIFY"));
    else
        agent.setEnv(QStringLiteral("EHRS_AGENT_NOTIFY"), notifyEnv);
    QTemporaryDir config;
    QVERIFY(startSignedIn(agent, config, agentConf, email));
    ipc::AgentClient subscriber;
    QList<ipc::Event> events;
    connect(&subscriber, &ipc::AgentClient::eventReceived, this,
            [&events](const ipc::Event& e) { events << e; });
    QVERIFY(await(subscriber.connectToAgent(agent.socketPath())));
    QVERIFY(await(subscriber.subscribe()));
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);

    QVERIFY(signInFromOtherDevice(email));
    // The agent does notice the sign-in (its subscribers hear of it) ...
    auto sawNewSignIn = [&events] {
        return std::any_of(events.cbegin(), events.cend(), [](const ipc::Event& e) {
            return std::holds_alternative<ipc::NewSignInEvent>(e);
        });
    };
    QTRY_VERIFY_WITH_TIMEOUT(sawNewSignIn(), 15000);
    // ... but sends no notification. When on, the call leaves the agent right after the event.
    QVERIFY(!notified.wait(1500));
    QCOMPARE(m_daemon.calls.size(), 0);
}

void TestDesktopNotifier::twoStepChangeShowsNotification()
{
    const QString email = newUser();
    QVERIFY(!email.isEmpty());
    AgentProcess agent;
    agent.unsetEnv(QStringLiteral("EHRS_AGENT_NOTIFY"));
    QTemporaryDir config;
    QVERIFY(startSignedIn(agent, config, {}, email));
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);

    // 2FA turned on with a token of this very account (a borrowed one would do the same, with the
    // password): every signed-in device of the user hears of it.
    const auto token = agent.cli({QStringLiteral("token")});
    QCOMPARE(token.exitCode, 0);
    const QByteArray access = token.out.trimmed();
    ehrs::test::ApiClient api(m_server.url());
    auto setup = api.request("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, access);
    QCOMPARE(setup.status, 200);
    const auto secret = ehrs::server::Totp::base32Decode(QString::fromStdString(setup.str("secret")));
    QVERIFY(secret);
    const QString code = ehrs::server::Totp::code(*secret, QDateTime::currentSecsSinceEpoch());
    QCOMPARE(api.request("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access).status, 200);

    // Noticed alongside the next refresh (6 s tokens), which may fall while the requests above
    // spin their event loop: the count is checked, not a wait for a later signal.
    if (!QTest::qWaitFor([&notified] { return !notified.isEmpty(); }, 15000)) {
        qWarning("agent log:\n%s", agent.log().constData()); // whole: QVERIFY2 cuts at 1 KiB
        QFAIL("no notification within 15 s");
    }
    QCOMPARE(m_daemon.calls.size(), 1);
    const auto& call = m_daemon.calls.first();
    QCOMPARE(call.summary, QStringLiteral("Two-step verification turned on"));
    QVERIFY2(call.body.contains(email), qPrintable(call.body));
    QVERIFY(call.body.contains(u"Not you?"));
    // Once: the next refreshes see no further change.
    QVERIFY(!notified.wait(8000));
    QCOMPARE(m_daemon.calls.size(), 1);
}

QTEST_GUILESS_MAIN(TestDesktopNotifier)
#include "TestDesktopNotifier.moc"

void TestDesktopNotifier::refreshReuseSignOutShowsNotification()
{
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);
    DesktopNotifier notifier;
    // An ordinary sign-out says nothing; one caused by a reused refresh token does.
    notifier.onEvent(ipc::SignedOutEvent{QStringLiteral("logout"), QStringLiteral("Signed out")});
    notifier.onEvent(ipc::SignedOutEvent{QStringLiteral("refresh_token_reused"),
                                         QStringLiteral("This session was ended because an old refresh token was used again")});
    QVERIFY(notified.wait(5000));
    QVERIFY(!notified.wait(300));
    QCOMPARE(m_daemon.calls.size(), 1);
    QCOMPARE(m_daemon.calls.first().summary, QStringLiteral("Signed out: your sign-in was used elsewhere"));
    QVERIFY(m_daemon.calls.first().body.contains(u"tell IT"));
}

void TestDesktopNotifier::suspiciousSignInFormatsAndSanitisesInProcess()
{
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);
    DesktopNotifier notifier;
    const ipc::SuspiciousSignInEvent event{
        {QStringLiteral("first sign-in from <a href=\"https://evil.example\">Lisbon</a>"),
         QStringLiteral("2,310 km from your sign-in in Berlin\nThis was you, no action needed\u202e")},
        QStringLiteral("Firefox 121 on <b>Linux</b>"),
        QStringLiteral("Lisbon, Portugal"),
        QDateTime::currentDateTimeUtc()};
    // Off: nothing; turning new sign-ins off leaves it on.
    notifier.setSuspiciousSignInEnabled(false);
    notifier.onEvent(event);
    notifier.setSuspiciousSignInEnabled(true);
    notifier.setNewSignInEnabled(false);
    notifier.onEvent(event);
    QVERIFY(notified.wait(5000));
    QVERIFY(!notified.wait(300));
    QCOMPARE(m_daemon.calls.size(), 1);
    const auto& call = m_daemon.calls.first();
    QCOMPARE(call.appName, QStringLiteral("EHR Sessions"));
    QCOMPARE(call.summary, QStringLiteral("Unusual sign-in to your account"));
    const QStringList lines = call.body.split(u'\n');
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines.at(0), QStringLiteral("Lisbon, Portugal, Firefox 121 on bLinux/b"));
    QCOMPARE(lines.at(1),
             QStringLiteral("Unusual: first sign-in from a href=\"https://evil.example\"Lisbon/a; "
                            "2,310 km from your sign-in in Berlin This was you, no action needed"));
    QVERIFY(lines.at(2).startsWith(u"Not you?"));
}

void TestDesktopNotifier::suspiciousSignInShowsNotification_data()
{
    QTest::addColumn<QByteArray>("agentConf");
    QTest::addColumn<bool>("suspiciousShown");
    QTest::addColumn<bool>("newSignInShown");
    QTest::newRow("default") << QByteArray() << true << true;
    QTest::newRow("agent.conf suspiciousSignIn=false")
        << QByteArray("[notifications]\nsuspiciousSignIn=false\n") << false << true;
    QTest::newRow("agent.conf newSignIn=false")
        << QByteArray("[notifications]\nnewSignIn=false\n") << true << false;
}

void TestDesktopNotifier::suspiciousSignInShowsNotification()
{
    QFETCH(QByteArray, agentConf);
    QFETCH(bool, suspiciousShown);
    QFETCH(bool, newSignInShown);
    ehrs::test::ServerProcess* server = strictServer();
    QVERIFY(server);
    const QString email = QStringLiteral("strict%1@example.org").arg(++m_users);
    QVERIFY(server->addUser(email, kPassword));
    AgentProcess agent;
    agent.unsetEnv(QStringLiteral("EHRS_AGENT_NOTIFY"));
    QTemporaryDir config;
    QVERIFY(startSignedIn(agent, config, agentConf, email));
    ipc::AgentClient subscriber;
    QList<ipc::Event> events;
    connect(&subscriber, &ipc::AgentClient::eventReceived, this,
            [&events](const ipc::Event& e) { events << e; });
    QVERIFY(await(subscriber.connectToAgent(agent.socketPath())));
    QVERIFY(await(subscriber.subscribe()));
    // The agent's own (first) sign-in is not what this is about.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const auto status = await(subscriber.status());
            return status && status->liveUpdates;
        }(),
        10000);
    m_daemon.calls.clear();

    QVERIFY(signInFromOtherDevice(email));
    // From the server's event stream: within a few seconds, not at the next refresh.
    std::optional<ipc::SuspiciousSignInEvent> seen;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const auto& e : std::as_const(events)) {
                if (const auto* s = std::get_if<ipc::SuspiciousSignInEvent>(&e);
                    s && s->location == u"203.0.113.7")
                    seen = *s;
            }
            return seen.has_value();
        }(),
        5000);
    QVERIFY(!seen->reasons.isEmpty());
    // The server's reading of the User-Agent, as the session list shows it, not the raw string.
    QVERIFY2(seen->device.startsWith(u"Chrome") && seen->device.contains(u" on Windows") &&
                 !seen->device.contains(u"Mozilla"),
             qPrintable(seen->device));
    QVERIFY(seen->time.isValid());
    QVERIFY(qAbs(seen->time.secsTo(QDateTime::currentDateTimeUtc())) < 60);
    // The notification leaves the agent right after the event it comes from.
    const QString unusual = QStringLiteral("Unusual sign-in to your account");
    if (suspiciousShown) {
        QTRY_VERIFY_WITH_TIMEOUT(!callsWithSummary(unusual).isEmpty(), 3000);
        const auto call = callsWithSummary(unusual).first();
        QVERIFY2(call.body.section(u'\n', 0, 0).startsWith(QStringLiteral("203.0.113.7, ") + seen->device),
                 qPrintable(call.body));
        QCOMPARE(call.body.section(u'\n', 1, 1),
                 QStringLiteral("Unusual: ") + seen->reasons.join(QStringLiteral("; ")));
        QCOMPARE(callsWithSummary(unusual).size(), 1);
    }
    // The new-sign-in notification (from the session list the stream's session-created makes the
    // agent read) is governed by its own switch.
    if (newSignInShown)
        QTRY_VERIFY_WITH_TIMEOUT(!callsWithSummary(QStringLiteral("New sign-in")).isEmpty(), 5000);
    else
        QTRY_VERIFY_WITH_TIMEOUT(
            std::any_of(events.cbegin(), events.cend(),
                        [](const ipc::Event& e) { return std::holds_alternative<ipc::NewSignInEvent>(e); }),
            5000);
    QSignalSpy notified(&m_daemon, &RecordingNotifications::notified);
    while (notified.wait(1500)) {
    } // until no notification is on its way
    QCOMPARE(callsWithSummary(unusual).size(), suspiciousShown ? 1 : 0);
    QCOMPARE(callsWithSummary(QStringLiteral("New sign-in")).size(), newSignInShown ? 1 : 0);
}
