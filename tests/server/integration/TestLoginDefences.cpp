// SPDX-License-Identifier: Apache-2.0
// Against a real server process behind a (pretend) trusted proxy: the client address comes from
// the whole forwarding chain, not a line the client wrote; other clients' failures do not lock
// out a device that signed in before; IPv6 clients share a /64 budget; unknown emails are not
// kept in the audit.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"
#include "db/Database.h"

#include <QRandomGenerator>
#include <QTest>
#include <QUuid>

using namespace ehrs::test;
using ehrs::server::Database;

namespace {
const QByteArray kPassword = "a long enough password";
using Headers = QList<QPair<QByteArray, QByteArray>>;

// Rate-limit counters live in the shared Redis across runs: every run uses its own accounts and
// client addresses.
const QByteArray kNet = "10." + QByteArray::number(QRandomGenerator::global()->bounded(1, 255)) + '.' +
                        QByteArray::number(QRandomGenerator::global()->bounded(0, 256)) + '.';
const QByteArray kNet6 =
    "2001:db8:" + QByteArray::number(QRandomGenerator::global()->bounded(1, 0xffff), 16) + ':';

QByteArray ip(int host)
{
    return kNet + QByteArray::number(host);
}

QString email(const char* name)
{
    static const QString run = QUuid::createUuid().toString(QUuid::Id128).left(8);
    return QStringLiteral("%1-%2@example.org").arg(QLatin1String(name), run);
}
} // namespace

class TestLoginDefences : public QObject
{
    Q_OBJECT

    bool postgres() const { return ServerProcess::onPostgres(); }

    /// A server on the backend under test that believes X-Forwarded-For from 127.0.0.1 (the test
    /// plays the proxy); `dbUrl` receives the database to look at rows.
    bool configure(ServerProcess& server, QString* dbUrl)
    {
        server.setEnv(QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("127.0.0.1/32"));
        if (!server.useBackendUnderTest())
            return false;
        *dbUrl = server.databaseUrl();
        return true;
    }

    static ApiResponse login(ServerProcess& server, const QString& email, const QByteArray& password,
                             const Headers& headers, const QString& deviceCredential = {})
    {
        nlohmann::json body{{"email", email.toStdString()}, {"password", password.toStdString()}};
        if (!deviceCredential.isEmpty())
            body["deviceCredential"] = deviceCredential.toStdString();
        return ApiClient(server.url()).request("POST", "/api/auth/login", body, {}, headers);
    }

    static Headers from(const QByteArray& address) { return {{"X-Forwarded-For", address}}; }

    /// The session list's view of where the caller's only session came from.
    static std::string sessionAddress(ServerProcess& server, const ApiResponse& loggedIn)
    {
        auto list = ApiClient(server.url())
                        .request("GET", "/api/sessions", nullptr,
                                 QByteArray::fromStdString(loggedIn.str("accessToken")));
        if (list.status != 200 || list.json["sessions"].size() != 1)
            return "?";
        return list.json["sessions"][0]["ipAddress"].get<std::string>();
    }

    /// Every audit row as one string (event, address and details), for content checks.
    static QStringList auditRows(const QString& dbUrl)
    {
        auto db = Database::open(dbUrl);
        if (!db)
            return {QStringLiteral("cannot open %1").arg(dbUrl)};
        auto q = (*db)->exec(
            QStringLiteral("SELECT event, COALESCE(ip_address, ''), COALESCE(CAST(details AS TEXT), '') "
                           "FROM audit_events ORDER BY id"));
        if (!q)
            return {q.error().message};
        QStringList rows;
        while ((*q)->next())
            rows << (*q)->value(0).toString() + u' ' + (*q)->value(1).toString() + u' ' +
                        (*q)->value(2).toString();
        (*q)->finish();
        return rows;
    }

private Q_SLOTS:
    void initTestCase()
    {
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
    }

