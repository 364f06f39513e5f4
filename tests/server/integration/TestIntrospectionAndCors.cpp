// SPDX-License-Identifier: Apache-2.0
// RFC 7662 introspection for other EHR services, and CORS for browser clients.
#include "InProcessServer.h"

#include <QTest>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

namespace {
const QByteArray kClientSecret = "billing-secret-0123456789";
const QByteArray kOrigin = "https://ehr.example.org";

QByteArray basic(const QByteArray& id, const QByteArray& secret)
{
    return "Basic " + (id + ':' + secret).toBase64();
}
} // namespace

class TestIntrospectionAndCors : public QObject
{
    Q_OBJECT

    InProcessServer m_server;

    ApiResponse introspect(const QByteArray& authorization, const QByteArray& form)
    {
        QByteArray request = "POST /api/sessions/introspect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                             QByteArray::number(form.size()) + "\r\n";
        if (!authorization.isEmpty())
            request += "Authorization: " + authorization + "\r\n";
        return m_server.api().raw(request + "\r\n" + form);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString skip;
        const bool ok = m_server.start(&skip, [](ServerConfig& c) {
            c.introspectionClients.insert(QStringLiteral("billing"), kClientSecret);
            c.corsOrigins << QString::fromLatin1(kOrigin);
        });
        if (!ok) {
            if (!skip.isEmpty() && !servicesRequired())
                QSKIP(qPrintable(skip));
            QFAIL("the server did not start");
        }
    }
    void cleanupTestCase() { m_server.stop(); }

    void introspectionNeedsServiceCredentials()
    {
        auto l = m_server.login(m_server.newUser());
        const QByteArray form = "token=" + l.access.toPercentEncoding() + "&token_type_hint=access_token";
        QCOMPARE(introspect({}, form).status, 401);
        QCOMPARE(introspect(basic("billing", "wrong-secret-0123456789"), form).status, 401);
        QCOMPARE(introspect(basic("nobody", kClientSecret), form).status, 401);
        // A user's own access token is not a service credential.
        QCOMPARE(introspect("Bearer " + l.access, form).status, 401);
    }

    void activeAndInactiveTokens()
    {
        auto l = m_server.login(m_server.newUser());
        auto r = introspect(basic("billing", kClientSecret), "token=" + l.access.toPercentEncoding());
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json["active"].get<bool>(), true);
        QCOMPARE(QString::fromStdString(r.str("sid")), l.sessionId);
        QCOMPARE(QString::fromStdString(r.str("sub")), l.userId);
        QVERIFY(r.json["exp"].get<qint64>() > QDateTime::currentSecsSinceEpoch());
        // The fields describe the token, not the caller: no client_id (tokens go to users' devices).
        QVERIFY2(!r.json.contains("client_id"), r.body.constData());
        QVERIFY(r.json["iat"].get<qint64>() <= r.json["exp"].get<qint64>());
        QVERIFY(!r.str("jti").empty());
        QCOMPARE(r.str("token_type"), std::string("Bearer"));
        // JSON bodies are accepted too.
        auto asJson = m_server.api().request("POST", "/api/sessions/introspect", {{"token", l.access.toStdString()}}, {},
                                             {{"Authorization", basic("billing", kClientSecret)}});
        QCOMPARE(asJson.json["active"].get<bool>(), true);

        QCOMPARE(m_server.api().request("POST", "/api/auth/logout", nullptr, l.access).status, 200);
        auto revoked = introspect(basic("billing", kClientSecret), "token=" + l.access.toPercentEncoding());
        QCOMPARE(revoked.status, 200);
        QVERIFY(revoked.json == nlohmann::json({{"active", false}})); // nothing else is disclosed
        auto garbage = introspect(basic("billing", kClientSecret), "token=not-a-token");
        QCOMPARE(garbage.json["active"].get<bool>(), false);
        QCOMPARE(introspect(basic("billing", kClientSecret), "nothing=here").status, 400);
    }

    void introspectionIsReadOnly()
    {
        auto l = m_server.login(m_server.newUser());
        auto pair = m_server.refresh(l.refresh);
        QCOMPARE(pair.status, 200);
        const QByteArray access = QByteArray::fromStdString(pair.str("accessToken"));
        const QString activity = QStringLiteral("SELECT last_activity_at FROM user_sessions WHERE id = ?");
        auto lastActivity = [&] {
            auto q = m_server.db().exec(activity, {l.sessionId});
            qint64 v = -1;
            if (q && (*q)->next())
                v = (*q)->value(0).toLongLong();
            if (q)
                (*q)->finish();
            return v;
        };
        const qint64 before = lastActivity();
        QVERIFY(before > 0);
        m_server.clock().advance(1500);
        for (int i = 0; i < 2; ++i) {
            auto r = introspect(basic("billing", kClientSecret), "token=" + access.toPercentEncoding());
            QCOMPARE(r.status, 200);
            QCOMPARE(r.json["active"].get<bool>(), true);
        }
        // No activity recorded...
        QCOMPARE(lastActivity(), before);
        // ...and the lost-response retry of the previous refresh token still answers with the pair:
        // introspection did not count as the new access token's first use.
        auto retry = m_server.refresh(l.refresh);
        QCOMPARE(retry.status, 200);
        QCOMPARE(retry.str("accessToken"), pair.str("accessToken"));
        QCOMPARE(
            m_server.count(
                QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'refresh_reuse_detected' "
                               "AND session_id = ?"),
                {l.sessionId}),
            0);
    }

    void corsOnlyForAllowedOrigins()
    {
        const QByteArray preflight = "OPTIONS /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: ";
        auto ok = m_server.api().raw(preflight + kOrigin +
                                     "\r\nAccess-Control-Request-Method: "
                                     "GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n");
        QCOMPARE(ok.status, 204);
        QCOMPARE(ok.header("access-control-allow-origin"), kOrigin);
        QVERIFY(ok.header("access-control-allow-headers").contains("Authorization"));
        auto evil = m_server.api().raw(preflight + "https://evil.example" + "\r\nAccess-Control-Request-Method: GET\r\n\r\n");
        QCOMPARE(evil.status, 403);
        QVERIFY(evil.header("access-control-allow-origin").isEmpty());

        auto l = m_server.login(m_server.newUser());
        auto allowed = m_server.api().request("GET", "/api/sessions", nullptr, l.access, {{"Origin", kOrigin}});
        QCOMPARE(allowed.status, 200);
        QCOMPARE(allowed.header("access-control-allow-origin"), kOrigin);
        QCOMPARE(allowed.header("vary"), QByteArray("Origin"));
        auto other = m_server.api().request("GET", "/api/sessions", nullptr, l.access, {{"Origin", "https://evil.example"}});
        QVERIFY(other.header("access-control-allow-origin").isEmpty());
        auto none = m_server.api().request("GET", "/api/sessions", nullptr, l.access);
        QVERIFY(none.header("access-control-allow-origin").isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestIntrospectionAndCors)
#include "TestIntrospectionAndCors.moc"
