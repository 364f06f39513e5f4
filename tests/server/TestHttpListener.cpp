// SPDX-License-Identifier: Apache-2.0
// The HTTP layer on its own: limits, timeouts, keep-alive, pipelining, routing errors.
#include "ApiClient.h"
#include "http/HttpListener.h"
#include "http/Router.h"

#include <QElapsedTimer>
#include <QThread>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <atomic>
#include <nlohmann/json.hpp>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

class TestHttpListener : public QObject
{
    Q_OBJECT

    Router m_router;
    // The listener runs in its own thread, as in the server, so the test can block on sockets.
    struct Server
    {
        QThread thread;
        QObject* context = new QObject; // lives in `thread`; used to run code there
        HttpListener* listener = nullptr;
        Server()
        {
            context->moveToThread(&thread);
            QObject::connect(&thread, &QThread::finished, context, &QObject::deleteLater);
        }
        ~Server()
        {
            QMetaObject::invokeMethod(context, [l = listener] { delete l; }, Qt::BlockingQueuedConnection);
            thread.quit();
            thread.wait();
        }
    };
    std::unique_ptr<Server> m_server;
    quint16 m_port = 0;
    std::atomic<int> m_handled{0};
    std::vector<Router::Respond> m_held; // answers of /hold, touched only in the server's thread

    /// Runs `f` in the server's thread and returns its result.
    template <typename F> auto inServer(F f)
    {
        decltype(f()) out{};
        QMetaObject::invokeMethod(
            m_server->context, [&] { out = f(); }, Qt::BlockingQueuedConnection);
        return out;
    }
    /// Answers every held /hold request (in the server's thread), oldest first.
    void releaseHeld()
    {
        inServer([this] {
            auto held = std::move(m_held);
            m_held.clear();
            int n = 0;
            for (auto& respond : held)
                respond(HttpResponse::json(200, {{"released", ++n}}));
            return n;
        });
    }
    /// Reads from a raw socket until `count` responses (status lines) have arrived or `ms` pass.
    static QByteArray readResponses(QTcpSocket& s, int count, int ms)
    {
        QByteArray got;
        QElapsedTimer t;
        t.start();
        while (got.count("HTTP/1.1 ") < count && t.elapsed() < ms) {
            s.waitForReadyRead(50);
            got += s.readAll();
        }
        return got;
    }

    void startListener(HttpLimits limits)
    {
        auto server = std::make_unique<Server>();
        server->thread.start();
        auto fd = createListeningSocket(QHostAddress::LocalHost, 0);
        QVERIFY(fd);
        m_port = boundPort(*fd);
        bool ok = false;
        Server* srv = server.get();
        QMetaObject::invokeMethod(
            srv->context,
            [this, srv, limits, fd = *fd] {
                srv->listener = new HttpListener(limits, [this](HttpRequest& r, HttpResponder responder) {
                    ++m_handled;
                    m_router.dispatch(
                        r, [responder](HttpResponse answer) { responder.send(std::move(answer)); });
                });
                return srv->listener->listen(fd).has_value();
            },
            Qt::BlockingQueuedConnection, &ok);
        QVERIFY(ok);
        m_server = std::move(server);
    }
    int connectionCount()
    {
        int n = 0;
        QMetaObject::invokeMethod(m_server->context, [this] { return m_server->listener->connectionCount(); },
                                  Qt::BlockingQueuedConnection, &n);
        return n;
    }
    /// For one test, a listener with other limits; the usual one is back when this goes out of
    /// scope, also when the test fails half-way.
    class OtherLimits
    {
    public:
        OtherLimits(TestHttpListener& test, HttpLimits limits)
            : m_test(test), m_saved(std::move(test.m_server)), m_savedPort(test.m_port)
        {
            test.startListener(limits);
        }
        ~OtherLimits()
        {
            m_test.m_server = std::move(m_saved);
            m_test.m_port = m_savedPort;
        }

