// SPDX-License-Identifier: Apache-2.0
// The request path of the real server process: a worker keeps serving while CPU-heavy work
// (argon2id) runs on the hashing threads, and each request's log lines carry its own id even
// though one worker thread interleaves many requests.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"

#include <QElapsedTimer>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs::test;

class TestRequestPath : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
    }

    void aWorkerServesOthersWhilePasswordsAreChecked()
    {
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        server.setEnv(QStringLiteral("WORKER_THREADS"), QStringLiteral("1")); // everything on one event loop
        server.setEnv(QStringLiteral("LOG_FORMAT"), QStringLiteral("json"));
        server.setEnv(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("ehrs.server.http.debug=true"));
        QVERIFY(server.start());
        QVERIFY(
            server.addUser(QStringLiteral("nurse@example.org"), QStringLiteral("a long enough password")));
        const quint16 port = quint16(server.url().port());

        // Sixteen sign-ins pipelined on one connection (argon2id: tens of milliseconds of CPU
        // each, hundreds in all), then a health check on another connection. A worker that checks
        // passwords itself answers nothing else until all sixteen are done.
        constexpr int kLogins = 16;
        const QByteArray body = R"({"email":"nurse@example.org","password":"a long enough password"})";
        QByteArray burst;
        for (int i = 0; i < kLogins; ++i)
            burst += "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     "application/json\r\nX-Request-Id: login-" +
                     QByteArray::number(i) + "\r\nContent-Length: " + QByteArray::number(body.size()) +
                     "\r\n\r\n" + body;
        QTcpSocket logins;
        logins.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(logins.waitForConnected(2000));
        logins.write(burst);
        QVERIFY(logins.waitForBytesWritten(2000));
        QTest::qWait(5); // the worker has read them
        QTcpSocket health;
        health.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(health.waitForConnected(2000));
        health.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: health-1\r\n\r\n");
        health.flush();

        QByteArray healthReply;
        QByteArray loginReplies;
        int loginsAnsweredBeforeHealth = -1;
        QElapsedTimer t;
        t.start();
        while ((healthReply.isEmpty() || loginReplies.count("HTTP/1.1 ") < kLogins) && t.elapsed() < 30000) {
            QTest::qWait(1);
            loginReplies += logins.readAll();
            if (healthReply.isEmpty()) {
                healthReply += health.readAll();
                if (!healthReply.isEmpty())
                    loginsAnsweredBeforeHealth = int(loginReplies.count("HTTP/1.1 "));
            }
        }
        QVERIFY2(healthReply.startsWith("HTTP/1.1 200"), healthReply.constData());
        QCOMPARE(loginReplies.count("HTTP/1.1 200"), kLogins);
        QVERIFY2(loginsAnsweredBeforeHealth < kLogins,
                 qPrintable(QStringLiteral("the health check waited for all %1 sign-ins").arg(kLogins)));

        // Each access line carries the id of its own request, not of whatever the thread did last.
        QSet<QByteArray> loginIds;
        QByteArray healthId;
        QTRY_VERIFY(server.log().count("\"requestId\"") >= kLogins + 1);
        for (const QByteArray& line : server.log().split('\n')) {
            if (!line.startsWith('{'))
                continue;
            const auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
            if (!j.is_object() || !j.contains("message"))
                continue;
            const std::string message = j["message"];
            const QByteArray id = QByteArray::fromStdString(j.value("requestId", std::string()));
            if (message.rfind("POST /api/auth/login ", 0) == 0)
                loginIds.insert(id);
            else if (message.rfind("GET /healthz ", 0) == 0)
                healthId = id;
        }
        QCOMPARE(healthId, QByteArray("health-1"));
        QSet<QByteArray> expected;
        for (int i = 0; i < kLogins; ++i)
            expected.insert("login-" + QByteArray::number(i));
        QCOMPARE(loginIds, expected);
    }
};

QTEST_GUILESS_MAIN(TestRequestPath)
#include "TestRequestPath.moc"
