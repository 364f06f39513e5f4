// SPDX-License-Identifier: Apache-2.0
#include "Ed25519JwtKey.h"

#include "Crypto.h"

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace ehrs {
namespace {
QByteArray defaultKid(EVP_PKEY* key)
{
    QByteArray raw(32, Qt::Uninitialized);
    size_t len = size_t(raw.size());
    EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len);
    return crypto::base64UrlEncode(crypto::sha256(raw.left(qsizetype(len)))).left(16);
}
} // namespace

Ed25519JwtKey::Ed25519JwtKey(EVP_PKEY* key, QByteArray kid, bool isPrivate)
    : m_key(key), m_kid(std::move(kid)), m_private(isPrivate)
{
}

Ed25519JwtKey::~Ed25519JwtKey()
{
    EVP_PKEY_free(m_key);
}

Result<std::shared_ptr<Ed25519JwtKey>> Ed25519JwtKey::generate(QByteArray kid)
{
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!key)
        return fail(ErrorCode::Internal, QStringLiteral("cannot generate an Ed25519 key"));
    if (kid.isEmpty())
        kid = defaultKid(key);
    return std::shared_ptr<Ed25519JwtKey>(new Ed25519JwtKey(key, std::move(kid), true));
}

Result<std::shared_ptr<Ed25519JwtKey>> Ed25519JwtKey::fromPrivatePem(const QByteArray& pem, QByteArray kid)
{
    BIO* bio = BIO_new_mem_buf(pem.constData(), int(pem.size()));
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return fail(ErrorCode::InvalidRequest, QStringLiteral("not an Ed25519 private key in PEM form"));
    }
    if (kid.isEmpty())
        kid = defaultKid(key);
    return std::shared_ptr<Ed25519JwtKey>(new Ed25519JwtKey(key, std::move(kid), true));
}

Result<std::shared_ptr<Ed25519JwtKey>> Ed25519JwtKey::fromPublicJwk(const QByteArray& x, QByteArray kid)
{
    auto raw = crypto::base64UrlDecode(x);
    if (!raw || raw->size() != 32)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("not an Ed25519 public key"));
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(raw->constData()), 32);
    if (!key)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("not an Ed25519 public key"));
    return std::shared_ptr<Ed25519JwtKey>(new Ed25519JwtKey(key, std::move(kid), false));
}

QByteArray Ed25519JwtKey::sign(QByteArrayView signingInput) const
{
    if (!m_private)
        return {};
    QByteArray sig(64, Qt::Uninitialized);
    size_t len = size_t(sig.size());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, m_key) == 1 &&
                    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                   reinterpret_cast<const unsigned char*>(signingInput.data()),
                                   size_t(signingInput.size())) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? sig.left(qsizetype(len)) : QByteArray();
}

bool Ed25519JwtKey::verify(QByteArrayView signingInput, QByteArrayView signature) const
{
    if (signature.size() != 64)
        return false;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, m_key) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), size_t(signature.size()),
                                     reinterpret_cast<const unsigned char*>(signingInput.data()),
                                     size_t(signingInput.size())) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

QByteArray Ed25519JwtKey::privatePem() const
{
    if (!m_private)
        return {};
    BIO* bio = BIO_new(BIO_s_mem());
    QByteArray out;
    if (bio && PEM_write_bio_PrivateKey(bio, m_key, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        out = QByteArray(data, qsizetype(len));
    }
    BIO_free(bio);
    return out;
}

QByteArray Ed25519JwtKey::publicKeyRaw() const
{
    QByteArray raw(32, Qt::Uninitialized);
    size_t len = size_t(raw.size());
    if (EVP_PKEY_get_raw_public_key(m_key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1)
        return {};
    return raw.left(qsizetype(len));
}

QByteArray Ed25519JwtKey::publicJwk() const
{
    const nlohmann::json jwk{{"kty", "OKP"},
                             {"crv", "Ed25519"},
                             {"x", crypto::base64UrlEncode(publicKeyRaw()).toStdString()},
                             {"kid", m_kid.toStdString()},
                             {"alg", "EdDSA"},
                             {"use", "sig"}};
    return QByteArray::fromStdString(jwk.dump());
}

} // namespace ehrs
