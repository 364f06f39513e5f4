// SPDX-License-Identifier: Apache-2.0
// TOTP enrolment, two-step login, backup codes, disabling, password change: over HTTP against the
// in-process server (PostgreSQL + Redis, or the embedded SQLite default).
#include "InProcessServer.h"
#include "mfa/Totp.h"

#include <QTest>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;
using Json = nlohmann::json;

class TestMfaApi : public QObject
{
    Q_OBJECT

    InProcessServer m_server;

    QByteArray b(const std::string& s) { return QByteArray::fromStdString(s); }
    ApiClient& api() { return m_server.api(); }
    QByteArray password() const { return InProcessServer::kPassword; }

    /// The TOTP code for the server's (offset) clock, `steps` periods from now.
    QString codeFor(const QByteArray& secret, int steps = 0)
    {
        return Totp::code(secret, m_server.clock().nowSeconds() + steps * 30);
    }

    struct Enrolled
    {
        QString email;
        QByteArray secret;
        QStringList backupCodes;
        InProcessServer::Login session;
    };

    Enrolled enrol()
    {
        Enrolled e;
        e.email = m_server.newUser();
        e.session = m_server.login(e.email);
        auto setup = api().request("POST", "/api/auth/mfa/setup", nullptr, e.session.access);
        if (setup.status != 200)
            qWarning("setup failed: %s", setup.body.constData());
        e.secret = *Totp::base32Decode(QString::fromStdString(setup.str("secret")));
        auto enabled = api().request("POST", "/api/auth/mfa/enable", {{"code", codeFor(e.secret).toStdString()}}, e.session.access);
        if (enabled.status != 200)
            qWarning("enable failed: %s", enabled.body.constData());
        for (const auto& c : enabled.json["backupCodes"])
            e.backupCodes << QString::fromStdString(c.get<std::string>());
        return e;
    }

    /// Step 1 of a login for an enrolled user: the mfaToken.
    QByteArray challenge(const QString& email)
    {
        auto r = m_server.login(email).response;
        return b(r.str("mfaToken"));
    }

    ApiResponse verify(const QByteArray& mfaToken, const QString& code)
    {
        return api().request("POST", "/api/auth/verify-mfa", {{"mfaToken", mfaToken.toStdString()}, {"code", code.toStdString()}});
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString skip;
        if (!m_server.start(&skip)) {
            if (!skip.isEmpty() && !servicesRequired())
                QSKIP(qPrintable(skip));
            QFAIL(qPrintable(skip.isEmpty() ? QStringLiteral("the server did not start") : skip));
        }
    }
    void cleanupTestCase() { m_server.stop(); }
    void init() { m_server.clock().reset(); }

    void enrolmentNeedsAValidCode()
    {
        const QString email = m_server.newUser();
        auto l = m_server.login(email);
        auto me = api().request("GET", "/api/auth/me", nullptr, l.access);
        QCOMPARE(me.status, 200);
        QCOMPARE(me.json["user"]["mfaEnabled"].get<bool>(), false);
        auto setup = api().request("POST", "/api/auth/mfa/setup", nullptr, l.access);
        QCOMPARE(setup.status, 200);
        const QString uri = QString::fromStdString(setup.str("otpauthUri"));
        QVERIFY2(uri.startsWith(u"otpauth://totp/") && uri.contains(QStringLiteral("secret=") + QString::fromStdString(setup.str("secret"))),
                 qPrintable(uri));
        const QByteArray secret = *Totp::base32Decode(QString::fromStdString(setup.str("secret")));
        QCOMPARE(api().request("POST", "/api/auth/mfa/enable", {{"code", "000000"}}, l.access).status, 400);
        QCOMPARE(api().request("GET", "/api/auth/me", nullptr, l.access).json["user"]["mfaEnabled"].get<bool>(), false);
        auto enabled = api().request("POST", "/api/auth/mfa/enable", {{"code", codeFor(secret).toStdString()}}, l.access);
        QCOMPARE(enabled.status, 200);
        QCOMPARE(enabled.json["backupCodes"].size(), size_t(10));
        me = api().request("GET", "/api/auth/me", nullptr, l.access);
        QCOMPARE(me.json["user"]["mfaEnabled"].get<bool>(), true);
        QCOMPARE(me.json["backupCodesRemaining"].get<int>(), 10);
        QCOMPARE(api().request("POST", "/api/auth/mfa/setup", nullptr, l.access).status, 409);
        // The secret is stored sealed, never in the clear.
        auto q = m_server.db().exec(QStringLiteral("SELECT totp_secret_enc FROM users WHERE email = ?"), {email});
        QVERIFY(q && (*q)->next());
        const QString stored = (*q)->value(0).toString();
        (*q)->finish();
        QVERIFY(stored.startsWith(u"v1."));
        QVERIFY(!stored.contains(QString::fromStdString(setup.str("secret"))));
    }

