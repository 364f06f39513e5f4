// SPDX-License-Identifier: Apache-2.0
#include "TokenService.h"

#include "Crypto.h"

#include <QUuid>
#include <QtEndian>

namespace ehrs::server {
namespace {
constexpr qsizetype kRefreshBytes = 48;
constexpr qsizetype kTagBytes = 28;

QByteArray generationBytes(quint32 generation)
{
    QByteArray g(4, '\0');
    qToBigEndian(generation, g.data());
    return g;
}
} // namespace

TokenService::TokenService(KeyRing& keys, QByteArray derivationKey, int accessTtlSeconds)
    : m_keys(keys), m_key(std::move(derivationKey)), m_accessTtl(accessTtlSeconds)
{
}

QByteArray TokenService::hash(QByteArrayView token)
{
    return crypto::sha256Hex(token);
}

QByteArray TokenService::tag(const QByteArray& sessionIdBytes, quint32 generation) const
{
    return crypto::hmacSha256(m_key, "ehrs-refresh-v1" + sessionIdBytes + generationBytes(generation)).left(kTagBytes);
}

QByteArray TokenService::refreshToken(const QString& sessionId, quint32 generation) const
{
    const QByteArray sid = QUuid::fromString(sessionId).toRfc4122();
    return crypto::base64UrlEncode(sid + generationBytes(generation) + tag(sid, generation));
}

Result<TokenService::ParsedRefresh> TokenService::parseRefreshToken(QByteArrayView token) const
{
    auto invalid = [] { return fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token")); };
    if (token.size() != 64)
        return invalid();
    auto raw = crypto::base64UrlDecode(token);
    if (!raw || raw->size() != kRefreshBytes)
        return invalid();
    const QByteArray sid = raw->left(16);
    const quint32 generation = qFromBigEndian<quint32>(raw->constData() + 16);
    if (!crypto::constantTimeEquals(raw->mid(20), tag(sid, generation)))
        return invalid();
    const QUuid uuid = QUuid::fromRfc4122(sid);
    if (uuid.isNull())
        return invalid();
    return ParsedRefresh{uuid.toString(QUuid::WithoutBraces), generation};
}

QByteArray TokenService::accessToken(const QString& userId, const QString& sessionId, quint32 generation,
                                     qint64 issuedAtSeconds) const
{
    JwtClaims c;
    c.sub = userId;
    c.sid = sessionId;
    c.jti = QString::fromLatin1(
        crypto::hmacSha256(m_key, "ehrs-jti-v1" + sessionId.toLatin1() + generationBytes(generation)).left(16).toHex());
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
