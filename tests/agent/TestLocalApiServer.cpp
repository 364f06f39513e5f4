// SPDX-License-Identifier: Apache-2.0
#include "FakeClock.h"
#include "FakeTokenStore.h"
#include "core/AgentService.h"
#include "core/Await.h"
#include "ipc/AgentClient.h"
#include "ipc/FrameDecoder.h"
#include "localapi/LocalApiServer.h"
#include "net/ServerClient.h"
#include "refresh/RefreshScheduler.h"

#include <QFileInfo>
#include <QLocalSocket>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ehrs;
using namespace ehrs::agent;

namespace {
/// A complete agent in-process, on a fake store and clock; the server URL is unreachable.
struct Harness
{
    QTemporaryDir dir;
    test::FakeClock clock;
    test::FakeTokenStore store;
    QNetworkAccessManager network;
    ServerClient server{network};
    RefreshScheduler scheduler{clock, RefreshPolicy(), [] { return 0.5; }};
    AgentService service{store, server, scheduler, clock, [] {
                             AgentConfig c;
                             c.watchServerEvents = false;
                             return c;
                         }()};
    LocalApiServer api{service};
    QString path() const { return dir.filePath(QStringLiteral("ehr-sessions/agent.sock")); }
};

#define LISTEN(h)                                                                                          \
    do {                                                                                                   \
        auto listening = (h).api.listen((h).path());                                                       \
        QVERIFY2(listening, qPrintable(listening ? QString() : listening.error().message));                \
    } while (false)

QByteArray frame(const QByteArray& payload)
{
    return *ipc::encodeFrame(payload);
}

/// Reads one frame from a raw socket within the timeout. The agent runs in this thread, so this
/// spins the event loop rather than blocking in waitForReadyRead().
std::optional<QByteArray> readFrame(QLocalSocket& socket, ipc::FrameDecoder& decoder, int timeoutMs = 5000)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (auto m = decoder.next())
            return m;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        if (socket.bytesAvailable() > 0)
            (void)decoder.feed(socket.readAll());
        else if (socket.state() == QLocalSocket::UnconnectedState)
            return decoder.next();
    }
    return std::nullopt;
}

bool waitClosed(QLocalSocket& socket, int timeoutMs = 5000)
{
    QElapsedTimer timer;
    timer.start();
    while (socket.state() != QLocalSocket::UnconnectedState && timer.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return socket.state() == QLocalSocket::UnconnectedState;
}
} // namespace

class TestLocalApiServer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void listensPrivately();
    void refusesSecondAgent();
    void statusOverClient();
    void badInputIsRejectedAndClosed_data();
    void badInputIsRejectedAndClosed();
    void invalidArgumentsAreAnsweredWithTheRequestId_data();
    void invalidArgumentsAreAnsweredWithTheRequestId();
    void malformedRequestWithAnIdGetsItBack();
    void stalledClientDoesNotBlockOthers();
    void nonReadingClientIsDropped();
    void refreshTokenNeverCrossesTheSocket();
    void otherUidIsRefused();
};

void TestLocalApiServer::initTestCase()
{
    std::signal(SIGPIPE, SIG_IGN);
}

void TestLocalApiServer::listensPrivately()
{
    Harness h;
    LISTEN(h);
    struct stat st{};
    QCOMPARE(::stat(QFile::encodeName(QFileInfo(h.path()).absolutePath()).constData(), &st), 0);
    QCOMPARE(st.st_mode & 0777, 0700u);
    QCOMPARE(::stat(QFile::encodeName(h.path()).constData(), &st), 0);
    QVERIFY(S_ISSOCK(st.st_mode));
    QCOMPARE(st.st_mode & 0077, 0u);
}

void TestLocalApiServer::refusesSecondAgent()
{
    Harness h;
    LISTEN(h);
    LocalApiServer second(h.service);
    auto r = second.listen(h.path());
    QVERIFY(!r);
    QCOMPARE(r.error().code, ErrorCode::Conflict);
    // The first one still answers.
    ipc::AgentClient client;
    auto connected = client.connectToAgent(h.path());
    QTRY_VERIFY(connected.isFinished());
    QVERIFY(connected.result());
    auto status = client.status();
    QTRY_VERIFY(status.isFinished());
    QVERIFY(status.result());
}

