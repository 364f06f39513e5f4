// SPDX-License-Identifier: Apache-2.0
// The soak of issue 13: the real agent, server, keychain and a private Redis, 5 s access tokens,
// a token ask every 100 ms whose token is used against the server at once, and a fault every
// ~40 s in turn: the agent killed (-9) and started again, the server restarted (same port), Redis
// killed and started again. Target: at least 99.9% of asks give a token the server accepts, and
// no forced sign-in. About 4 minutes (EHRS_SOAK_SECONDS, default 240): skipped unless EHRS_SOAK=1
// (`EHRS_SOAK=1 bash scripts/test.sh -L soak`). With EHRS_SOAK_REPORT=FILE the counts are written
// there as JSON (docs/benchmarks.md, "Issue 13 soak").
#include "AgentProcess.h"
#include "ApiClient.h"
#include "ServerProcess.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"
#include "storage/KeychainTokenStore.h"

#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QMutex>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

using namespace ehrs;
using namespace ehrs::agent;
using ehrs::agent::test::AgentProcess;
using ehrs::test::ApiClient;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("Correct-horse-battery-9");

int freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

/// A private redis-server on a fixed port, killed and started again by the soak.
class RedisProcess
{
public:
    explicit RedisProcess(int port) : m_port(port) {}
    ~RedisProcess() { kill(); }
    bool start()
    {
        m_process = std::make_unique<QProcess>();
        m_process->start(QStringLiteral("redis-server"),
                         {QStringLiteral("--port"), QString::number(m_port), QStringLiteral("--bind"),
                          QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
                          QStringLiteral("--appendonly"), QStringLiteral("no")});
        if (!m_process->waitForStarted(5000))
            return false;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 10000) { // until it accepts connections
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, quint16(m_port));
            if (probe.waitForConnected(100))
                return true;
            m_process->waitForFinished(50);
        }
        return false;
    }
    void kill()
    {
        if (!m_process)
            return;
        m_process->kill();
        m_process->waitForFinished(5000);
        m_process.reset();
    }
    QString url() const { return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port); }

private:
    int m_port;
    std::unique_ptr<QProcess> m_process;
};

/// Counts of the soak, shared by the asking thread and the test.
struct Tally
{
    QMutex mutex;
    int asks = 0;
    int accepted = 0;
    int rejected = 0;           // a handed-out token the server refused: what issue 13 is about
    int askFailed = 0;          // the agent gave no token
    int askFailedSignedOut = 0; // ... because it had signed out: a forced sign-in
    int serverUnreachable = 0;  // the token could not be judged: the server was restarting
    QMap<QString, int> reasons;
    QList<qint64> askMs;
};

/// Asks the agent for a token every 100 ms on its own thread (so that asks go on while the test's
/// thread restarts things) and uses each token against the server at once.
class Asker : public QObject
{
    Q_OBJECT
public:
    Asker(QString socketPath, QUrl server, Tally& tally)
        : m_socketPath(std::move(socketPath)), m_server(std::move(server)), m_tally(tally)
    {
    }
    void begin()
    {
        m_client = std::make_unique<ipc::AgentClient>();
        m_timer = std::make_unique<QTimer>();
        m_timer->setInterval(100);
        connect(m_timer.get(), &QTimer::timeout, this, &Asker::tick);
        m_timer->start();
    }
    void end()
    {
        m_timer.reset();
        m_client.reset();
    }

private:
    void tick()
    {
        if (m_busy)
            return; // the previous ask is still out (counted when it finishes)
        m_busy = true;
        QElapsedTimer since;
        since.start();
        if (!m_client->isConnected()) {
            // A fresh connection per (re)start of the agent, as a script's client would make.
            m_client = std::make_unique<ipc::AgentClient>();
            const auto connected = await(m_client->connectToAgent(m_socketPath));
            if (!connected) {
                record(since, fail(connected.error()));
                return;
            }
        }
        m_client->token().then(this, [this, since](const Result<ipc::TokenReply>& reply) {
            Result<QString> token =
                reply ? Result<QString>(reply->accessToken) : Result<QString>(fail(reply.error()));
            record(since, token);
        });
    }
    void record(QElapsedTimer since, const Result<QString>& token)
    {
        int status = 0;
        if (token)
            status = ApiClient(m_server).request("GET", "/api/sessions", nullptr, token->toLatin1()).status;
        QMutexLocker lock(&m_tally.mutex);
        ++m_tally.asks;
        m_tally.askMs << since.elapsed();
        if (!token) {
            ++m_tally.askFailed;
            const ErrorCode code = token.error().code;
            if (code == ErrorCode::Unauthenticated || code == ErrorCode::SessionRevoked ||
                code == ErrorCode::RefreshReused || code == ErrorCode::SessionExpired)
                ++m_tally.askFailedSignedOut;
            ++m_tally.reasons[QStringLiteral("ask: ") + token.error().message.left(80)];
        } else if (status == 200) {
            ++m_tally.accepted;
        } else if (status == 0 || status == 503) {
            ++m_tally.serverUnreachable;
        } else {
            ++m_tally.rejected;
            ++m_tally.reasons[QStringLiteral("server: %1").arg(status)];
        }
        m_busy = false;
    }

