// SPDX-License-Identifier: Apache-2.0
// What a person sees from `ehr-sessions-agent`'s sub-commands, and asks made while the agent
// restarts: the real agent binary against a real server process and the real keychain
// (scripts/test.sh runs this inside dbus-run-session with an unlocked gnome-keyring).
#include "AgentProcess.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentMessages.h"
#include "net/ServerClient.h"
#include "storage/KeychainTokenStore.h"

#include <QDir>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>
#include <unistd.h>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");

/// A web server that is not an EHR Sessions server: every request gets `status` and an HTML page.
class HtmlServer : public QObject
{
public:
    explicit HtmlServer(int status) : m_status(status)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* socket = m_server.nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] { onRead(socket); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        m_server.listen(QHostAddress::LocalHost);
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort()); }

private:
    void onRead(QTcpSocket* socket)
    {
        QByteArray& buffer = m_buffers[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        static const QRegularExpression lengthHeader(QStringLiteral("(?i)content-length:\\s*(\\d+)"));
        const auto m = lengthHeader.match(QString::fromLatin1(buffer.left(end)));
        if (buffer.size() < end + 4 + (m.hasMatch() ? m.captured(1).toLongLong() : 0))
            return;
        const QByteArray page = "<!doctype html><html><body><h1>Welcome to the intranet</h1></body></html>";
        socket->write("HTTP/1.1 " + QByteArray::number(m_status) +
                      " Whatever\r\nContent-Type: text/html\r\n"
                      "Content-Length: " +
                      QByteArray::number(page.size()) + "\r\nConnection: close\r\n\r\n" + page);
        socket->disconnectFromHost();
        m_buffers.remove(socket);
    }

    int m_status;
    QTcpServer m_server;
    QHash<QTcpSocket*, QByteArray> m_buffers;
};

/// Waits for a sub-command started with startCli() while this thread's event loop keeps running
/// (the test serves HTTP meanwhile).
AgentProcess::CliResult finishServing(QProcess& process, int timeoutMs = 30000)
{
    QElapsedTimer timer;
    timer.start();
    while (process.state() != QProcess::NotRunning && timer.elapsed() < timeoutMs)
        QTest::qWait(20);
    return AgentProcess::finish(process, 1000);
}
} // namespace

class TestAgentCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void minValidMustBeSecondsInRange_data();
    void minValidMustBeSecondsInRange();
    void emptyPasswordIsExplained();
    void serverWithoutSchemeGetsAHint_data();
    void serverWithoutSchemeGetsAHint();
    void notAnEhrSessionsServerIsSaid_data();
    void notAnEhrSessionsServerIsSaid();
    void statusPrintsTimesWithTheirZone();
    void ownLogoutIsNotReportedAsEndedElsewhere();
    void sessionEndedElsewhereKeepsThatReasonThroughLogout();
    void noDBusSessionIsNamed();
    void noSecretServiceIsNamed();
    void worksWithoutXdgRuntimeDir();
    void aDirectoryOfSomeoneElseIsRefused();
    void asksWhileTheAgentStartsWait();
    void asksDuringRestartsSucceedWithSocketActivation();

private:
    QString newUser();
    bool signIn(AgentProcess& agent, const QString& email);
    QString token(AgentProcess& agent);
    int httpStatus(const QByteArray& verb, const QString& path, const QString& bearer,
                   QByteArray* body = nullptr);
    ipc::StatusReply status(AgentProcess& agent);

    ehrs::test::ServerProcess m_server;
    QNetworkAccessManager m_network;
    int m_users = 0;
};

void TestAgentCli::initTestCase()
{
    KeychainTokenStore probe(QStringLiteral("ehr-sessions-test-probe"));
    auto loaded = await(probe.load());
    if (!loaded && loaded.error().code == ErrorCode::Unavailable) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL(qPrintable(loaded.error().message));
        QSKIP(qPrintable(QStringLiteral("no keychain: ") + loaded.error().message));
    }
    QVERIFY(m_server.start());
}