void TestLocalApiServer::statusOverClient()
{
    Harness h;
    h.service.start();
    LISTEN(h);
    ipc::AgentClient client;
    auto connected = client.connectToAgent(h.path());
    QTRY_VERIFY(connected.isFinished());
    QVERIFY(connected.result());
    auto status = client.status();
    QTRY_VERIFY(status.isFinished());
    QVERIFY(status.result());
    QCOMPARE(status.result()->signedIn, false);
    QCOMPARE(status.result()->state, QStringLiteral("signed-out"));
    QCOMPARE(status.result()->storage, QStringLiteral("fake"));
    auto token = client.token();
    QTRY_VERIFY(token.isFinished());
    QVERIFY(!token.result());
    QCOMPARE(token.result().error().code, ErrorCode::Unauthenticated);
}

void TestLocalApiServer::badInputIsRejectedAndClosed_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("error");
    QTest::newRow("oversize header") << QByteArray("\x00\x10\x00\x00", 4) << QStringLiteral("payload_too_large");
    QTest::newRow("4 GiB header") << QByteArray("\xff\xff\xff\xff", 4) << QStringLiteral("payload_too_large");
    QTest::newRow("zero length") << QByteArray("\x00\x00\x00\x00", 4) << QStringLiteral("invalid_request");
    QTest::newRow("not json") << frame("{\"type\":") << QStringLiteral("invalid_request");
    QTest::newRow("json array") << frame("[]") << QStringLiteral("invalid_request");
    QTest::newRow("unknown type") << frame(R"({"type":"dump-refresh-token","id":5})")
                                  << QStringLiteral("invalid_request");
    QTest::newRow("binary garbage") << frame(QByteArray("\x01\x02\xff\xfe", 4)) << QStringLiteral("invalid_request");
}

void TestLocalApiServer::badInputIsRejectedAndClosed()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, error);
    Harness h;
    h.service.start();
    LISTEN(h);

    ipc::AgentClient good;
    auto connected = good.connectToAgent(h.path());
    QTRY_VERIFY(connected.isFinished());
    QVERIFY(connected.result());
    QSignalSpy goodDropped(&good, &ipc::AgentClient::disconnected);

    QLocalSocket bad;
    bad.connectToServer(h.path());
    QVERIFY(bad.waitForConnected(2000));
    bad.write(bytes);
    ipc::FrameDecoder decoder;
    auto reply = readFrame(bad, decoder);
    QVERIFY2(reply, "the agent must answer a malformed message with an error");
    auto in = ipc::incomingFromPayload(*reply);
    QVERIFY(in);
    QVERIFY(in->error);
    QCOMPARE(QString::fromLatin1(errorCodeName(in->error->code).data()), error);
    QVERIFY2(waitClosed(bad), "the agent must close the connection after a malformed message");

    auto status = good.status();
    QTRY_VERIFY(status.isFinished());
    QVERIFY(status.result());
    QCOMPARE(goodDropped.count(), 0);
}

void TestLocalApiServer::invalidArgumentsAreAnsweredWithTheRequestId_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("empty password") << QByteArray(
                                           R"({"type":"login","id":7,"email":"a@example.org","password":""})")
                                    << QStringLiteral("password");
    QTest::newRow("min-valid too large") << QByteArray(R"({"type":"token","id":7,"minValidSeconds":86401})")
                                         << QStringLiteral("minValidSeconds");
    QTest::newRow("min-valid not a number")
        << QByteArray(R"({"type":"token","id":7,"minValidSeconds":"soon"})")
        << QStringLiteral("minValidSeconds");
}