    void forgedForwardedForLineDoesNotChooseTheAddress()
    {
        ServerProcess server;
        QString dbUrl;
        QVERIFY(configure(server, &dbUrl));
        server.setEnv(QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("3/600"));
        QVERIFY(server.addUser(email("xff"), QString::fromLatin1(kPassword)));
        QVERIFY(server.start());

        // The client's own line first, the proxy's (which appends the real peer) after it.
        auto forged = [](int i) {
            return Headers{{"X-Forwarded-For", "198.51.100." + QByteArray::number(i)},
                           {"X-Forwarded-For", ip(9)}};
        };
        auto first = login(server, email("xff"), kPassword, forged(1));
        QCOMPARE(first.status, 200);
        QCOMPARE(sessionAddress(server, first), ip(9).toStdString());
        bool audited = false;
        for (const QString& row : auditRows(dbUrl)) {
            QVERIFY2(!row.contains(u"198.51.100."), qPrintable(row));
            audited =
                audited || (row.startsWith(u"login_success") && row.contains(QString::fromLatin1(ip(9))));
        }
        QVERIFY(audited);

        // A new forged address per attempt does not buy a new per-address budget.
        QCOMPARE(login(server, email("xff"), kPassword, forged(2)).status, 200);
        QCOMPARE(login(server, email("xff"), kPassword, forged(3)).status, 200);
        auto limited = login(server, email("xff"), kPassword, forged(4));
        QCOMPARE(limited.status, 429);
        QVERIFY(!limited.header("retry-after").isEmpty());
        // One comma-joined line means the same as the two lines.
        QCOMPARE(login(server, email("xff"), kPassword, from("198.51.100.5, " + ip(9))).status, 429);
        QCOMPARE(login(server, email("xff"), kPassword, from("198.51.100.5, " + ip(10))).status, 200);
    }

    void forwardedHeaderWhenConfigured()
    {
        ServerProcess server;
        QString dbUrl;
        QVERIFY(configure(server, &dbUrl));
        server.setEnv(QStringLiteral("TRUSTED_PROXY_HEADER"), QStringLiteral("Forwarded"));
        QVERIFY(server.addUser(email("fwd"), QString::fromLatin1(kPassword)));
        QVERIFY(server.start());
        const Headers headers{{"Forwarded", "for=198.51.100.66;proto=https"},
                              {"Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=127.0.0.1"},
                              {"X-Forwarded-For", "192.0.2.99"}}; // not the configured header: ignored
        auto r = login(server, email("fwd"), kPassword, headers);
        QCOMPARE(r.status, 200);
        QCOMPARE(sessionAddress(server, r), std::string("2001:db8:cafe::17"));
    }

    void deviceCredentialSignsInDespiteLockout()
    {
        ServerProcess server;
        QString dbUrl;
        QVERIFY(configure(server, &dbUrl));
        server.setEnv(QStringLiteral("RATE_LIMIT_LOGIN_ACCOUNT"), QStringLiteral("10/900"));
        server.setEnv(QStringLiteral("DEVICE_CREDENTIAL_MAX_FAILURES"), QStringLiteral("3"));
        const QString nurse = email("nurse");
        const QString other = email("other");
        QVERIFY(server.addUser(nurse, QString::fromLatin1(kPassword)));
        QVERIFY(server.addUser(other, QString::fromLatin1(kPassword)));
        QVERIFY(server.start());

        // The clinician's agent signed in before and kept its device credential.
        auto earlier = login(server, nurse, kPassword, from(ip(10)));
        QCOMPARE(earlier.status, 200);
        const QString credential = QString::fromStdString(earlier.str("deviceCredential"));
        QVERIFY2(credential.size() >= 22, earlier.body.constData()); // at least 128 bits, base64url
        auto otherLogin = login(server, other, kPassword, from(ip(11)));
        const QString otherCredential = QString::fromStdString(otherLogin.str("deviceCredential"));
        QVERIFY(!otherCredential.isEmpty() && otherCredential != credential);

        // Someone guesses from twelve addresses until the account is locked for unknown clients.
        int locked = 0;
        for (int i = 1; i <= 12; ++i) {
            const int status =
                login(server, nurse, "wrong password " + QByteArray::number(i), from(ip(100 + i))).status;
            QVERIFY2(status == 401 || status == 429, QByteArray::number(status).constData());
            locked += status == 429;
        }
        QVERIFY(locked >= 1);
        // An unknown client is still slowed, even with the right password...
        auto unknown = login(server, nurse, kPassword, from(ip(150)));
        QCOMPARE(unknown.status, 429);
        QVERIFY(!unknown.header("retry-after").isEmpty());
        // ...and so is one presenting another account's credential, or a made-up one.
        QCOMPARE(login(server, nurse, kPassword, from(ip(151)), otherCredential).status, 429);
        QCOMPARE(login(server, nurse, kPassword, from(ip(151)), QStringLiteral("made-up-credential")).status,
                 429);
        // The clinician's device is not locked out, from any address.
        auto mine = login(server, nurse, kPassword, from(ip(200)), credential);
        QCOMPARE(mine.status, 200);
        QCOMPARE(QString::fromStdString(mine.str("deviceCredential")), credential); // renewed, same value

        // A stolen credential buys only its own small budget: three failures revoke it.
        for (int i = 0; i < 3; ++i)
            QCOMPARE(login(server, nurse, "still guessing", from(ip(160)), credential).status, 401);
        QCOMPARE(login(server, nurse, kPassword, from(ip(200)), credential).status, 429);
        bool revokedAudited = false;
        for (const QString& row : auditRows(dbUrl))
            revokedAudited = revokedAudited || row.startsWith(u"device_credential_revoked");
        QVERIFY(revokedAudited);
    }

