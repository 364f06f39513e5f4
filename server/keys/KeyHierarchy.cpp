// SPDX-License-Identifier: Apache-2.0
#include "KeyHierarchy.h"

#include <cstdlib>
#include <memory>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

namespace ehrs::server {
namespace {
// Fixed and public, as RFC 5869 allows: it separates this hierarchy from any other use of the root.
constexpr QByteArrayView kSalt = "ehr-sessions key hierarchy v1";

struct KdfDeleter
{
    void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
    void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

void* mutableBytes(QByteArrayView data)
{
    // OSSL_PARAM takes non-const pointers but only reads octet-string inputs.
    return const_cast<char*>(data.data());
}
} // namespace

Result<QByteArray> KeyHierarchy::hkdfSha256(QByteArrayView ikm, QByteArrayView salt, QByteArrayView info,
                                            int length)
{
    if (length <= 0 || length > 255 * 32 || ikm.isEmpty())
        return fail(ErrorCode::Internal, QStringLiteral("HKDF: bad length or empty input key"));
    std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    if (!kdf)
        return fail(ErrorCode::Internal, QStringLiteral("HKDF is not available in this OpenSSL"));
    std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
    if (!ctx)
        return fail(ErrorCode::Internal, QStringLiteral("HKDF: out of memory"));
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    int n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, mutableBytes(ikm), size_t(ikm.size()));
    if (!salt.isEmpty())
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, mutableBytes(salt), size_t(salt.size()));
    if (!info.isEmpty())
        params[n++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, mutableBytes(info), size_t(info.size()));
    params[n] = OSSL_PARAM_construct_end();
    QByteArray out(length, Qt::Uninitialized);
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), size_t(length), params) != 1)
        return fail(ErrorCode::Internal, QStringLiteral("HKDF derivation failed"));
    return out;
}

QByteArray KeyHierarchy::derive(QByteArrayView root, QByteArrayView label)
{
    auto key = hkdfSha256(root, kSalt, label, 32);
    if (!key) {
        // Only a broken OpenSSL gets here; running without keys would be worse than stopping.
        std::abort();
    }
    return *key;
}

KeyHierarchy KeyHierarchy::fromRoot(QByteArrayView root)
{
    KeyHierarchy k;
    k.accessTokenHs256 = derive(root, "ehr-sessions/access-token/hs256/v1");
    k.accessTokenIds = derive(root, "ehr-sessions/access-token/jti/v1");
    k.refreshRetry = derive(root, "ehr-sessions/refresh-token/retry-seal/v1");
    k.totpEncryption = derive(root, "ehr-sessions/mfa/totp-seal/v1");
    k.backupCodes = derive(root, "ehr-sessions/mfa/backup-codes/v1");
    k.mfaChallenge = derive(root, "ehr-sessions/mfa/challenge/v1");
    return k;
}

} // namespace ehrs::server