    void loginNeedsSecondFactor()
    {
        Enrolled e = enrol();
        auto step1 = m_server.login(e.email).response;
        QCOMPARE(step1.status, 200);
        QCOMPARE(step1.json["requiresMFA"].get<bool>(), true);
        QVERIFY(!step1.json.contains("accessToken"));
        QVERIFY(!step1.str("mfaToken").empty());
        const QByteArray token = b(step1.str("mfaToken"));
        QCOMPARE(verify(token, QStringLiteral("123456")).status, 401);
        m_server.clock().advance(30'000); // a code the enrolment did not use
        auto ok = verify(token, codeFor(e.secret));
        QCOMPARE(ok.status, 200);
        QVERIFY(!ok.str("accessToken").empty());
        QCOMPARE(m_server.listStatus(b(ok.str("accessToken"))), 200);
        // The same code cannot sign in twice (replay), even with a fresh challenge.
        QCOMPARE(verify(challenge(e.email), codeFor(e.secret)).status, 401);
        // Nor can the same challenge be completed twice.
        m_server.clock().advance(30'000);
        QCOMPARE(verify(token, codeFor(e.secret)).status, 401);
    }

    void backupCodesAreSingleUse()
    {
        Enrolled e = enrol();
        const QString code = e.backupCodes.first();
        auto ok = verify(challenge(e.email), code.toUpper().replace(u'-', u' '));
        QCOMPARE(ok.status, 200);
        QCOMPARE(verify(challenge(e.email), code).status, 401);
        auto me = api().request("GET", "/api/auth/me", nullptr, b(ok.str("accessToken")));
        QCOMPARE(me.json["backupCodesRemaining"].get<int>(), 9);
    }

    void challengeTokensAreChecked()
    {
        Enrolled e = enrol();
        QByteArray token = challenge(e.email);
        QByteArray tampered = token;
        tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
        m_server.clock().advance(30'000);
        QCOMPARE(verify(tampered, codeFor(e.secret)).status, 401);
        QCOMPARE(verify("garbage", codeFor(e.secret)).status, 401);
        m_server.clock().advance(301'000); // expired
        QCOMPARE(verify(token, codeFor(e.secret)).status, 401);
        QCOMPARE(api().request("POST", "/api/auth/verify-mfa", {{"mfaToken", 5}}).status, 400);
    }

    void wrongCodesAreRateLimited()
    {
        Enrolled e = enrol();
        const QByteArray token = challenge(e.email);
        int status = 0;
        for (int i = 0; i < 6; ++i)
            status = verify(token, QStringLiteral("000000")).status;
        QCOMPARE(status, 429);
        m_server.clock().advance(30'000);
        QCOMPARE(verify(token, codeFor(e.secret)).status, 429); // even the right code, until the window passes
    }

    void disableNeedsPasswordAndCode()
    {
        Enrolled e = enrol();
        m_server.clock().advance(30'000);
        auto wrongPassword = api().request("POST", "/api/auth/mfa/disable",
                                           {{"password", "not my password"}, {"code", codeFor(e.secret).toStdString()}}, e.session.access);
        QCOMPARE(wrongPassword.status, 403);
        auto wrongCode = api().request("POST", "/api/auth/mfa/disable", {{"password", password().toStdString()}, {"code", "000000"}},
                                       e.session.access);
        QCOMPARE(wrongCode.status, 403);
        QCOMPARE(api().request("GET", "/api/auth/me", nullptr, e.session.access).json["user"]["mfaEnabled"].get<bool>(), true);
        auto ok = api().request("POST", "/api/auth/mfa/disable",
                                {{"password", password().toStdString()}, {"code", codeFor(e.secret).toStdString()}}, e.session.access);
        QCOMPARE(ok.status, 200);
        auto plain = m_server.login(e.email);
        QVERIFY(!plain.access.isEmpty()); // one step again
    }

    void passwordChangeEndsOtherSessions()
    {
        const QString email = m_server.newUser();
        auto current = m_server.login(email);
        auto other = m_server.login(email);
        auto wrong = api().request("POST", "/api/auth/password",
                                   {{"currentPassword", "wrong wrong wrong"}, {"newPassword", "a brand new passphrase"}}, current.access);
        QCOMPARE(wrong.status, 403);
        QCOMPARE(m_server.listStatus(other.access), 200);
        auto weak = api().request("POST", "/api/auth/password",
                                  {{"currentPassword", password().toStdString()}, {"newPassword", "short"}}, current.access);
        QCOMPARE(weak.status, 400);
        auto ok = api().request("POST", "/api/auth/password",
                                {{"currentPassword", password().toStdString()}, {"newPassword", "a brand new passphrase"}}, current.access);
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.json["revokedCount"].get<int>(), 1);
        QCOMPARE(m_server.listStatus(other.access), 401);
        QCOMPARE(m_server.listStatus(current.access), 200);
        QVERIFY(m_server.login(email).access.isEmpty());
        QVERIFY(!m_server.login(email, {}, nullptr, "a brand new passphrase").access.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestMfaApi)
#include "TestMfaApi.moc"
