// SPDX-License-Identifier: Apache-2.0
#include "SecretBox.h"

#include "Crypto.h"

#include <algorithm>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace ehrs::server {
namespace {

constexpr qsizetype kKeyBytes = 32;
constexpr qsizetype kNonceBytes = 12;
constexpr qsizetype kTagBytes = 16;
constexpr QByteArrayView kPrefix = "v1.";
// Far above any secret this is meant for, and keeps every length within OpenSSL's int arguments.
constexpr qsizetype kMaxPlaintextBytes = 1 << 20;

struct CipherCtxDeleter
{
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

unsigned char* bytes(QByteArray& data)
{
    return reinterpret_cast<unsigned char*>(data.data());
}

const unsigned char* bytes(QByteArrayView data)
{
    return reinterpret_cast<const unsigned char*>(data.data());
}

auto invalidSealed()
{
    return fail(ErrorCode::InvalidRequest,
                QStringLiteral("sealed secret is malformed or does not match the key"));
}

} // namespace

SecretBox::SecretBox(QByteArray key, QByteArray previousKey)
    : m_key(std::move(key)), m_previousKey(std::move(previousKey))
{
}

Result<QByteArray> SecretBox::seal(QByteArrayView plaintext, QByteArrayView context) const
{
    if (m_key.size() != kKeyBytes)
        return fail(ErrorCode::Internal, QStringLiteral("secret box key must be 32 bytes"));
    if (plaintext.size() > kMaxPlaintextBytes || context.size() > kMaxPlaintextBytes)
        return fail(ErrorCode::Internal, QStringLiteral("secret too large to seal"));

    const QByteArray nonce = crypto::randomBytes(static_cast<int>(kNonceBytes));
    QByteArray raw(kNonceBytes + plaintext.size() + kTagBytes, Qt::Uninitialized);
    std::copy(nonce.cbegin(), nonce.cend(), raw.begin());
    unsigned char* out = bytes(raw) + kNonceBytes;

    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(QByteArrayView(m_key)),
                                        bytes(QByteArrayView(nonce))) == 1;
    if (ok && !context.isEmpty())
        ok = EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(context), static_cast<int>(context.size())) ==
             1;
    if (ok && !plaintext.isEmpty())
        ok = EVP_EncryptUpdate(ctx.get(), out, &len, bytes(plaintext), static_cast<int>(plaintext.size())) ==
                 1 &&
             len == plaintext.size();
    int finalLen = 0;
    ok = ok && EVP_EncryptFinal_ex(ctx.get(), out + plaintext.size(), &finalLen) == 1 && finalLen == 0;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                                   out + plaintext.size()) == 1;
    if (!ok)
        return fail(ErrorCode::Internal, QStringLiteral("AES-GCM encryption failed"));
    return kPrefix.toByteArray() + crypto::base64UrlEncode(raw);
}

Result<QByteArray> SecretBox::open(QByteArrayView sealed, QByteArrayView context) const
{
    auto opened = openWith(m_key, sealed, context);
    if (!opened && opened.error().code == ErrorCode::InvalidRequest && !m_previousKey.isEmpty())
        return openWith(m_previousKey, sealed, context);
    return opened;
}

Result<QByteArray> SecretBox::openWith(const QByteArray& key, QByteArrayView sealed,
                                       QByteArrayView context) const
{
    if (key.size() != kKeyBytes)
        return fail(ErrorCode::Internal, QStringLiteral("secret box key must be 32 bytes"));
    if (!sealed.startsWith(kPrefix) || context.size() > kMaxPlaintextBytes)
        return invalidSealed();
    // base64 of the largest raw value seal() produces, plus slack; stops decoding absurd inputs.
    if (sealed.size() > kPrefix.size() + (kNonceBytes + kMaxPlaintextBytes + kTagBytes) * 4 / 3 + 4)
        return invalidSealed();
    auto decoded = crypto::base64UrlDecode(sealed.sliced(kPrefix.size()));
    if (!decoded || decoded->size() < kNonceBytes + kTagBytes)
        return invalidSealed();
    const QByteArrayView raw(*decoded);
    const QByteArrayView nonce = raw.first(kNonceBytes);
    const QByteArrayView ciphertext = raw.sliced(kNonceBytes, raw.size() - kNonceBytes - kTagBytes);
    QByteArray tag = raw.last(kTagBytes).toByteArray(); // EVP_CTRL_GCM_SET_TAG takes a non-const pointer

    QByteArray plaintext(ciphertext.size(), Qt::Uninitialized);
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(QByteArrayView(key)),
                                        bytes(nonce)) == 1;
    if (ok && !context.isEmpty())
        ok = EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(context), static_cast<int>(context.size())) ==
             1;
    if (ok && !ciphertext.isEmpty())
        ok = EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &len, bytes(ciphertext),
                               static_cast<int>(ciphertext.size())) == 1 &&
             len == ciphertext.size();
    ok = ok &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) == 1;
    int finalLen = 0;
    // The tag is checked here; nothing decrypted leaves this function unless it passes.
    ok = ok && EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + plaintext.size(), &finalLen) == 1 &&
         finalLen == 0;
    if (!ok) {
        if (!plaintext.isEmpty())
            OPENSSL_cleanse(plaintext.data(), static_cast<size_t>(plaintext.size()));
        return invalidSealed();
    }
    return plaintext;
}

} // namespace ehrs::server