QString TestAgentCli::newUser()
{
    const QString email = QStringLiteral("cli%1@example.org").arg(++m_users);
    if (!m_server.addUser(email, kPassword, QStringLiteral("Clinician %1").arg(m_users)))
        return {};
    return email;
}

bool TestAgentCli::signIn(AgentProcess& agent, const QString& email)
{
    auto r = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                        QStringLiteral("--password-stdin"), email},
                       kPassword.toUtf8() + '\n');
    if (r.exitCode != 0)
        qWarning("login failed (%d): %s\nagent log:\n%s", r.exitCode, r.err.constData(),
                 agent.log().constData());
    return r.exitCode == 0;
}

QString TestAgentCli::token(AgentProcess& agent)
{
    auto r = agent.cli({QStringLiteral("token")});
    return r.exitCode == 0 ? QString::fromUtf8(r.out).trimmed() : QString();
}

int TestAgentCli::httpStatus(const QByteArray& verb, const QString& path, const QString& bearer,
                             QByteArray* body)
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

ipc::StatusReply TestAgentCli::status(AgentProcess& agent)
{
    auto r = agent.cli({QStringLiteral("status"), QStringLiteral("--json")});
    auto s = ipc::statusReplyFromPayload(r.out.trimmed());
    return s ? *s : ipc::StatusReply{};
}

void TestAgentCli::minValidMustBeSecondsInRange_data()
{
    QTest::addColumn<QString>("value");
    QTest::newRow("a day and a second") << QStringLiteral("86401");
    QTest::newRow("not a number") << QStringLiteral("soon");
    QTest::newRow("negative") << QStringLiteral("-5");
    QTest::newRow("fraction") << QStringLiteral("1.5");
}

void TestAgentCli::minValidMustBeSecondsInRange()
{
    // Before: 86401 reached the agent, whose reply (id 0) the client could not match ("cannot talk
    // to the agent: QLocalSocket: Remote closed"); "soon" became 0 and a token came back.
    QFETCH(QString, value);
    AgentProcess agent;
    QVERIFY(agent.start());
    auto r = agent.cli({QStringLiteral("token"), QStringLiteral("--min-valid"), value});
    QCOMPARE(r.exitCode, 64);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(QString::fromUtf8(r.err).trimmed(),
             QStringLiteral(
                 "ehr-sessions-agent: --min-valid takes whole seconds from 0 to 86400 (24 hours), not '%1'")
                 .arg(value));
}

void TestAgentCli::emptyPasswordIsExplained()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    auto r = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                        QStringLiteral("--password-stdin"), email},
                       "\n");
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(
        QString::fromUtf8(r.err).trimmed(),
        QStringLiteral("ehr-sessions-agent: sign-in failed: the password is empty (--password-stdin reads it "
                       "from the first line of standard input)"));
    QVERIFY(!status(agent).signedIn);
}

void TestAgentCli::serverWithoutSchemeGetsAHint_data()
{
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("hint");
    QTest::newRow("loopback with port")
        << QStringLiteral("127.0.0.1:8000") << QStringLiteral("http://127.0.0.1:8000");
    QTest::newRow("localhost") << QStringLiteral("localhost:8000") << QStringLiteral("http://localhost:8000");
    QTest::newRow("remote host") << QStringLiteral("sessions.hospital.example")
                                 << QStringLiteral("https://sessions.hospital.example");
}

void TestAgentCli::serverWithoutSchemeGetsAHint()
{
    QFETCH(QString, server);
    QFETCH(QString, hint);
    AgentProcess agent;
    QVERIFY(agent.start());
    auto r = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), server,
                        QStringLiteral("--password-stdin"), QStringLiteral("nobody@example.org")},
                       kPassword.toUtf8() + '\n');
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(
        QString::fromUtf8(r.err).trimmed(),
        QStringLiteral("ehr-sessions-agent: '%1' is not a server URL: did you mean %2?").arg(server, hint));
}

