// SPDX-License-Identifier: Apache-2.0
// "Retry at once when the network comes back", end to end: a real server, a real agent process,
// and Qt's own NetworkManager backend of QNetworkInformation. Only NetworkManager is a stand-in:
// this process starts a private dbus-daemon, gives it to the agent as its system bus
// (DBUS_SYSTEM_BUS_ADDRESS) and owns org.freedesktop.NetworkManager there, serving the
// properties Qt's backend reads (State, Connectivity) and emitting PropertiesChanged on change.
// RefreshScheduler's reaction itself is unit-tested in TestRefreshScheduler.
#include "AgentProcess.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDeadlineTimer>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <optional>
#include <variant>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");
const QString kNmService = QStringLiteral("org.freedesktop.NetworkManager");
const QString kNmPath = QStringLiteral("/org/freedesktop/NetworkManager");

// NetworkManager's D-Bus API values (NMState, NMConnectivityState).
constexpr uint kNmStateDisconnected = 20;
constexpr uint kNmStateConnecting = 40;
constexpr uint kNmStateConnectedGlobal = 70;
constexpr uint kNmConnectivityNone = 1;
constexpr uint kNmConnectivityFull = 4;
} // namespace

/// The part of org.freedesktop.NetworkManager that Qt's networkmanager backend reads: GetAll of the
/// manager's properties at load time, then PropertiesChanged signals. With no PrimaryConnection the
/// backend reports transport medium and metered as unknown, which the agent does not use.
class FakeNetworkManager : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.NetworkManager")
    Q_PROPERTY(uint State READ state)
    Q_PROPERTY(uint Connectivity READ connectivity)
public:
    uint state() const
    {
        ++m_stateReads;
        return m_state;
    }
    uint connectivity() const { return m_connectivity; }
    /// How often a client read State: proof that the agent uses this stand-in.
    int stateReads() const { return m_stateReads; }

    /// Changes the state and tells the bus, as NetworkManager does.
    bool set(QDBusConnection& bus, uint state, uint connectivity)
    {
        m_state = state;
        m_connectivity = connectivity;
        QDBusMessage changed = QDBusMessage::createSignal(
            kNmPath, QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("PropertiesChanged"));
        changed << kNmService
                << QVariantMap{{QStringLiteral("State"), QVariant::fromValue(state)},
                               {QStringLiteral("Connectivity"), QVariant::fromValue(connectivity)}}
                << QStringList();
        return bus.send(changed);
    }

private:
    uint m_state = kNmStateConnectedGlobal;
    uint m_connectivity = kNmConnectivityFull;
    mutable int m_stateReads = 0;
};

class TestNetworkWatcher : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void networkBackRetriesAtOnce();

private:
    /// Polls the agent until a retry is pending at least `minAheadMs` ahead; its status then.
    std::optional<ipc::StatusReply> waitForDistantRetry(ipc::AgentClient& client, qint64 minAheadMs,
                                                        int timeoutMs);

    QTemporaryDir m_busDir;
    QProcess m_busDaemon;
    QString m_busAddress;
    QDBusConnection m_bus{QString()};
    FakeNetworkManager m_nm;
    ehrs::test::ServerProcess m_server;
};

void TestNetworkWatcher::initTestCase()
{
    const QString daemon = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    if (daemon.isEmpty()) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL("dbus-daemon not found");
        QSKIP("dbus-daemon not found (Debian: apt install dbus-daemon): it stands in for the system bus");
    }
    // A bus of our own as the agent's system bus: the machine's real one (if any) stays untouched,
    // and we may own org.freedesktop.NetworkManager on it.
    QVERIFY(m_busDir.isValid());
    m_busDaemon.setProgram(daemon);
    m_busDaemon.setArguments(
        {QStringLiteral("--session"), QStringLiteral("--nofork"), QStringLiteral("--nopidfile"),
         QStringLiteral("--address=unix:path=") + m_busDir.filePath(QStringLiteral("bus")),
         QStringLiteral("--print-address")});
    m_busDaemon.setProcessChannelMode(QProcess::SeparateChannels);
    m_busDaemon.start();
    QVERIFY2(m_busDaemon.waitForStarted(5000), qPrintable(m_busDaemon.errorString()));
    QDeadlineTimer deadline(10000);
    while (!m_busDaemon.canReadLine() && !deadline.hasExpired() && m_busDaemon.state() == QProcess::Running)
        m_busDaemon.waitForReadyRead(200);
    m_busAddress = QString::fromUtf8(m_busDaemon.readLine()).trimmed();
    QVERIFY2(!m_busAddress.isEmpty(), m_busDaemon.readAllStandardError().constData());

    m_bus = QDBusConnection::connectToBus(m_busAddress, QStringLiteral("ehrs-test-system-bus"));
    QVERIFY2(m_bus.isConnected(), qPrintable(m_bus.lastError().message()));
    QVERIFY(m_bus.registerObject(kNmPath, &m_nm, QDBusConnection::ExportAllProperties));
    QVERIFY2(m_bus.registerService(kNmService), qPrintable(m_bus.lastError().message()));

    // 6 s access tokens: the first refresh is due about 5 s after sign-in.
    m_server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("6"));
    QVERIFY(m_server.start());
}

void TestNetworkWatcher::cleanupTestCase()
{
    if (m_bus.isConnected()) {
        m_bus.unregisterService(kNmService);
        m_bus.unregisterObject(kNmPath);
        QDBusConnection::disconnectFromBus(m_bus.name());
    }
    // Our own child, by its PID.
    if (m_busDaemon.state() != QProcess::NotRunning) {
        m_busDaemon.terminate();
        if (!m_busDaemon.waitForFinished(5000)) {
            m_busDaemon.kill();
            m_busDaemon.waitForFinished(5000);
        }
    }
}

