// SPDX-License-Identifier: Apache-2.0
// The request path of the real server process: a worker keeps serving while CPU-heavy work
// (argon2id: sign-ins and every re-authentication) runs on the hashing threads, whose queue is
// bounded, and each request's log lines carry its own id even though one worker thread
// interleaves many requests.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"
#include "mfa/Totp.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <nlohmann/json.hpp>

using namespace ehrs::test;

namespace {
const QByteArray kPassword = "a long enough password";

/// One keep-alive request, for pipelining (ApiClient::build() asks the server to close).
QByteArray keepAliveRequest(const QByteArray& method, const QByteArray& path, const nlohmann::json& body,
                            const QByteArray& bearer)
{
    const QByteArray payload = body.is_null() ? QByteArray() : QByteArray::fromStdString(body.dump());
    QByteArray out = method + ' ' + path + " HTTP/1.1\r\nHost: x\r\n";
    if (!bearer.isEmpty())
        out += "Authorization: Bearer " + bearer + "\r\n";
    if (!payload.isEmpty())
        out += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(payload.size()) +
               "\r\n";
    return out + "\r\n" + payload;
}

/// Takes the complete responses off the front of `buffer` (answers of pipelined requests).
QList<ApiResponse> takeResponses(QByteArray& buffer)
{
    QList<ApiResponse> out;
    for (;;) {
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            break;
        const ApiResponse head = ApiClient::parse(buffer.left(end + 4));
        const qsizetype total = end + 4 + head.header("content-length").toLongLong();
        if (head.status == 0 || buffer.size() < total)
            break;
        out.append(ApiClient::parse(buffer.left(total)));
        buffer.remove(0, total);
    }
    return out;
}
} // namespace

class TestRequestPath : public QObject
{
    Q_OBJECT

    /// A server with one worker (every connection on one event loop) and `hashingThreads` hashing
    /// threads; limits high enough that the bursts below are not rate-limited.
    static bool startServer(ServerProcess& server, int hashingThreads, int hashingQueue = 64)
    {
        if (!server.useBackendUnderTest())
            return false;
        server.setEnv(QStringLiteral("WORKER_THREADS"), QStringLiteral("1"));
        server.setEnv(QStringLiteral("HASHING_THREADS"), QString::number(hashingThreads));
        server.setEnv(QStringLiteral("HASHING_QUEUE"), QString::number(hashingQueue));
        server.setEnv(QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("100000/60"));
        server.setEnv(QStringLiteral("RATE_LIMIT_MFA_ACCOUNT"), QStringLiteral("1000/300"));
        return server.start();
    }