    QString m_socketPath;
    QUrl m_server;
    Tally& m_tally;
    std::unique_ptr<ipc::AgentClient> m_client;
    std::unique_ptr<QTimer> m_timer;
    bool m_busy = false;
};
} // namespace

class TestAgentSoak : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void soak();
};

// Skipped here, not in soak(): a skip in initTestCase skips the whole run, which CTest then shows
// as Skipped (cmake/AddQtTest.cmake); a skip inside soak() left initTestCase and cleanupTestCase
// counted as passed, and CTest showed the soak as Passed.
void TestAgentSoak::initTestCase()
{
    if (qEnvironmentVariable("EHRS_SOAK") != u"1")
        QSKIP("the soak runs with EHRS_SOAK=1 (about 4 minutes)");
    KeychainTokenStore probe(QStringLiteral("ehr-sessions-test-probe"));
    if (auto loaded = await(probe.load()); !loaded && loaded.error().code == ErrorCode::Unavailable)
        QSKIP(qPrintable(QStringLiteral("no keychain: ") + loaded.error().message));
}

void TestAgentSoak::soak()
{
    const int seconds = qEnvironmentVariableIntValue("EHRS_SOAK_SECONDS") > 0
                            ? qEnvironmentVariableIntValue("EHRS_SOAK_SECONDS")
                            : 240;

    RedisProcess redis(freePort());
    QVERIFY(redis.start());
    ServerProcess server;
    if (ServerProcess::onPostgres())
        QVERIFY(server.useBackendUnderTest());
    server.setEnv(QStringLiteral("REDIS_URL"), redis.url());
    server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("5"));
    const int port = freePort();
    const QStringList onPort{QStringLiteral("--port"), QString::number(port)};
    QVERIFY(server.start(onPort));
    const QString email = QStringLiteral("soak@example.org");
    QVERIFY(server.addUser(email, kPassword));

    AgentProcess agent;
    QVERIFY(agent.start());
    auto login = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), server.url().toString(),
                            QStringLiteral("--password-stdin"), email},
                           kPassword.toUtf8() + '\n');
    QVERIFY2(login.exitCode == 0, login.err.constData());
    const auto before = ipc::statusReplyFromPayload(
        agent.cli({QStringLiteral("status"), QStringLiteral("--json")}).out.trimmed());
    QVERIFY(before && before->signedIn);

    Tally tally;
    QThread thread;
    Asker asker(agent.socketPath(), server.url(), tally);
    asker.moveToThread(&thread);
    thread.start();
    QMetaObject::invokeMethod(&asker, &Asker::begin, Qt::BlockingQueuedConnection);

    // The faults, in turn, every 40 s from t = 20 s.
    QStringList faults;
    QList<QPair<QString, int>> faultAsks; // asks answered in the 5 s after each fault
    QEventLoop loop;
    QTimer schedule;
    QElapsedTimer clock;
    clock.start();
    int next = 0;
    schedule.setInterval(20'000);
    QObject::connect(&schedule, &QTimer::timeout, &loop, [&] {
        if (clock.elapsed() >= qint64(seconds) * 1000)
            return loop.quit();
        schedule.setInterval(40'000);
        switch (next++ % 3) {
        case 0:
            faults << QStringLiteral("agent kill -9 at %1 s").arg(clock.elapsed() / 1000);
            agent.kill();
            if (!agent.start())
                faults << QStringLiteral("agent did not start again");
            break;
        case 1:
            faults << QStringLiteral("server restart at %1 s").arg(clock.elapsed() / 1000);
            server.stop();
            if (!server.start(onPort))
                faults << QStringLiteral("server did not start again");
            break;
        case 2:
            faults << QStringLiteral("Redis kill -9 at %1 s").arg(clock.elapsed() / 1000);
            redis.kill();
            QTimer::singleShot(3000, &loop, [&] {
                if (!redis.start())
                    faults << QStringLiteral("Redis did not start again");
            });
            break;
        }
        if (clock.elapsed() + 40'000 > qint64(seconds) * 1000)
            schedule.setInterval(int(qMax<qint64>(1000, qint64(seconds) * 1000 - clock.elapsed())));
    });
    schedule.start();
    loop.exec();

    QMetaObject::invokeMethod(&asker, &Asker::end, Qt::BlockingQueuedConnection);
    thread.quit();
    thread.wait();

    const auto after = ipc::statusReplyFromPayload(
        agent.cli({QStringLiteral("status"), QStringLiteral("--json")}).out.trimmed());
    QMutexLocker lock(&tally.mutex);
    std::sort(tally.askMs.begin(), tally.askMs.end());
    auto pct = [&](double p) {
        return tally.askMs.isEmpty() ? 0 : tally.askMs.at(int(p * (tally.askMs.size() - 1)));
    };
    const int judged = tally.asks - tally.serverUnreachable;
    const double acceptedRatio = judged > 0 ? double(tally.accepted) / judged : 0;
    nlohmann::json report{
        {"seconds", seconds},
        {"backend", ServerProcess::onPostgres() ? "postgres+redis" : "sqlite+redis"},
        {"asks", tally.asks},
        {"accepted", tally.accepted},
        {"rejectedByServer", tally.rejected},
        {"askFailed", tally.askFailed},
        {"askFailedSignedOut", tally.askFailedSignedOut},
        {"serverUnreachable", tally.serverUnreachable},
        {"acceptedOfJudged", acceptedRatio},
        {"askMsP50", pct(0.5)},
        {"askMsP99", pct(0.99)},
        {"askMsMax", tally.askMs.isEmpty() ? 0 : tally.askMs.back()},
        {"sameSessionAtEnd", after && after->signedIn && after->sessionId == before->sessionId}};
    nlohmann::json reasons = nlohmann::json::object();
    for (auto it = tally.reasons.cbegin(); it != tally.reasons.cend(); ++it)
        reasons[it.key().toStdString()] = it.value();
    report["reasons"] = reasons;
    nlohmann::json faultList = nlohmann::json::array();
    for (const QString& f : faults)
        faultList.push_back(f.toStdString());
    report["faults"] = faultList;
    qInfo("%s", report.dump(2).c_str());
    if (const QString path = qEnvironmentVariable("EHRS_SOAK_REPORT"); !path.isEmpty()) {
        QFile f(path);
        if (f.open(QIODevice::WriteOnly))
            f.write(QByteArray::fromStdString(report.dump(2)) + '\n');
    }
    QVERIFY(tally.asks > seconds * 5); // the asker kept going
    QCOMPARE(tally.askFailedSignedOut, 0);
    QVERIFY(after && after->signedIn);
    QCOMPARE(after->sessionId, before->sessionId); // never signed in again
    QVERIFY2(acceptedRatio >= 0.999, qPrintable(QString::number(acceptedRatio, 'f', 5)));
}

QTEST_GUILESS_MAIN(TestAgentSoak)
#include "TestAgentSoak.moc"