void TestLocalApiServer::invalidArgumentsAreAnsweredWithTheRequestId()
{
    // Before: the reply carried id 0, so the client could not match it to its request and told its
    // caller "QLocalSocket: Remote closed" instead of the reason.
    QFETCH(QByteArray, request);
    QFETCH(QString, mentions);
    Harness h;
    h.service.start();
    LISTEN(h);
    QLocalSocket raw;
    raw.connectToServer(h.path());
    QVERIFY(raw.waitForConnected(2000));
    raw.write(frame(request));
    ipc::FrameDecoder decoder;
    auto reply = readFrame(raw, decoder);
    QVERIFY(reply);
    auto in = ipc::incomingFromPayload(*reply);
    QVERIFY(in);
    QCOMPARE(in->id, qint64(7));
    QVERIFY(in->error);
    QCOMPARE(in->error->code, ErrorCode::InvalidRequest);
    QVERIFY2(in->error->message.contains(mentions), qPrintable(in->error->message));
    // Only the arguments were wrong: the connection carries on.
    raw.write(frame(R"({"type":"status","id":8})"));
    auto next = readFrame(raw, decoder);
    QVERIFY2(next, "the connection must stay open after a request with invalid arguments");
    auto status = ipc::incomingFromPayload(*next);
    QVERIFY(status);
    QCOMPARE(status->id, qint64(8));
    QVERIFY(!status->error);

    // And through the client library the caller sees the reason, not a closed connection.
    ipc::AgentClient client;
    QVERIFY(await(client.connectToAgent(h.path())));
    ipc::Request bad;
    bad.type = ipc::RequestType::Login;
    bad.email = QStringLiteral("a@example.org");
    auto answer = client.request(bad); // empty password
    QTRY_VERIFY(answer.isFinished());
    QVERIFY(!answer.result());
    QCOMPARE(answer.result().error().code, ErrorCode::InvalidRequest);
    QVERIFY2(answer.result().error().message.contains(u"password"),
             qPrintable(answer.result().error().message));
}

void TestLocalApiServer::malformedRequestWithAnIdGetsItBack()
{
    Harness h;
    h.service.start();
    LISTEN(h);
    QLocalSocket raw;
    raw.connectToServer(h.path());
    QVERIFY(raw.waitForConnected(2000));
    raw.write(frame(R"({"type":"dump-refresh-token","id":12})"));
    ipc::FrameDecoder decoder;
    auto reply = readFrame(raw, decoder);
    QVERIFY(reply);
    auto in = ipc::incomingFromPayload(*reply);
    QVERIFY(in && in->error);
    QCOMPARE(in->id, qint64(12));
    QVERIFY(waitClosed(raw)); // an unknown request type still ends the connection
}

void TestLocalApiServer::stalledClientDoesNotBlockOthers()
{
    Harness h;
    h.service.start();
    LISTEN(h);
    QLocalSocket stalled;
    stalled.connectToServer(h.path());
    QVERIFY(stalled.waitForConnected(2000));
    // Half a header, then half a body: the agent must keep serving others meanwhile.
    stalled.write(QByteArray("\x00\x00", 2));
    stalled.flush();
    QByteArray partial = frame(R"({"type":"status","id":1})");
    stalled.write(partial.mid(2, 6));
    stalled.flush();

    for (int i = 0; i < 5; ++i) {
        ipc::AgentClient other;
        auto connected = other.connectToAgent(h.path());
        QTRY_VERIFY(connected.isFinished());
        QVERIFY(connected.result());
        QElapsedTimer t;
        t.start();
        auto status = other.status();
        QTRY_VERIFY(status.isFinished());
        QVERIFY(status.result());
        QVERIFY(t.elapsed() < 1000);
    }
    // The stalled client can still finish its message and get an answer.
    stalled.write(partial.mid(8));
    ipc::FrameDecoder decoder;
    auto reply = readFrame(stalled, decoder);
    QVERIFY(reply);
    auto in = ipc::incomingFromPayload(*reply);
    QVERIFY(in && !in->error && in->id == 1);
}

void TestLocalApiServer::nonReadingClientIsDropped()
{
    Harness h;
    h.service.start();
    LISTEN(h);
    ipc::AgentClient good;
    auto connected = good.connectToAgent(h.path());
    QTRY_VERIFY(connected.isFinished());
    QVERIFY(connected.result());

    // A raw client floods requests and never reads the replies.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    QVERIFY(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const QByteArray p = QFile::encodeName(h.path());
    std::memcpy(addr.sun_path, p.constData(), size_t(p.size()));
    QCOMPARE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const QByteArray request = frame(R"({"type":"status","id":1})");
    QByteArray burst;
    for (int i = 0; i < 200; ++i)
        burst += request;
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    bool dropped = false;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 20000 && !dropped) {
        const ssize_t n = ::send(fd, burst.constData(), size_t(burst.size()), MSG_NOSIGNAL);
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            dropped = true;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    }
    ::close(fd);
    QVERIFY2(dropped, "a client that never reads must be disconnected, not buffered forever");
    auto status = good.status();
    QTRY_VERIFY(status.isFinished());
    QVERIFY(status.result());
}