    void ipv6ClientsOfOneSlash64ShareABudget()
    {
        ServerProcess server;
        QString dbUrl;
        QVERIFY(configure(server, &dbUrl));
        server.setEnv(QStringLiteral("RATE_LIMIT_LOGIN_IP"), QStringLiteral("3/600"));
        QVERIFY(server.start());
        // Unknown emails: only the per-address limit is in play.
        auto attempt = [&](int i, const QByteArray& address) {
            return login(server, email("nobody") + QString::number(i), kPassword, from(address)).status;
        };
        QCOMPARE(attempt(1, kNet6 + "2::1"), 401);
        QCOMPARE(attempt(2, kNet6 + "2::2"), 401);
        QCOMPARE(attempt(3, kNet6 + "2:aaaa:bbbb:cccc:dddd"), 401);
        QCOMPARE(attempt(4, kNet6 + "2:ffff::9"), 429); // same /64, new address: same bucket
        QCOMPARE(attempt(5, kNet6 + "3::1"), 401);      // the next /64 has its own
        // IPv4: per address.
        for (int i = 0; i < 3; ++i)
            QCOMPARE(attempt(6 + i, ip(1)), 401);
        QCOMPARE(attempt(9, ip(1)), 429);
        QCOMPARE(attempt(10, ip(2)), 401);
    }

    void unknownEmailIsNotKeptInTheAudit()
    {
        ServerProcess server;
        QString dbUrl;
        QVERIFY(configure(server, &dbUrl));
        QVERIFY(server.start());
        // A password typed into the email box.
        const QString typed = QStringLiteral("Correct-Horse-Battery-Staple-") + email("x").mid(2, 8);
        QCOMPARE(login(server, typed, kPassword, from(ip(5))).status, 401);
        QCOMPARE(login(server, typed, kPassword, from(ip(5))).status, 401);
        const QStringList rows = auditRows(dbUrl);
        QStringList failures;
        for (const QString& row : rows) {
            QVERIFY2(!row.contains(u"horse", Qt::CaseInsensitive), qPrintable(row));
            if (row.startsWith(u"login_failure"))
                failures << row;
        }
        QCOMPARE(failures.size(), 2);
        QVERIFY2(failures[0].contains(u"unknown_email") && failures[0].contains(u"hmac-sha256:"),
                 qPrintable(failures[0]));
        QCOMPARE(failures[0], failures[1]); // the same text gives the same pseudonym: repeats stay visible
    }
};

QTEST_GUILESS_MAIN(TestLoginDefences)
#include "TestLoginDefences.moc"
