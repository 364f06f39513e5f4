// SPDX-License-Identifier: Apache-2.0
// PostgreSQL stopped under a running server: requests that need it get 503 + Retry-After, token
// validation keeps working, and everything recovers by itself, with nothing lost, when it returns.
#include "InProcessServer.h"

#include <QElapsedTimer>
#include <QTest>

#include <unistd.h>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

class TestDatabaseOutage : public QObject
{
    Q_OBJECT

    PostgresProcess m_postgres;
    InProcessServer m_server;

private Q_SLOTS:
    void initTestCase()
    {
        if (!m_server.postgres())
            QSKIP("the embedded SQLite default has no database server to lose");
        if (::geteuid() != 0)
            QSKIP("a private PostgreSQL cluster needs root (to run as the postgres user)");
        QVERIFY(m_postgres.start());
        QString skip;
        QVERIFY(m_server.start(&skip, [this](ServerConfig& c) {
            c.databaseUrl = m_postgres.url();
            c.introspectionClients.insert(QStringLiteral("svc"), "service-secret-0123456789");
        }));
    }
    void cleanupTestCase() { m_server.stop(); }

    void databaseDownThenBack()
    {
        const QString email = m_server.newUser();
        auto before = m_server.login(email);
        QCOMPARE(m_server.listStatus(before.access), 200);
        auto rotated = m_server.refresh(before.refresh);
        QCOMPARE(rotated.status, 200);
        const QByteArray access = QByteArray::fromStdString(rotated.str("accessToken"));
        const QByteArray refresh = QByteArray::fromStdString(rotated.str("refreshToken"));
        QCOMPARE(m_server.listStatus(access), 200); // known live on both tiers now
        const QByteArray basic = "Basic " + QByteArray("svc:service-secret-0123456789").toBase64();

        QVERIFY(m_postgres.stop());
        // Requests that need the database: 503 with Retry-After, quickly, never 500 or a hang.
        QElapsedTimer t;
        t.start();
        auto list = m_server.api().request("GET", "/api/sessions", nullptr, access);
        QCOMPARE(list.status, 503);
        QVERIFY(list.header("retry-after").toInt() >= 1);
        QCOMPARE(list.str("error"), std::string("unavailable"));
        auto login = m_server.api().request("POST", "/api/auth/login",
                                            {{"email", email.toStdString()}, {"password", InProcessServer::kPassword.toStdString()}});
        QCOMPARE(login.status, 503);
        QCOMPARE(m_server.api().request("GET", "/readyz").status, 503);
        QVERIFY(t.elapsed() < 10000);
        // Validation keeps working: another service asks whether the token is live.
        for (int i = 0; i < 4; ++i) {
            auto introspection = m_server.api().request("POST", "/api/sessions/introspect", {{"token", access.toStdString()}}, {},
                                                        {{"Authorization", basic}});
            QCOMPARE(introspection.status, 200);
            QCOMPARE(introspection.json["active"].get<bool>(), true);
        }

        QVERIFY(m_postgres.start());
        // Back without restarting the server; what the user saw succeed is still there.
        QTRY_COMPARE_WITH_TIMEOUT(m_server.listStatus(access), 200, 10000);
        QCOMPARE(m_server.listStatus(access), 200);
        auto again = m_server.refresh(refresh);
        QCOMPARE(again.status, 200);
        QVERIFY(!m_server.login(email).access.isEmpty());
        QCOMPARE(m_server.api().request("GET", "/readyz").status, 200);
    }
};

QTEST_GUILESS_MAIN(TestDatabaseOutage)
#include "TestDatabaseOutage.moc"
