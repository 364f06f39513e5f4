// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Jwt.h"

#include <memory>

typedef struct evp_pkey_st EVP_PKEY;

namespace ehrs {

/// An Ed25519 key for EdDSA-signed JWTs (RFC 8037). A private key signs and verifies; a public
/// key (from a JWKS) only verifies. Signatures are deterministic.
class Ed25519JwtKey final : public JwtKey
{
public:
    ~Ed25519JwtKey() override;

    /// A fresh private key; `kid` defaults to a thumbprint-like id of the public key.
    [[nodiscard]] static Result<std::shared_ptr<Ed25519JwtKey>> generate(QByteArray kid = {});
    [[nodiscard]] static Result<std::shared_ptr<Ed25519JwtKey>> fromPrivatePem(const QByteArray& pem, QByteArray kid);
    /// A verification-only key from a JWK's `x` (32 raw bytes, base64url).
    [[nodiscard]] static Result<std::shared_ptr<Ed25519JwtKey>> fromPublicJwk(const QByteArray& x, QByteArray kid);

    QByteArray alg() const override { return QByteArrayLiteral("EdDSA"); }
    QByteArray kid() const override { return m_kid; }
    bool canSign() const override { return m_private; }
    QByteArray sign(QByteArrayView signingInput) const override;
    bool verify(QByteArrayView signingInput, QByteArrayView signature) const override;

    QByteArray privatePem() const;
    /// The public JWK: {"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"} as JSON text.
    QByteArray publicJwk() const;
    QByteArray publicKeyRaw() const;

private:
    Ed25519JwtKey(EVP_PKEY* key, QByteArray kid, bool isPrivate);

    EVP_PKEY* m_key;
    QByteArray m_kid;
    bool m_private;
};

} // namespace ehrs