void TestAgentCli::notAnEhrSessionsServerIsSaid_data()
{
    QTest::addColumn<int>("httpStatus");
    QTest::newRow("404 page") << 404;
    QTest::newRow("200 page") << 200;
    QTest::newRow("405 page") << 405;
}

void TestAgentCli::notAnEhrSessionsServerIsSaid()
{
    // Before: "malformed sign-in response from the server" (200) or "HTTP 404".
    QFETCH(int, httpStatus);
    HtmlServer web(httpStatus);
    AgentProcess agent;
    QVERIFY(agent.start());
    auto p = agent.startCli({QStringLiteral("login"), QStringLiteral("--server"), web.url(),
                             QStringLiteral("--password-stdin"), QStringLiteral("nobody@example.org")},
                            kPassword.toUtf8() + '\n');
    auto r = finishServing(*p);
    QCOMPARE(r.exitCode, 1);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(err.contains(u"is not an EHR Sessions server") || err.contains(u"is not an EHR Sessions answer"),
             qPrintable(err));
    QVERIFY2(err.contains(u"check the server address"), qPrintable(err));
}

void TestAgentCli::statusPrintsTimesWithTheirZone()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    // A POSIX TZ string: three hours east of UTC, called "EHR"; needs no time-zone database.
    agent.setEnv(QStringLiteral("TZ"), QStringLiteral("EHR-3"));
    auto r = agent.cli({QStringLiteral("status")});
    QCOMPARE(r.exitCode, 0);
    const QString out = QString::fromUtf8(r.out);
    static const QRegularExpression stamp(
        QStringLiteral("^%1:\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d EHR \\(\\+03:00\\)$"));
    for (const char* label : {"Token expires", "Last refresh", "Next refresh"}) {
        QRegularExpression line(stamp.pattern().arg(QLatin1String(label)),
                                QRegularExpression::MultilineOption);
        QVERIFY2(line.match(out).hasMatch(),
                 qPrintable(QStringLiteral("%1 in:\n%2").arg(QLatin1String(label), out)));
    }
}

void TestAgentCli::ownLogoutIsNotReportedAsEndedElsewhere()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const QString access = token(agent);
    QVERIFY(!access.isEmpty());
    QCOMPARE(agent.cli({QStringLiteral("logout")}).exitCode, 0);

    // A script still holding the token hears that the session ended, not who ended it from where.
    QByteArray body;
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access, &body), 401);
    QVERIFY2(body.contains("session_revoked"), body.constData());
    QVERIFY2(!body.contains("another device") && !body.contains("by IT"), body.constData());

    auto r = agent.cli({QStringLiteral("status")});
    QCOMPARE(r.exitCode, 3);
    QVERIFY2(r.out.contains("Signed out (logout)\nWhy:             You signed out.\n"), r.out.constData());
}

void TestAgentCli::sessionEndedElsewhereKeepsThatReasonThroughLogout()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    const QString agentSession = status(agent).sessionId;
    // Another device ends the agent's session; the agent has not noticed yet when the person runs
    // `logout`. Before: the agent then said it was signed out by the user ("logout").
    ServerClient other(m_network);
    auto outcome = await(other.login(m_server.url(), LoginRequest{email, kPassword, {}}));
    QVERIFY(outcome);
    const auto otherTokens = std::get<AuthTokens>(*outcome);
    QCOMPARE(httpStatus("DELETE", QStringLiteral("/api/sessions/") + agentSession, otherTokens.accessToken),
             200);
    QCOMPARE(agent.cli({QStringLiteral("logout")}).exitCode, 0);
    const auto s = status(agent);
    QVERIFY(!s.signedIn);
    QCOMPARE(s.signedOutReason, QStringLiteral("session_revoked"));
    QVERIFY2(!s.lastError.contains(u"by the user"), qPrintable(s.lastError));
    auto r = agent.cli({QStringLiteral("status")});
    QVERIFY2(r.out.contains("Why:             Your session was ended from another device."),
             r.out.constData());
}

