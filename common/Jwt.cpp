// SPDX-License-Identifier: Apache-2.0
#include "Jwt.h"

#include "Crypto.h"

#include <nlohmann/json.hpp>

namespace ehrs {
namespace {
Error invalidToken(const char* why)
{
    return Error{ErrorCode::Unauthenticated, QString::fromLatin1(why)};
}

std::string toStd(const QString& s)
{
    return s.toStdString();
}
} // namespace

HmacJwtKey::HmacJwtKey(QByteArray secret, QByteArray kid) : m_secret(std::move(secret)), m_kid(std::move(kid)) {}

QByteArray HmacJwtKey::sign(QByteArrayView signingInput) const
{
    return crypto::hmacSha256(m_secret, signingInput);
}

bool HmacJwtKey::verify(QByteArrayView signingInput, QByteArrayView signature) const
{
    return crypto::constantTimeEquals(crypto::hmacSha256(m_secret, signingInput), signature);
}

JwtCodec::JwtCodec(std::vector<std::shared_ptr<const JwtKey>> keys, QByteArray signingKid, QString issuer,
                   QString audience)
    : m_keys(std::move(keys)), m_issuer(std::move(issuer)), m_audience(std::move(audience))
{
    for (const auto& key : m_keys) {
        if (key->kid() == signingKid && key->canSign())
            m_signingKey = key;
    }
    Q_ASSERT(m_signingKey);
}

QByteArray JwtCodec::sign(const JwtClaims& claims) const
{
    const nlohmann::json header = {
        {"alg", m_signingKey->alg().toStdString()}, {"typ", "JWT"}, {"kid", m_signingKey->kid().toStdString()}};
    const nlohmann::json payload = {{"sub", toStd(claims.sub)}, {"sid", toStd(claims.sid)},
                                    {"jti", toStd(claims.jti)}, {"iss", toStd(m_issuer)},
                                    {"aud", toStd(m_audience)}, {"iat", claims.iat},
                                    {"exp", claims.exp}};
    const std::string h = header.dump();
    const std::string p = payload.dump();
    QByteArray input = crypto::base64UrlEncode(QByteArrayView(h.data(), qsizetype(h.size())));
    input += '.';
    input += crypto::base64UrlEncode(QByteArrayView(p.data(), qsizetype(p.size())));
    const QByteArray signature = m_signingKey->sign(input);
    return input + '.' + crypto::base64UrlEncode(signature);
}

const JwtKey* JwtCodec::findKey(const QByteArray& kid) const
{
    for (const auto& key : m_keys) {
        if (key->kid() == kid)
            return key.get();
    }
    return nullptr;
}

Result<JwtClaims> JwtCodec::verify(QByteArrayView token, qint64 nowSeconds) const
{
    if (token.isEmpty() || token.size() > kMaxTokenLength)
        return fail(invalidToken("invalid token"));
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) >= 0 || dot2 + 1 >= token.size())
        return fail(invalidToken("invalid token"));

    auto headerBytes = crypto::base64UrlDecode(token.first(dot1));
    auto payloadBytes = crypto::base64UrlDecode(token.sliced(dot1 + 1, dot2 - dot1 - 1));
    auto signature = crypto::base64UrlDecode(token.sliced(dot2 + 1));
    if (!headerBytes || !payloadBytes || !signature)
        return fail(invalidToken("invalid token"));

    const auto header = nlohmann::json::parse(headerBytes->begin(), headerBytes->end(), nullptr, false);
    if (!header.is_object() || !header.contains("alg") || !header["alg"].is_string())
        return fail(invalidToken("invalid token"));
    QByteArray kid;
    if (header.contains("kid")) {
        if (!header["kid"].is_string())
            return fail(invalidToken("invalid token"));
        kid = QByteArray::fromStdString(header["kid"].get<std::string>());
    }
    const JwtKey* key = kid.isEmpty() && m_keys.size() == 1 ? m_keys.front().get() : findKey(kid);
    if (!key)
        return fail(invalidToken("unknown signing key"));
    // The algorithm is pinned by the key: "none", or HS256 with a public key as the secret, fail here.
    if (QByteArray::fromStdString(header["alg"].get<std::string>()) != key->alg())
        return fail(invalidToken("unexpected token algorithm"));
    if (!key->verify(token.first(dot2), *signature))
        return fail(invalidToken("bad token signature"));

    const auto payload = nlohmann::json::parse(payloadBytes->begin(), payloadBytes->end(), nullptr, false);
    if (!payload.is_object())
        return fail(invalidToken("invalid token"));
    auto str = [&](const char* name) -> std::optional<QString> {
        auto it = payload.find(name);
        if (it == payload.end() || !it->is_string())
            return std::nullopt;
        return QString::fromStdString(it->get<std::string>());
    };
    auto num = [&](const char* name) -> std::optional<qint64> {
        auto it = payload.find(name);
        if (it == payload.end() || !it->is_number_integer())
            return std::nullopt;
        return it->get<qint64>();
    };
    JwtClaims claims;
    auto sub = str("sub"), sid = str("sid"), jti = str("jti"), iss = str("iss");
    auto iat = num("iat"), exp = num("exp");
    if (!sub || !sid || !jti || !iss || !iat || !exp)
        return fail(invalidToken("token lacks required claims"));
    claims.sub = *sub;
    claims.sid = *sid;
    claims.jti = *jti;
    claims.iss = *iss;
    claims.iat = *iat;
    claims.exp = *exp;
    bool audOk = false;
    if (auto it = payload.find("aud"); it != payload.end()) {
        const std::string want = toStd(m_audience);
        if (it->is_string()) {
            audOk = it->get<std::string>() == want;
        } else if (it->is_array()) {
            for (const auto& a : *it)
                audOk = audOk || (a.is_string() && a.get<std::string>() == want);
        }
    }
    if (!audOk)
        return fail(invalidToken("token audience mismatch"));
    claims.aud = m_audience;
    if (claims.iss != m_issuer)
        return fail(invalidToken("token issuer mismatch"));
    if (claims.exp <= nowSeconds)
        return fail(invalidToken("access token expired")); // the session may live on: refresh
    constexpr qint64 kClockSkew = 60;
    if (claims.iat > nowSeconds + kClockSkew)
        return fail(invalidToken("token issued in the future"));
    return claims;
}

} // namespace ehrs