std::optional<ipc::StatusReply> TestNetworkWatcher::waitForDistantRetry(ipc::AgentClient& client,
                                                                        qint64 minAheadMs, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        auto s = await(client.status());
        if (!s)
            return std::nullopt;
        if (!s->lastError.isEmpty() && s->nextRefreshAt.isValid() &&
            QDateTime::currentDateTimeUtc().msecsTo(s->nextRefreshAt) >= minAheadMs)
            return *s;
        QTest::qWait(250);
    }
    return std::nullopt;
}

void TestNetworkWatcher::networkBackRetriesAtOnce()
{
    const QString email = QStringLiteral("roaming@example.org");
    QVERIFY(m_server.addUser(email, kPassword, QStringLiteral("Roaming Clinician")));

    AgentProcess agent;
    agent.setEnv(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_busAddress);
    QVERIFY(agent.start());
    // The agent loads Qt's networkmanager backend, which reads our properties (blocking). Serve that
    // before blocking ourselves in the login sub-command below.
    QTRY_VERIFY2_WITH_TIMEOUT(m_nm.stateReads() > 0, agent.log().constData(), 10000);
    QTRY_VERIFY2_WITH_TIMEOUT(agent.log().contains("network information from the networkmanager backend"),
                              agent.log().constData(), 5000);

    auto login = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                            QStringLiteral("--password-stdin"), email},
                           kPassword.toUtf8() + '\n');
    QVERIFY2(login.exitCode == 0, login.err.constData());

    ipc::AgentClient client;
    int refreshed = 0;
    QDateTime refreshedAt;
    connect(&client, &ipc::AgentClient::eventReceived, this, [&refreshed, &refreshedAt](const ipc::Event& e) {
        if (std::holds_alternative<ipc::TokenRefreshedEvent>(e) && ++refreshed == 1)
            refreshedAt = QDateTime::currentDateTimeUtc();
    });
    QVERIFY(await(client.connectToAgent(agent.socketPath())));
    QVERIFY(await(client.subscribe()));
    // An app at work (issue 14: without one, or input on a desktop, the agent does not refresh).
    QVERIFY(await(client.token()));

    // The network goes away: the server becomes unreachable and NetworkManager says so.
    const int port = m_server.url().port();
    m_server.stop();
    QVERIFY(m_nm.set(m_bus, kNmStateDisconnected, kNmConnectivityNone));

    // Refreshes fail and back off (1 s doubling, half jittered) until the next attempt is far away.
    constexpr qint64 kMinAheadMs = 7000;
    const auto down = waitForDistantRetry(client, kMinAheadMs, 60000);
    QVERIFY2(down.has_value(), agent.log().constData());
    QCOMPARE(down->state, QStringLiteral("offline"));
    QVERIFY(down->signedIn);
    const QDateTime lastRefresh = down->lastRefreshAt;
    const QDateTime scheduledRetry = down->nextRefreshAt;

    // The server is reachable again; NetworkManager is still connecting (reachability Unknown).
    QVERIFY(m_server.start({QStringLiteral("--port"), QString::number(port)}));
    QCOMPARE(m_server.url().port(), port);
    QVERIFY(m_nm.set(m_bus, kNmStateConnecting, kNmConnectivityNone));

    // Control: without the network coming back, the agent keeps waiting out its backoff.
    constexpr int kWindowMs = 2000;
    QTest::qWait(kWindowMs);
    QCOMPARE(refreshed, 0);
    auto waiting = await(client.status());
    QVERIFY(waiting);
    QCOMPARE(waiting->lastRefreshAt, lastRefresh);
    // The same retry (status derives the time from the remaining delay: a millisecond of rounding).
    QVERIFY(qAbs(waiting->nextRefreshAt.msecsTo(scheduledRetry)) < 50);
    const QDateTime flippedAt = QDateTime::currentDateTimeUtc();
    // Otherwise the backoff timer alone could explain a refresh in the window below.
    QVERIFY2(
        flippedAt.msecsTo(scheduledRetry) > kWindowMs + 500,
        qPrintable(QStringLiteral("the retry is due in %1 ms only").arg(flippedAt.msecsTo(scheduledRetry))));

    // The network is back: the agent retries at once, long before its backoff timer.
    QVERIFY(m_nm.set(m_bus, kNmStateConnectedGlobal, kNmConnectivityFull));
    QTRY_VERIFY_WITH_TIMEOUT(refreshed > 0, kWindowMs);
    qInfo("refreshed %lld ms after the network came back, %lld ms before the backoff's retry",
          flippedAt.msecsTo(refreshedAt), refreshedAt.msecsTo(scheduledRetry));
    QVERIFY(flippedAt.msecsTo(refreshedAt) < kWindowMs);
    QVERIFY(refreshedAt.msecsTo(scheduledRetry) > 500);
    auto up = await(client.status());
    QVERIFY(up);
    QCOMPARE(up->state, QStringLiteral("signed-in"));
    QVERIFY(up->lastError.isEmpty());
    QVERIFY(up->lastRefreshAt > lastRefresh);
    QVERIFY(up->lastRefreshAt <= refreshedAt);
    QVERIFY(agent.log().contains("network is back: retrying now"));
}

QTEST_GUILESS_MAIN(TestNetworkWatcher)
#include "TestNetworkWatcher.moc"