    /// A new account signed in once: its access token.
    static QByteArray signedInUser(ServerProcess& server, const QString& email)
    {
        if (!server.addUser(email, QString::fromLatin1(kPassword)))
            return {};
        auto login = ApiClient(server.url())
                         .request("POST", "/api/auth/login",
                                  {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
        return QByteArray::fromStdString(login.str("accessToken"));
    }

    /// Turns 2FA on for the account behind `access`; returns one of its backup codes.
    static QString enrolMfa(ServerProcess& server, const QByteArray& access)
    {
        ApiClient api(server.url());
        auto setup =
            api.request("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, access);
        auto secret = ehrs::server::Totp::base32Decode(QString::fromStdString(setup.str("secret")));
        if (setup.status != 200 || !secret)
            return {};
        const QString code = ehrs::server::Totp::code(*secret, QDateTime::currentSecsSinceEpoch());
        auto enabled = api.request("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access);
        if (enabled.status != 200 || !enabled.json["backupCodes"].is_array())
            return {};
        return QString::fromStdString(enabled.json["backupCodes"][0].get<std::string>());
    }

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

    void reauthenticationsLeaveTheWorkerFree_data()
    {
        QTest::addColumn<QByteArray>("kind");
        QTest::newRow("sign out all other devices") << QByteArray("revoke-others");
        QTest::newRow("2FA setup") << QByteArray("mfa-setup");
        QTest::newRow("2FA disable") << QByteArray("mfa-disable");
        QTest::newRow("password change") << QByteArray("password-change"); // a check and a new hash
    }

    void reauthenticationsLeaveTheWorkerFree()
    {
        QFETCH(QByteArray, kind);
        ServerProcess server;
        QVERIFY(startServer(server, 1)); // one hashing thread: the checks below run one after another
        const quint16 port = quint16(server.url().port());

        // Each request checks a correct password again (argon2id, ~55 ms of CPU; a password change
        // also hashes the new one), each for its own account so that every one of them succeeds.
        constexpr int kRequests = 6;
        QByteArray burst;
        for (int i = 0; i < kRequests; ++i) {
            const QByteArray access = signedInUser(
                server, QStringLiteral("%1-%2@example.org").arg(QString::fromLatin1(kind)).arg(i));
            QVERIFY(!access.isEmpty());
            if (kind == "revoke-others") {
                burst += keepAliveRequest("DELETE", "/api/sessions", {{"password", kPassword.toStdString()}},
                                          access);
            } else if (kind == "mfa-setup") {
                burst += keepAliveRequest("POST", "/api/auth/mfa/setup",
                                          {{"password", kPassword.toStdString()}}, access);
            } else if (kind == "mfa-disable") {
                const QString backupCode = enrolMfa(server, access);
                QVERIFY(!backupCode.isEmpty());
                burst += keepAliveRequest(
                    "POST", "/api/auth/mfa/disable",
                    {{"password", kPassword.toStdString()}, {"code", backupCode.toStdString()}}, access);
            } else {
                burst += keepAliveRequest("POST", "/api/auth/password",
                                          {{"currentPassword", kPassword.toStdString()},
                                           {"newPassword", "another long enough password"}},
                                          access);
            }
        }

        // The cheap request's connection is open and served before the burst starts.
        QTcpSocket health;
        health.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(health.waitForConnected(5000));
        QByteArray healthBytes;
        QList<ApiResponse> healthAnswers;
        QList<ApiResponse> answers; // of the re-authentications
        int answeredBeforeHealth = -1;
        connect(&health, &QTcpSocket::readyRead, this, [&] {
            healthBytes += health.readAll();
            healthAnswers += takeResponses(healthBytes);
            if (healthAnswers.size() == 2 && answeredBeforeHealth < 0)
                answeredBeforeHealth = int(answers.size());
        });
        health.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(healthAnswers.size(), 1, 10000);

        // All re-authentications pipelined on one connection; once the first is answered, a health
        // check on the other. A worker that checks passwords itself runs the whole pipelined batch
        // before it looks at another connection, so the health check comes after all of them;
        // with the checks on the hashing thread it is answered while the rest wait there.
        QTcpSocket reauths;
        reauths.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(reauths.waitForConnected(5000));
        QByteArray reauthBytes;
        connect(&reauths, &QTcpSocket::readyRead, this, [&] {
            reauthBytes += reauths.readAll();
            const bool first = answers.isEmpty();
            answers += takeResponses(reauthBytes);
            if (first && !answers.isEmpty())
                health.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        });
        reauths.write(burst);
        QTRY_VERIFY_WITH_TIMEOUT(answers.size() == kRequests && healthAnswers.size() == 2, 30000);

        qInfo("health check answered after %d of %d re-authentications", answeredBeforeHealth, kRequests);
        QCOMPARE(healthAnswers.last().status, 200);
        for (const ApiResponse& a : answers)
            QVERIFY2(a.status == 200, a.body.constData());
        QVERIFY2(answeredBeforeHealth < kRequests,
                 qPrintable(
                     QStringLiteral("the health check waited for all %1 re-authentications").arg(kRequests)));
    }

    void aFullHashingQueueAnswers503()
    {
        ServerProcess server;
        QVERIFY(startServer(server, 1, 1)); // one check running, one waiting: room for two
        const QByteArray access = signedInUser(server, QStringLiteral("busy@example.org"));
        QVERIFY(!access.isEmpty());

        // Ten re-authentications at once: those that find the queue full are refused at once
        // (503 + Retry-After), not queued without bound. A worker that hashes itself takes all ten.
        constexpr int kRequests = 10;
        QByteArray burst;
        for (int i = 0; i < kRequests; ++i)
            burst +=
                keepAliveRequest("DELETE", "/api/sessions", {{"password", kPassword.toStdString()}}, access);
        QTcpSocket socket;
        socket.connectToHost(server.url().host(), quint16(server.url().port()));
        QVERIFY(socket.waitForConnected(5000));
        QByteArray bytes;
        QList<ApiResponse> answers;
        connect(&socket, &QTcpSocket::readyRead, this, [&] {
            bytes += socket.readAll();
            answers += takeResponses(bytes);
        });
        socket.write(burst);
        QTRY_COMPARE_WITH_TIMEOUT(answers.size(), kRequests, 30000);

        int refused = 0;
        for (const ApiResponse& a : answers) {
            if (a.status == 503) {
                ++refused;
                QVERIFY2(!a.header("retry-after").isEmpty(), a.body.constData());
                QVERIFY2(a.json.is_object() && a.json.contains("error") && a.json.contains("message"),
                         a.body.constData());
            } else {
                QVERIFY2(a.status == 200, a.body.constData());
            }
        }
        qInfo("%d of %d refused with 503", refused, kRequests);
        QCOMPARE(answers.first().status, 200);
        QVERIFY2(refused > 0, "a full hashing queue took more work instead of answering 503");

        // Once the queue has drained, the same request is served again.
        auto again = ApiClient(server.url())
                         .request("DELETE", "/api/sessions", {{"password", kPassword.toStdString()}}, access);
        QCOMPARE(again.status, 200);
    }
};

QTEST_GUILESS_MAIN(TestRequestPath)
#include "TestRequestPath.moc"