void TestAgentCli::noDBusSessionIsNamed()
{
    AgentProcess agent;
    agent.unsetEnv(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
    agent.unsetEnv(QStringLiteral("DISPLAY")); // no X11 autolaunch of a bus either
    QVERIFY(agent.start());
    const auto s = status(agent);
    QCOMPARE(s.storage, QStringLiteral("memory"));
    QVERIFY2(
        s.storageNote.startsWith(u"no keychain: there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is "
                                 u"not set)"),
        qPrintable(s.storageNote));
    QVERIFY2(agent.log().contains("No keychain: there is no D-Bus session bus"), agent.log().constData());
    auto r = agent.cli({QStringLiteral("status")});
    QVERIFY2(r.out.contains("Storage:         memory (no keychain: there is no D-Bus session bus"),
             r.out.constData());
}

void TestAgentCli::noSecretServiceIsNamed()
{
    const QString daemon = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    if (daemon.isEmpty())
        QSKIP("dbus-daemon not found (Debian: apt install dbus-daemon)");
    // A session bus of our own with no service files: nothing provides org.freedesktop.secrets.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile config(dir.filePath(QStringLiteral("bus.conf")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
                 "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                 "<busconfig><type>session</type><listen>unix:path=" +
                 QFile::encodeName(dir.filePath(QStringLiteral("bus"))) +
                 "</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\" "
                 "eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n");
    config.close();
    QProcess bus;
    bus.start(daemon, {QStringLiteral("--config-file=") + config.fileName(), QStringLiteral("--nofork"),
                       QStringLiteral("--nopidfile"), QStringLiteral("--print-address")});
    QVERIFY(bus.waitForStarted(5000));
    QDeadlineTimer deadline(10000);
    while (!bus.canReadLine() && !deadline.hasExpired() && bus.state() == QProcess::Running)
        bus.waitForReadyRead(200);
    const QString address = QString::fromUtf8(bus.readLine()).trimmed();
    QVERIFY2(!address.isEmpty(), bus.readAllStandardError().constData());

    AgentProcess agent;
    agent.setEnv(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), address);
    QVERIFY(agent.start());
    const auto s = status(agent);
    QCOMPARE(s.storage, QStringLiteral("memory"));
    QVERIFY2(
        s.storageNote.startsWith(u"no keychain: no Secret Service is installed on the D-Bus session bus"),
        qPrintable(s.storageNote + u'\n' + QString::fromUtf8(agent.log())));
    agent.stop();
    bus.terminate();
    bus.waitForFinished(5000);
}

void TestAgentCli::worksWithoutXdgRuntimeDir()
{
    // README's commands, as a newcomer types them after run.sh in a shell without XDG_RUNTIME_DIR
    // (su, a container): no --socket, no environment to copy. Before: "XDG_RUNTIME_DIR is not set".
    const QString userRuntime = QStringLiteral("/run/user/%1").arg(::geteuid());
    if (QFileInfo(userRuntime).isDir())
        QSKIP("this user has /run/user/UID, which the agent would use (and share with a real agent)");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString email = newUser();
    AgentProcess agent;
    agent.unsetEnv(QStringLiteral("XDG_RUNTIME_DIR"));
    agent.setEnv(QStringLiteral("TMPDIR"), tmp.path());
    agent.setSocketPath(tmp.filePath(QStringLiteral("ehr-sessions-%1/agent.sock").arg(::geteuid())));
    agent.setPassSocket(false);
    QVERIFY(agent.start());
    QFileInfo dir(QFileInfo(agent.socketPath()).absolutePath());
    QCOMPARE(int(QFile::permissions(dir.filePath()) & 0x0077), 0); // no group/other bits
    QVERIFY(signIn(agent, email));
    const QString access = token(agent);
    QVERIFY(!access.isEmpty());
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), access), 200);
}