    private:
        TestHttpListener& m_test;
        std::unique_ptr<Server> m_saved;
        quint16 m_savedPort;
    };
    ApiClient client() const { return ApiClient(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port))); }

    /// Reads from a raw socket until the peer closes or `ms` pass; returns what arrived.
    static QByteArray readUntilClosed(QTcpSocket& s, int ms)
    {
        QByteArray out;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms && s.state() == QAbstractSocket::ConnectedState) {
            s.waitForReadyRead(50);
            out += s.readAll();
        }
        out += s.readAll();
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_router.add("GET", "/hello", [](const HttpRequest&, const RouteParams&) {
            return HttpResponse::json(200, {{"hello", "world"}});
        });
        m_router.add("POST", "/echo", [](const HttpRequest& r, const RouteParams&) {
            return HttpResponse::json(200, {{"size", r.body.size()}});
        });
        m_router.add("DELETE", "/items/:id", [](const HttpRequest&, const RouteParams& p) {
            return HttpResponse::json(200, {{"id", p.value("id").toStdString()}});
        });
        // Answered after a delay, as a handler waiting for its database would be.
        m_router.addAsync(
            "GET", "/later/:ms", [](const HttpRequest&, const RouteParams& p, Router::Respond respond) {
                const int ms = p.value("ms").toInt();
                QTimer::singleShot(ms, [respond, ms] { respond(HttpResponse::json(200, {{"waited", ms}})); });
            });
        // Answered only when the test says so.
        m_router.addAsync("GET", "/hold",
                          [this](const HttpRequest&, const RouteParams&, Router::Respond respond) {
                              m_held.push_back(std::move(respond));
                          });
        m_router.add("GET", "/big", [](const HttpRequest&, const RouteParams&) {
            return HttpResponse::text(200, QByteArray(64 * 1024, 'b'));
        });
        HttpLimits limits;
        limits.maxBodyBytes = 64 * 1024;
        limits.requestTimeoutMs = 1500;
        limits.idleTimeoutMs = 1500;
        limits.maxConnections = 50;
        startListener(limits);
    }

    void routesAndParams()
    {
        auto r = client().request("DELETE", "/items/42");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json["id"].get<std::string>(), std::string("42"));
        QCOMPARE(client().request("GET", "/nothing").status, 404);
    }

    void wrongMethodIs405WithAllow()
    {
        auto r = client().request("PUT", "/hello");
        QCOMPARE(r.status, 405);
        QCOMPARE(r.header("allow"), QByteArray("GET"));
        QCOMPARE(r.str("error"), std::string("method_not_allowed"));
    }

    void hugeBodyIs413Quickly()
    {
        const int before = m_handled;
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        QElapsedTimer t;
        t.start();
        s.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n");
        // Keep sending: the server must answer without buffering the 10 MiB.
        const QByteArray chunk(64 * 1024, 'x');
        for (int i = 0; i < 8 && s.state() == QAbstractSocket::ConnectedState; ++i) {
            s.write(chunk);
            s.waitForBytesWritten(200);
        }
        const QByteArray reply = readUntilClosed(s, 5000);
        QVERIFY2(reply.startsWith("HTTP/1.1 413"), reply.left(100).constData());
        QVERIFY(reply.contains("payload_too_large"));
        QVERIFY(t.elapsed() < 3000);
        QCOMPARE(m_handled, before); // the handler never saw it
    }

    void chunkedBodyOverLimitIs413()
    {
        QByteArray request = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 3; ++i)
            request += "8000\r\n" + QByteArray(0x8000, 'y') + "\r\n";
        request += "0\r\n\r\n";
        QCOMPARE(client().raw(request).status, 413);
        QByteArray small = "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        auto ok = client().raw(small);
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.json["size"].get<int>(), 5);
    }

    void chunkTrailersAreNotHeaders()
    {
        m_router.add("GET", "/probe", [](const HttpRequest& r, const RouteParams&) {
            return HttpResponse::json(200, {{"auth", r.header("authorization").toStdString()}});
        });
        auto r = client().raw("GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\nAuthorization: Bearer smuggled\r\n\r\n");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json["auth"].get<std::string>(), std::string());
    }

    void malformedRequests_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("garbage") << QByteArray("\x16\x03\x01\x02\x00 hello\r\n\r\n") << 400;
        QTest::newRow("bad version") << QByteArray("GET /hello HTTP/9.9x\r\n\r\n") << 400;
        QTest::newRow("header without colon") << QByteArray("GET /hello HTTP/1.1\r\nHost x\r\n\r\n") << 400;
        QTest::newRow("huge header") << ("GET /hello HTTP/1.1\r\nX-Big: " + QByteArray(20000, 'h') + "\r\n\r\n") << 431;
        QByteArray many = "GET /hello HTTP/1.1\r\n";
        for (int i = 0; i < 150; ++i)
            many += "X-H" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("too many headers") << (many + "\r\n") << 431;
        QTest::newRow("long url") << ("GET /" + QByteArray(9000, 'u') + " HTTP/1.1\r\n\r\n") << 414;
    }

    void malformedRequests()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        auto r = client().raw(request, 5000);
        QCOMPARE(r.status, status);
        QVERIFY(r.json.is_object() && r.json.contains("error"));
        QCOMPARE(r.header("connection"), QByteArray("close"));
        // Even a request that never parsed gets an id, to find its log line.
        QVERIFY2(!r.header("x-request-id").isEmpty(), r.body.constData());
    }

    void upgradeIsIgnored()
    {
        // h2c / websocket upgrades are not supported: answered as plain HTTP/1.1, then closed.
        auto r = client().raw("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                              "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
                              5000);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("connection"), QByteArray("close"));
    }

    void slowClientIsDropped()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        QElapsedTimer t;
        t.start();
        const QByteArray request = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
        QByteArray reply;
        // One byte every 200 ms: each byte is progress, but the request deadline still applies.
        for (qsizetype i = 0; i < request.size() && s.state() == QAbstractSocket::ConnectedState; ++i) {
            s.write(request.mid(i, 1));
            s.waitForBytesWritten(100);
            s.waitForReadyRead(200);
            reply += s.readAll();
        }
        reply += readUntilClosed(s, 3000);
        QVERIFY2(reply.startsWith("HTTP/1.1 408"), reply.left(60).constData());
        QVERIFY(t.elapsed() < 4000);
    }

    void idleKeepAliveIsClosed()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        QElapsedTimer t;
        t.start();
        readUntilClosed(s, 5000);
        QCOMPARE(s.state(), QAbstractSocket::UnconnectedState);
        QVERIFY(t.elapsed() >= 1000);
    }

    void keepAliveAndPipelining()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        // Two requests in one write, answered in order on the same connection.
        s.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nDELETE /items/7 HTTP/1.1\r\nHost: x\r\n\r\n");
        QByteArray got;
        QElapsedTimer t;
        t.start();
        while (got.count("HTTP/1.1 200") < 2 && t.elapsed() < 3000) {
            s.waitForReadyRead(100);
            got += s.readAll();
        }
        QCOMPARE(got.count("HTTP/1.1 200"), 2);
        QVERIFY(got.indexOf("world") < got.indexOf("\"7\""));
        QCOMPARE(s.state(), QAbstractSocket::ConnectedState);
        // Connection: close is honoured.
        s.write("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        const QByteArray last = readUntilClosed(s, 3000);
        QVERIFY(last.contains("Connection: close"));
        QCOMPARE(s.state(), QAbstractSocket::UnconnectedState);
    }

    void asyncAnswersKeepRequestOrder()
    {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        // The first answer is ready last: the others wait for it, then all leave in request order.
        s.write("GET /later/300 HTTP/1.1\r\nHost: x\r\n\r\nGET /later/10 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        const QByteArray got = readResponses(s, 3, 5000);
        QCOMPARE(got.count("HTTP/1.1 200"), 3);
        const qsizetype first = got.indexOf("\"waited\":300");
        const qsizetype second = got.indexOf("\"waited\":10}");
        const qsizetype third = got.indexOf("world");
        QVERIFY2(first >= 0 && first < second && second < third, got.constData());
        QCOMPARE(s.state(), QAbstractSocket::ConnectedState);
    }

    void unansweredRequestsAreBounded()
    {
        HttpLimits limits;
        limits.maxPipelined = 8;
        OtherLimits other(*this, limits);
        const int before = m_handled;
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        QByteArray burst;
        for (int i = 0; i < 1000; ++i)
            burst += "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n";
        s.write(burst);
        s.waitForBytesWritten(2000);
        // The connection stops reading at the bound: the other 992 wait in the socket.
        QTRY_COMPARE(m_handled - before, 8);
        QTest::qWait(300);
        QCOMPARE(m_handled - before, 8);
        QCOMPARE(inServer([this] { return int(m_held.size()); }), 8);
        // Answers free the slots: reading resumes, never holding more than the bound.
        QByteArray got;
        QElapsedTimer t;
        t.start();
        while (got.count("HTTP/1.1 200") < 1000 && t.elapsed() < 20000) {
            QVERIFY(inServer([this] { return int(m_held.size()); }) <= 8);
            releaseHeld();
            s.waitForReadyRead(20);
            got += s.readAll();
        }
        QCOMPARE(got.count("HTTP/1.1 200"), 1000);
        QCOMPARE(m_handled - before, 1000);
    }

    void clientThatDoesNotReadIsDropped()
    {
        HttpLimits limits;
        limits.idleTimeoutMs = 1000;
        OtherLimits other(*this, limits);
        const int before = m_handled;
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(s.waitForConnected(2000));
        s.setReadBufferSize(1); // this client does not read what it asked for
        QByteArray burst;
        for (int i = 0; i < 2000; ++i)
            burst += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
        s.write(burst);
        s.flush();
        QTRY_VERIFY(m_handled - before > 0);
        // 2000 answers of 64 KiB are 128 MiB; what the server produces is bounded by the socket
        // buffers, and the stalled connection is closed after the idle timeout.
        QTRY_COMPARE_WITH_TIMEOUT(connectionCount(), 0, 10000);
        QVERIFY2(m_handled - before < 1000, QByteArray::number(m_handled - before).constData());
    }

    void connectionsPerClientAreCapped()
    {
        HttpLimits limits;
        limits.maxConnectionsPerClient = 3;
        OtherLimits other(*this, limits);
        QTcpSocket a, b, c, d;
        for (QTcpSocket* s : {&a, &b, &c}) {
            s->connectToHost(QHostAddress::LocalHost, m_port);
            QVERIFY(s->waitForConnected(2000));
        }
        QTRY_COMPARE(connectionCount(), 3);
        d.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(d.waitForConnected(2000));
        const QByteArray reply = readUntilClosed(d, 3000);
        QVERIFY2(reply.startsWith("HTTP/1.1 429"), reply.constData());
        QVERIFY(reply.contains("Retry-After: 5"));
        // A closed connection gives its slot back.
        a.disconnectFromHost();
        QTRY_COMPARE(connectionCount(), 2);
        QTcpSocket e;
        e.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(e.waitForConnected(2000));
        QTRY_COMPARE(connectionCount(), 3);
    }

    void connectionLimit()
    {
        HttpLimits limits;
        limits.maxConnections = 2;
        OtherLimits other(*this, limits);
        QTcpSocket a, b, c;
        for (QTcpSocket* s : {&a, &b}) {
            s->connectToHost(QHostAddress::LocalHost, m_port);
            QVERIFY(s->waitForConnected(2000));
        }
        QTRY_COMPARE(connectionCount(), 2);
        c.connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(c.waitForConnected(2000));
        const QByteArray reply = readUntilClosed(c, 3000);
        QVERIFY2(reply.startsWith("HTTP/1.1 503"), reply.constData());
        QVERIFY(reply.contains("Retry-After"));
    }
};

QTEST_GUILESS_MAIN(TestHttpListener)
#include "TestHttpListener.moc"
