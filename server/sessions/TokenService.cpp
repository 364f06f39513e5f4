// SPDX-License-Identifier: Apache-2.0
#include "TokenService.h"

#include "Crypto.h"

#include <QUuid>
#include <QtEndian>

namespace ehrs::server {
namespace {
constexpr qsizetype kSessionIdBytes = 16;
constexpr int kRandomBytes = 32; // 256 bits from the CSPRNG
constexpr qsizetype kRefreshBytes = kSessionIdBytes + kRandomBytes;
constexpr qsizetype kRefreshChars = 64; // base64url of 48 bytes, no padding

QByteArray generationBytes(quint32 generation)
{
    QByteArray g(4, '\0');
    qToBigEndian(generation, g.data());
    return g;
}

QByteArray retryContext(const QString& sessionId, quint32 generation)
{
    return "ehrs-refresh-retry-v1:" + sessionId.toLatin1() + ':' + QByteArray::number(generation);
}
} // namespace

TokenService::TokenService(KeyRing& keys, const KeyHierarchy& hierarchy, int accessTtlSeconds)
    : m_keys(keys), m_jtiKey(hierarchy.accessTokenIds), m_retryBox(hierarchy.refreshRetry),
      m_accessTtl(accessTtlSeconds)
{
}

QByteArray TokenService::hash(QByteArrayView token)
{
    return crypto::sha256Hex(token);
}

QByteArray TokenService::newRefreshToken(const QString& sessionId)
{
    const QByteArray sid = QUuid::fromString(sessionId).toRfc4122();
    return crypto::base64UrlEncode(sid + crypto::randomBytes(kRandomBytes));
}

Result<QString> TokenService::refreshTokenSession(QByteArrayView token)
{
    auto invalid = [] { return fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token")); };
    if (token.size() != kRefreshChars)
        return invalid();
    auto raw = crypto::base64UrlDecode(token);
    if (!raw || raw->size() != kRefreshBytes)
        return invalid();
    const QUuid uuid = QUuid::fromRfc4122(raw->left(kSessionIdBytes));
    if (uuid.isNull())
        return invalid();
    return uuid.toString(QUuid::WithoutBraces);
}

Result<QByteArray> TokenService::sealRetry(QByteArrayView refreshToken, const QString& sessionId,
                                           quint32 generation) const
{
    return m_retryBox.seal(refreshToken, retryContext(sessionId, generation));
}

Result<QByteArray> TokenService::openRetry(QByteArrayView sealed, const QString& sessionId,
                                           quint32 generation) const
{
    return m_retryBox.open(sealed, retryContext(sessionId, generation));
}

QByteArray TokenService::accessToken(const QString& userId, const QString& sessionId, quint32 generation,
                                     qint64 issuedAtSeconds) const
{
    JwtClaims c;
    c.sub = userId;
    c.sid = sessionId;
    c.jti = QString::fromLatin1(
        crypto::hmacSha256(m_jtiKey, "ehrs-jti-v1" + sessionId.toLatin1() + generationBytes(generation))
            .left(16)
            .toHex());
    c.iat = issuedAtSeconds;
    c.exp = issuedAtSeconds + m_accessTtl;
    return m_keys.codec()->sign(c);
}

Result<JwtClaims> TokenService::verifyAccessToken(QByteArrayView token, qint64 nowSeconds) const
{
    m_keys.reloadIfOlderThan(60'000); // picks up `keys rotate` on a shared key directory
    auto claims = m_keys.codec()->verify(token, nowSeconds);
    if (!claims && claims.error().message == u"unknown signing key") {
        // Perhaps signed by another instance with a key this one has not loaded yet.
        m_keys.reloadIfOlderThan(10'000);
        claims = m_keys.codec()->verify(token, nowSeconds);
    }
    return claims;
}

} // namespace ehrs::server
