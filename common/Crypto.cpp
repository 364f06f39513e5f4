// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace ehrs::crypto {
namespace {
QByteArray hmac(const EVP_MD* md, QByteArrayView key, QByteArrayView data)
{
    QByteArray out(EVP_MAX_MD_SIZE, Qt::Uninitialized);
    unsigned int len = 0;
    // HMAC() only fails on allocation failure; an empty result then makes every comparison fail.
    if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              static_cast<size_t>(data.size()), reinterpret_cast<unsigned char*>(out.data()), &len))
        return {};
    out.resize(static_cast<qsizetype>(len));
    return out;
}
} // namespace

QByteArray randomBytes(int count)
{
    QByteArray out(count, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), count) != 1) {
        // Without randomness no token is safe to issue; continuing would be worse than stopping.
        std::abort();
    }
    return out;
}

QByteArray sha256(QByteArrayView data)
{
    QByteArray out(32, Qt::Uninitialized);
    unsigned int len = 0;
    if (EVP_Digest(data.data(), static_cast<size_t>(data.size()), reinterpret_cast<unsigned char*>(out.data()),
                   &len, EVP_sha256(), nullptr) != 1)
        std::abort();
    return out;
}

QByteArray sha256Hex(QByteArrayView data)
{
    return sha256(data).toHex();
}

QByteArray hmacSha256(QByteArrayView key, QByteArrayView data)
{
    return hmac(EVP_sha256(), key, data);
}

QByteArray hmacSha384(QByteArrayView key, QByteArrayView data)
{
    return hmac(EVP_sha384(), key, data);
}

QByteArray base64UrlEncode(QByteArrayView data)
{
    return data.toByteArray().toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

Result<QByteArray> base64UrlDecode(QByteArrayView text)
{
    for (char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_';
        if (!ok)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("not base64url"));
    }
    if (text.size() % 4 == 1)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("not base64url"));
    auto decoded = QByteArray::fromBase64Encoding(text.toByteArray(), QByteArray::Base64UrlEncoding |
                                                                          QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("not base64url"));
    return decoded.decoded;
}

bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    return CRYPTO_memcmp(a.data(), b.data(), static_cast<size_t>(a.size())) == 0;
}

} // namespace ehrs::crypto
