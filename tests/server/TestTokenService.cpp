// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"
#include "sessions/TokenService.h"

#include <QTest>
#include <QUuid>

using namespace ehrs;
using namespace ehrs::server;

class TestTokenService : public QObject
{
    Q_OBJECT

    std::unique_ptr<KeyRing> m_keys =
        KeyRing::hmac("jwt-secret-jwt-secret-jwt-secret", QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));

    TokenService make(const QByteArray& key = "derivation-key-derivation-key-01")
    {
        return TokenService(*m_keys, key, 900);
    }
    const QString sid = QUuid::createUuid().toString(QUuid::WithoutBraces);

private Q_SLOTS:
    void refreshTokenFormat()
    {
        const auto t = make();
        const QByteArray token = t.refreshToken(sid, 7);
        QCOMPARE(token.size(), 64);
        QCOMPARE(crypto::base64UrlDecode(token)->size(), 48);
        auto parsed = t.parseRefreshToken(token);
        QVERIFY(parsed);
        QCOMPARE(parsed->sessionId, sid);
        QCOMPARE(parsed->generation, 7u);
        // Deterministic per (session, generation), different across generations and sessions.
        QCOMPARE(t.refreshToken(sid, 7), token);
        QVERIFY(t.refreshToken(sid, 8) != token);
        QVERIFY(t.refreshToken(QUuid::createUuid().toString(QUuid::WithoutBraces), 7) != token);
    }

    void forgedRefreshTokensFail_data()
    {
        QTest::addColumn<QByteArray>("token");
        const auto t = make();
        const QByteArray good = t.refreshToken(sid, 3);
        QByteArray raw = *crypto::base64UrlDecode(good);
        QByteArray bumped = raw;
        bumped[19] = char(bumped[19] + 1); // generation 4 with generation 3's tag
        QByteArray flipped = raw;
        flipped[47] = char(flipped[47] ^ 1);
        QTest::newRow("generation changed") << crypto::base64UrlEncode(bumped);
        QTest::newRow("tag bit flipped") << crypto::base64UrlEncode(flipped);
        QTest::newRow("other key") << make("another-derivation-key-0123456789").refreshToken(sid, 3);
        QTest::newRow("random") << crypto::base64UrlEncode(crypto::randomBytes(48));
        QTest::newRow("short") << good.left(63);
        QTest::newRow("not base64") << QByteArray(64, '*');
        QTest::newRow("empty") << QByteArray();
    }

    void forgedRefreshTokensFail()
    {
        QFETCH(QByteArray, token);
        auto r = make().parseRefreshToken(token);
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Unauthenticated);
    }

    void accessTokenIsDeterministic()
    {
        const auto t = make();
        const QByteArray a = t.accessToken(QStringLiteral("u"), sid, 2, 1000);
        QCOMPARE(t.accessToken(QStringLiteral("u"), sid, 2, 1000), a);
        QVERIFY(t.accessToken(QStringLiteral("u"), sid, 3, 1000) != a);
        auto claims = t.verifyAccessToken(a, 1500);
        QVERIFY(claims);
        QCOMPARE(claims->exp, 1900);
        QCOMPARE(claims->sid, sid);
        QCOMPARE(claims->sub, QStringLiteral("u"));
        QVERIFY(!claims->jti.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestTokenService)
#include "TestTokenService.moc"