void TestLocalApiServer::refreshTokenNeverCrossesTheSocket()
{
    Harness h;
    h.store.stored = StoredAccount{QStringLiteral("http://127.0.0.1:1"), QStringLiteral("u1"),
                                   QStringLiteral("nurse@example.org"), QStringLiteral("s1"),
                                   QStringLiteral("RT-SECRET-VALUE")};
    h.service.start();
    LISTEN(h);
    // The refresh at start-up fails (nothing listens on port 1): the agent stays signed in,
    // offline, and retries with backoff.
    QTRY_COMPARE(h.service.state(), AgentService::State::Offline);
    QCOMPARE(h.scheduler.failedAttempts(), 1);

    QLocalSocket raw;
    raw.connectToServer(h.path());
    QVERIFY(raw.waitForConnected(2000));
    raw.write(frame(R"({"type":"subscribe","id":1})"));
    raw.write(frame(R"({"type":"status","id":2})"));
    raw.write(frame(R"({"type":"token","id":3})"));
    ipc::FrameDecoder decoder;
    QByteArray everything;
    for (int i = 0; i < 3; ++i) {
        auto m = readFrame(raw, decoder);
        QVERIFY(m);
        everything += *m;
    }
    QVERIFY(everything.contains("nurse@example.org"));
    QVERIFY(everything.contains("\"signedIn\":true"));
    QVERIFY(!everything.contains("RT-SECRET-VALUE"));
    QVERIFY(!everything.contains("refreshToken"));
}

void TestLocalApiServer::otherUidIsRefused()
{
    if (::geteuid() != 0)
        QSKIP("needs root to run a child as another user");
    Harness h;
    h.service.start();
    LISTEN(h);
    QSignalSpy rejected(&h.api, &LocalApiServer::peerRejected);
    const QByteArray path = QFile::encodeName(h.path());
    const QByteArray request = frame(R"({"type":"status","id":1})");

    // Outer layer: with the directory at 0700 another user cannot even reach the socket.
    // Inner layer (SO_PEERCRED): open the directory and the socket up, as a misconfiguration would.
    for (bool openUp : {false, true}) {
        if (openUp) {
            ::chmod(QFile::encodeName(h.dir.path()).constData(), 0755);
            ::chmod(QFile::encodeName(QFileInfo(h.path()).absolutePath()).constData(), 0755);
            ::chmod(path.constData(), 0666);
        }
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            // Only async-signal-safe calls from here on. Exit codes: 10 connect refused, 11 closed
            // without a reply, 20 got a reply (the failure), 30 setup failed.
            if (::setgid(65534) != 0 || ::setuid(65534) != 0)
                ::_exit(30);
            const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
            if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
                ::_exit(10);
            (void)!::send(fd, request.constData(), size_t(request.size()), MSG_NOSIGNAL);
            char buf[64];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            ::_exit(n > 0 ? 20 : 11);
        }
        int status = 0;
        pid_t reaped = 0;
        QElapsedTimer waited;
        waited.start();
        while (reaped != child && waited.elapsed() < 10000) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
            reaped = ::waitpid(child, &status, WNOHANG);
        }
        QCOMPARE(reaped, child);
        QVERIFY(WIFEXITED(status));
        if (!openUp) {
            QCOMPARE(WEXITSTATUS(status), 10);
        } else {
            QCOMPARE(WEXITSTATUS(status), 11);
            QTRY_COMPARE(rejected.count(), 1);
            QCOMPARE(rejected.at(0).at(0).toUInt(), 65534u);
        }
    }
    QCOMPARE(h.api.clientCount(), 0);
}

QTEST_GUILESS_MAIN(TestLocalApiServer)
#include "TestLocalApiServer.moc"