void TestAgentCli::aDirectoryOfSomeoneElseIsRefused()
{
    // The fallback name in /tmp can be created by anyone first: then neither the agent nor a
    // client uses it (a client would otherwise hand its password to whoever listens there).
    const QString userRuntime = QStringLiteral("/run/user/%1").arg(::geteuid());
    if (QFileInfo(userRuntime).isDir())
        QSKIP("this user has /run/user/UID, which the agent would use instead");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString squatted = tmp.filePath(QStringLiteral("ehr-sessions-%1").arg(::geteuid()));
    QVERIFY(QDir().mkdir(squatted));
    // Not private (a squatter would have to leave it open to serve us); as root also not ours.
    QVERIFY(::chmod(QFile::encodeName(squatted).constData(), 0777) == 0);
    if (::geteuid() == 0)
        QVERIFY(::chown(QFile::encodeName(squatted).constData(), 65534, 65534) == 0);
    AgentProcess agent;
    agent.unsetEnv(QStringLiteral("XDG_RUNTIME_DIR"));
    agent.setEnv(QStringLiteral("TMPDIR"), tmp.path());
    agent.setPassSocket(false);
    auto r = agent.cli({QStringLiteral("token")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("is not a private directory of this user") && r.err.contains(squatted.toUtf8()),
             r.err.constData());
}

void TestAgentCli::asksWhileTheAgentStartsWait()
{
    // Without systemd: the agent crashed and is being started again (by the app, autostart, a
    // script); an ask made meanwhile waits for it instead of failing at once.
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    agent.kill(); // its socket file stays behind: connecting is refused until the new agent listens
    auto ask = agent.startCli({QStringLiteral("token")});
    QVERIFY(agent.start());
    auto r = AgentProcess::finish(*ask);
    QVERIFY2(r.exitCode == 0, (r.err + "\nagent log:\n" + agent.log()).constData());
    QCOMPARE(httpStatus("GET", QStringLiteral("/api/sessions"), QString::fromUtf8(r.out).trimmed()), 200);

    // With nothing starting, the wait ends after about 2 s with a clear message.
    agent.stop();
    QElapsedTimer waited;
    waited.start();
    auto none = agent.cli({QStringLiteral("token")});
    QCOMPARE(none.exitCode, 2);
    QVERIFY(waited.elapsed() >= 1900);
    QVERIFY2(none.err.contains("the agent is not running (no answer within 2 seconds"), none.err.constData());
}

void TestAgentCli::asksDuringRestartsSucceedWithSocketActivation()
{
    const QString email = newUser();
    AgentProcess agent;
    QVERIFY(agent.enableSocketActivation());
    QVERIFY(agent.start());
    QVERIFY(signIn(agent, email));
    for (int round = 0; round < 3; ++round) {
        // A crash (round 0, 2) or a stop for an upgrade (round 1); asks arrive while no agent runs.
        if (round == 1)
            agent.stop();
        else
            agent.kill();
        std::vector<std::unique_ptr<QProcess>> asks;
        for (int i = 0; i < 4; ++i)
            asks.push_back(agent.startCli({QStringLiteral("token")}));
        asks.push_back(agent.startCli({QStringLiteral("status"), QStringLiteral("--json")}));
        QVERIFY2(QFileInfo::exists(agent.socketPath()), "the socket file must outlive the agent");
        QVERIFY(agent.start());
        for (auto& ask : asks) {
            auto r = AgentProcess::finish(*ask);
            QVERIFY2(r.exitCode == 0, (r.err + "\nagent log:\n" + agent.log()).constData());
            if (ask->arguments().first() == u"token")
                QCOMPARE(
                    httpStatus("GET", QStringLiteral("/api/sessions"), QString::fromUtf8(r.out).trimmed()),
                    200);
        }
    }
    QVERIFY(status(agent).signedIn);
}

QTEST_GUILESS_MAIN(TestAgentCli)
#include "TestAgentCli.moc"
