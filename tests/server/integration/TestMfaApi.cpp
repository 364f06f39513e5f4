// SPDX-License-Identifier: Apache-2.0
// TOTP enrolment, two-step login, backup codes, disabling, password change: over HTTP against the
// in-process server (PostgreSQL + Redis, or the embedded SQLite default).
#include "InProcessServer.h"
#include "mfa/BackupCodes.h"
#include "mfa/MfaService.h"
#include "mfa/Totp.h"

#include <QSet>
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
        auto setup = api().request("POST", "/api/auth/mfa/setup", {{"password", password().toStdString()}},
                                   e.session.access);
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
        return api().request("POST", "/api/auth/verify-mfa",
                             {{"mfaToken", mfaToken.toStdString()}, {"code", code.toStdString()}});
    }

    int count(const QString& sql, const QVariantList& params = {}) { return m_server.count(sql, params); }
    int mfaEnabled(const QByteArray& access)
    {
        auto me = api().request("GET", "/api/auth/me", nullptr, access);
        return me.status == 200 ? int(me.json["user"]["mfaEnabled"].get<bool>()) : -1;
    }
    QString userId(const QString& email)
    {
        auto q = m_server.db().exec(QStringLiteral("SELECT id FROM users WHERE email = ?"), {email});
        if (!q || !(*q)->next())
            return {};
        const QString id = (*q)->value(0).toString();
        (*q)->finish();
        return id;
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
        auto setup =
            api().request("POST", "/api/auth/mfa/setup", {{"password", password().toStdString()}}, l.access);
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
        QCOMPARE(
            api()
                .request("POST", "/api/auth/mfa/setup", {{"password", password().toStdString()}}, l.access)
                .status,
            409);
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

    void enrolmentNeedsThePassword()
    {
        const QString email = m_server.newUser();
        auto l = m_server.login(email);
        const QString id = userId(email);
        const QString pending =
            QStringLiteral("SELECT COUNT(*) FROM users WHERE id = ? AND totp_pending_secret_enc IS NOT NULL");
        // An access token alone (no body, or no password) starts nothing.
        auto bare = api().request("POST", "/api/auth/mfa/setup", nullptr, l.access);
        QCOMPARE(bare.status, 403);
        QVERIFY(bare.str("secret").empty());
        QCOMPARE(api().request("POST", "/api/auth/mfa/setup", Json::object(), l.access).status, 403);
        auto wrong =
            api().request("POST", "/api/auth/mfa/setup", {{"password", "not my password"}}, l.access);
        QCOMPARE(wrong.status, 403);
        QVERIFY(wrong.str("secret").empty());
        QCOMPARE(count(pending, {id}), 0);
        QCOMPARE(api().request("POST", "/api/auth/mfa/enable", {{"code", "123456"}}, l.access).status, 409);
        QCOMPARE(mfaEnabled(l.access), 0);
        QVERIFY(count(QStringLiteral(
                          "SELECT COUNT(*) FROM audit_events WHERE event = 'reauth_failure' AND user_id = ?"),
                      {id}) >= 3);
        // The password: enrolment starts, and its code turns 2FA on (with the change noted).
        QVERIFY(api().request("GET", "/api/auth/me", nullptr, l.access).json["mfaChangedAt"].is_null());
        auto setup =
            api().request("POST", "/api/auth/mfa/setup", {{"password", password().toStdString()}}, l.access);
        QCOMPARE(setup.status, 200);
        QCOMPARE(count(pending, {id}), 1);
        const QByteArray secret = *Totp::base32Decode(QString::fromStdString(setup.str("secret")));
        QCOMPARE(
            api()
                .request("POST", "/api/auth/mfa/enable", {{"code", codeFor(secret).toStdString()}}, l.access)
                .status,
            200);
        QCOMPARE(mfaEnabled(l.access), 1);
        QVERIFY(api().request("GET", "/api/auth/me", nullptr, l.access).json["mfaChangedAt"].is_string());
    }

    void disableWithoutPasswordChangesNothing()
    {
        Enrolled e = enrol();
        m_server.clock().advance(30'000);
        const std::string code = codeFor(e.secret).toStdString();
        QCOMPARE(api().request("POST", "/api/auth/mfa/disable", {{"code", code}}, e.session.access).status,
                 403);
        QCOMPARE(api().request("POST", "/api/auth/mfa/disable", nullptr, e.session.access).status, 403);
        QCOMPARE(api()
                     .request("POST", "/api/auth/mfa/disable", {{"password", password().toStdString()}},
                              e.session.access)
                     .status,
                 403);
        QCOMPARE(mfaEnabled(e.session.access), 1);
        QVERIFY(m_server.login(e.email).access.isEmpty()); // still two steps
    }

    void passwordChangeNeedsTheCodeWhenTwoStepIsOn()
    {
        Enrolled e = enrol();
        auto other = verify(challenge(e.email), e.backupCodes.at(0));
        QCOMPARE(other.status, 200);
        const QByteArray otherAccess = b(other.str("accessToken"));
        const std::string next = "a brand new passphrase";
        auto change = [&](const Json& body) {
            return api().request("POST", "/api/auth/password", body, e.session.access);
        };
        QCOMPARE(change({{"newPassword", next}}).status, 403);
        QCOMPARE(change({{"currentPassword", "not my password"},
                         {"newPassword", next},
                         {"code", e.backupCodes.at(1).toStdString()}})
                     .status,
                 403);
        auto noCode = change({{"currentPassword", password().toStdString()}, {"newPassword", next}});
        QCOMPARE(noCode.status, 403);
        QVERIFY2(noCode.str("message").find("code") != std::string::npos, noCode.body.constData());
        QCOMPARE(
            change({{"currentPassword", password().toStdString()}, {"newPassword", next}, {"code", "000000"}})
                .status,
            403);
        // Nothing changed: the old password still signs in, the other device is still signed in.
        QCOMPARE(m_server.listStatus(otherAccess), 200);
        QVERIFY(!m_server.login(e.email).response.str("mfaToken").empty());
        auto ok = change({{"currentPassword", password().toStdString()},
                          {"newPassword", next},
                          {"code", e.backupCodes.at(1).toStdString()}});
        QCOMPARE(ok.status, 200);
        QCOMPARE(m_server.listStatus(otherAccess), 401);
        QVERIFY(!m_server.login(e.email, {}, nullptr, QByteArray::fromStdString(next))
                     .response.str("mfaToken")
                     .empty());
    }

    void reauthenticationIsRateLimited_data()
    {
        QTest::addColumn<QString>("action");
        QTest::newRow("password change") << QStringLiteral("password");
        QTest::newRow("sign out all others") << QStringLiteral("signOutOthers");
        QTest::newRow("mfa setup") << QStringLiteral("setup");
    }

    void reauthenticationIsRateLimited()
    {
        QFETCH(QString, action);
        const QString email = m_server.newUser();
        auto l = m_server.login(email);
        auto other = m_server.login(email);
        auto attempt = [&](const QByteArray& pw) {
            if (action == u"password")
                return api().request(
                    "POST", "/api/auth/password",
                    {{"currentPassword", pw.toStdString()}, {"newPassword", "a brand new passphrase"}},
                    l.access);
            if (action == u"signOutOthers")
                return api().request("DELETE", "/api/sessions", {{"password", pw.toStdString()}}, l.access);
            return api().request("POST", "/api/auth/mfa/setup", {{"password", pw.toStdString()}}, l.access);
        };
        for (int i = 0; i < 10; ++i)
            QCOMPARE(attempt("wrong password " + QByteArray::number(i)).status, 403);
        auto limited = attempt("wrong password 11");
        QCOMPARE(limited.status, 429);
        QVERIFY(limited.header("retry-after").toInt() > 0);
        // Even the right password waits: guessing cannot continue at full speed.
        QCOMPARE(attempt(password()).status, 429);
        QCOMPARE(m_server.listStatus(other.access), 200);
        QCOMPARE(mfaEnabled(l.access), 0);
        QVERIFY(!m_server.login(email).access.isEmpty()); // the old password still works: nothing changed
        QVERIFY(count(QStringLiteral(
                          "SELECT COUNT(*) FROM audit_events WHERE event = 'rate_limited' AND user_id = ?"),
                      {userId(email)}) >= 1);
        // Once the window has passed, the right password works (with a token refreshed meanwhile).
        m_server.clock().advance(qint64(limited.header("retry-after").toInt()) * 1000 + 1000);
        auto fresh = m_server.refresh(l.refresh);
        QCOMPARE(fresh.status, 200);
        l.access = b(fresh.str("accessToken"));
        QCOMPARE(attempt(password()).status, 200);
    }

    void replayedCodeIsAuditedAsSuch()
    {
        Enrolled e = enrol();
        const QString id = userId(e.email);
        // The code the enrolment just used, once more at login.
        QCOMPARE(verify(challenge(e.email), codeFor(e.secret)).status, 401);
        QCOMPARE(count(QStringLiteral(
                           "SELECT COUNT(*) FROM audit_events WHERE event = 'mfa_failure' AND user_id = ? "
                           "AND CAST(details AS TEXT) LIKE '%totp_replayed%'"),
                       {id}),
                 1);
        QCOMPARE(verify(challenge(e.email), QStringLiteral("000000")).status, 401);
        QCOMPARE(count(QStringLiteral(
                           "SELECT COUNT(*) FROM audit_events WHERE event = 'mfa_failure' AND user_id = ? "
                           "AND CAST(details AS TEXT) LIKE '%wrong_code%'"),
                       {id}),
                 1);
        // A used backup code too.
        QCOMPARE(verify(challenge(e.email), e.backupCodes.at(0)).status, 200);
        QCOMPARE(verify(challenge(e.email), e.backupCodes.at(0)).status, 401);
        QCOMPARE(count(QStringLiteral(
                           "SELECT COUNT(*) FROM audit_events WHERE event = 'mfa_failure' AND user_id = ? "
                           "AND CAST(details AS TEXT) LIKE '%backup_code_reused%'"),
                       {id}),
                 1);
    }

    void consecutiveFailuresLockTheSecondStep()
    {
        Enrolled e = enrol();
        const QString id = userId(e.email);
        int wrong = 0;
        // A success in between starts the count again.
        for (int i = 0; i < 3; ++i, ++wrong)
            QCOMPARE(verify(challenge(e.email), QStringLiteral("000000")).status, 401);
        m_server.clock().advance(30'000);
        QCOMPARE(verify(challenge(e.email), codeFor(e.secret)).status, 200);
        QCOMPARE(count(QStringLiteral("SELECT mfa_failed_count FROM users WHERE id = ?"), {id}), 0);
        wrong = 0;
        while (wrong < MfaService::kConsecutiveFailureCap) {
            auto r = verify(challenge(e.email), QStringLiteral("000000"));
            if (r.status == 429) { // the per-window limit: wait it out, the consecutive count stays
                m_server.clock().advance(qint64(r.header("retry-after").toInt()) * 1000 + 1000);
                continue;
            }
            QCOMPARE(r.status, 401);
            ++wrong;
        }
        QCOMPARE(count(QStringLiteral(
                           "SELECT COUNT(*) FROM audit_events WHERE event = 'mfa_locked' AND user_id = ?"),
                       {id}),
                 1);
        m_server.clock().advance(3600'000);
        // Locked: even the right code (or a backup code) no longer signs in, whatever the window.
        auto locked = verify(challenge(e.email), codeFor(e.secret));
        QCOMPARE(locked.status, 403);
        QVERIFY2(locked.str("message").find("IT") != std::string::npos, locked.body.constData());
        QCOMPARE(verify(challenge(e.email), e.backupCodes.at(0)).status, 403);
        // IT's reset (what `user mfa-reset` runs) lifts it: the password alone signs in again.
        QVERIFY(m_server.services().users.resetMfa(id, m_server.clock().nowMs()).has_value());
        QVERIFY(!m_server.login(e.email).access.isEmpty());
    }

    void backupCodesAreStoredSalted()
    {
        Enrolled e = enrol();
        QCOMPARE(e.backupCodes.size(), 10);
        for (const QString& c : e.backupCodes)
            QVERIFY2(BackupCodes::normalize(c).size() == BackupCodes::kCodeLength, qPrintable(c.left(2)));
        auto q = m_server.db().exec(
            QStringLiteral("SELECT code_hash FROM user_backup_codes WHERE user_id = ?"), {userId(e.email)});
        QVERIFY(q);
        QSet<QByteArray> salts;
        int rows = 0;
        while ((*q)->next()) {
            const QByteArray stored = (*q)->value(0).toString().toLatin1();
            QVERIFY(stored.startsWith("v2$"));
            salts.insert(stored.split('$').value(1));
            ++rows;
        }
        (*q)->finish();
        QCOMPARE(rows, 10);
        QCOMPARE(salts.size(), 10);
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
