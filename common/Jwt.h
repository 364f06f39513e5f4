// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <vector>

namespace ehrs {

/// The claims of an EHR Sessions access token.
struct JwtClaims
{
    QString sub; // user id
    QString sid; // session id
    QString jti; // token id
    QString iss;
    QString aud;
    qint64 iat = 0; // seconds since the epoch
    qint64 exp = 0;
};

/// One signing or verification key. The algorithm is a property of the key, never taken from the
/// token header: a token whose header names another algorithm than its key's is rejected.
class JwtKey
{
public:
    virtual ~JwtKey() = default;
    virtual QByteArray alg() const = 0; // "HS256", "EdDSA"
    virtual QByteArray kid() const = 0;
    virtual bool canSign() const = 0;
    virtual QByteArray sign(QByteArrayView signingInput) const = 0;
    virtual bool verify(QByteArrayView signingInput, QByteArrayView signature) const = 0;
};

/// HMAC-SHA256 key (HS256).
class HmacJwtKey final : public JwtKey
{
public:
    HmacJwtKey(QByteArray secret, QByteArray kid);
    QByteArray alg() const override { return QByteArrayLiteral("HS256"); }
    QByteArray kid() const override { return m_kid; }
    bool canSign() const override { return true; }
    QByteArray sign(QByteArrayView signingInput) const override;
    bool verify(QByteArrayView signingInput, QByteArrayView signature) const override;

private:
    QByteArray m_secret;
    QByteArray m_kid;
};

/// Signs and verifies compact JWS access tokens. Thread-safe once constructed (immutable).
class JwtCodec
{
public:
    /// `keys` must contain the key named by `signingKid`; the others only verify (key rotation).
    JwtCodec(std::vector<std::shared_ptr<const JwtKey>> keys, QByteArray signingKid, QString issuer,
             QString audience);

    /// Produces a token (iss and aud are the codec's, whatever `claims` says); identical claims give an identical token (both HS256 and Ed25519 are
    /// deterministic), which lets the server re-issue a response lost on the network.
    QByteArray sign(const JwtClaims& claims) const;
    /// Checks structure, pinned algorithm, signature, issuer, audience and expiry.
    [[nodiscard]] Result<JwtClaims> verify(QByteArrayView token, qint64 nowSeconds) const;

    static constexpr qsizetype kMaxTokenLength = 4096;

private:
    const JwtKey* findKey(const QByteArray& kid) const;

    std::vector<std::shared_ptr<const JwtKey>> m_keys;
    std::shared_ptr<const JwtKey> m_signingKey;
    QString m_issuer;
    QString m_audience;
};

} // namespace ehrs
