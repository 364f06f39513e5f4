// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"
#include "sessions/TokenService.h"

#include <QSet>
#include <QTest>
#include <QUuid>
#include <bit>

using namespace ehrs;
using namespace ehrs::server;

namespace {
const QByteArray kRoot = "jwt-secret-jwt-secret-jwt-secret-0123456789";

int differingBits(const QByteArray& a, const QByteArray& b)
{
    int n = 0;
    for (qsizetype i = 0; i < qMin(a.size(), b.size()); ++i)
        n += std::popcount(unsigned(quint8(a[i] ^ b[i])));
    return n;
}

/// The pre-hierarchy refresh token: session id, generation and an HMAC tag under a key. Built
/// here so the tests can show that nothing accepts it any more.
QByteArray oldSchemeToken(const QByteArray& key, const QString& sessionId, quint32 generation)
{
    const QByteArray sid = QUuid::fromString(sessionId).toRfc4122();
    QByteArray g(4, '\0');
    g[0] = char(generation >> 24);
    g[1] = char(generation >> 16);
    g[2] = char(generation >> 8);
    g[3] = char(generation);
    return crypto::base64UrlEncode(sid + g + crypto::hmacSha256(key, "ehrs-refresh-v1" + sid + g).left(28));
}
} // namespace

class TestTokenService : public QObject
{
    Q_OBJECT

    KeyHierarchy m_hierarchy = KeyHierarchy::fromRoot(kRoot);
    std::unique_ptr<KeyRing> m_keys =
        KeyRing::hmac(m_hierarchy.accessTokenHs256, QStringLiteral("ehr-sessions"), QStringLiteral("ehr"));

    TokenService make() { return TokenService(*m_keys, m_hierarchy, 900); }
    const QString sid = QUuid::createUuid().toString(QUuid::WithoutBraces);

private Q_SLOTS:
    void refreshTokenFormat()
    {
        const QByteArray token = TokenService::newRefreshToken(sid);
        QCOMPARE(token.size(), 64);
        const QByteArray raw = *crypto::base64UrlDecode(token);
        QCOMPARE(raw.size(), 48); // 16 bytes of session id + 32 random bytes (256 bits)
        QCOMPARE(raw.left(16), QUuid::fromString(sid).toRfc4122());
        auto parsed = TokenService::refreshTokenSession(token);
        QVERIFY(parsed);
        QCOMPARE(*parsed, sid);
    }

    void refreshTokensAreRandomAndUnrelated()
    {
        // Nothing about a refresh token is derived from a key: 256 fresh CSPRNG bits each. Tokens
        // of one session, or of two sessions, share nothing beyond the session id, and their
        // random parts differ in about half their bits (binomial(256, 1/2): 128 ± 8).
        const QString other = QUuid::createUuid().toString(QUuid::WithoutBraces);
        QSet<QByteArray> seen;
        QByteArray previous;
        for (int i = 0; i < 200; ++i) {
            const QByteArray raw =
                *crypto::base64UrlDecode(TokenService::newRefreshToken(i % 2 ? sid : other));
            const QByteArray random = raw.mid(16);
            QCOMPARE(random.size(), 32);
            QVERIFY(!seen.contains(random));
            seen.insert(random);
            if (!previous.isEmpty()) {
                const int bits = differingBits(previous, random);
                QVERIFY2(bits > 64 && bits < 192, qPrintable(QString::number(bits)));
            }
            previous = random;
        }
    }

    void malformedRefreshTokensFail_data()
    {
        QTest::addColumn<QByteArray>("token");
        const QByteArray good = TokenService::newRefreshToken(sid);
        QTest::newRow("short") << good.left(63);
        QTest::newRow("long") << good + 'A';
        QTest::newRow("not base64") << QByteArray(64, '*');
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("nil session id")
            << crypto::base64UrlEncode(QByteArray(16, '\0') + crypto::randomBytes(32));
    }

    void malformedRefreshTokensFail()
    {
        QFETCH(QByteArray, token);
        auto r = TokenService::refreshTokenSession(token);
        QVERIFY(!r);
        QCOMPARE(r.error().code, ErrorCode::Unauthenticated);
    }

    void keysCannotMintRefreshTokens()
    {
        // The old scheme's token is a function of (key, session, generation): whoever held the
        // key could compute every session's current token. Now the same inputs never give the
        // same token twice, so no key (the signing key, the root, any derived key) predicts one.
        const QByteArray a = TokenService::newRefreshToken(sid);
        const QByteArray b = TokenService::newRefreshToken(sid);
        QVERIFY(a != b);
        for (const QByteArray& key :
             {kRoot, m_hierarchy.accessTokenHs256, m_hierarchy.accessTokenIds, m_hierarchy.refreshRetry,
              crypto::hmacSha256(kRoot, "ehrs-token-derivation-v1")}) {
            for (quint32 generation : {0u, 1u, 2u}) {
                const QByteArray forged = oldSchemeToken(key, sid, generation);
                QVERIFY(forged != a && forged != b);
            }
        }
    }

    void retryTokenSealsForOneSessionAndGeneration()
    {
        const auto t = make();
        const QByteArray token = TokenService::newRefreshToken(sid);
        const QByteArray sealed = *t.sealRetry(token, sid, 4);
        QVERIFY(!sealed.contains(token));
        QCOMPARE(*t.openRetry(sealed, sid, 4), token);
        QVERIFY(!t.openRetry(sealed, sid, 5));
        QVERIFY(!t.openRetry(sealed, QUuid::createUuid().toString(QUuid::WithoutBraces), 4));
        // Only the retry key opens it: not the signing key, not another root's hierarchy.
        KeyHierarchy otherRoot = KeyHierarchy::fromRoot("another-root-secret-another-root-secret");
        QVERIFY(!TokenService(*m_keys, otherRoot, 900).openRetry(sealed, sid, 4));
        KeyHierarchy signingAsRetry = m_hierarchy;
        signingAsRetry.refreshRetry = m_hierarchy.accessTokenHs256;
        QVERIFY(!TokenService(*m_keys, signingAsRetry, 900).openRetry(sealed, sid, 4));
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
        // The jti comes from its own key: the signing key alone does not reproduce the token.
        KeyHierarchy otherIds = m_hierarchy;
        otherIds.accessTokenIds = crypto::randomBytes(32);
        QVERIFY(TokenService(*m_keys, otherIds, 900).accessToken(QStringLiteral("u"), sid, 2, 1000) != a);
    }
};

QTEST_GUILESS_MAIN(TestTokenService)
#include "TestTokenService.moc"
