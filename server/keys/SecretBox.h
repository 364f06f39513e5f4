// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QByteArrayView>

namespace ehrs::server {

/// Authenticated encryption of small secrets at rest (TOTP secrets) with AES-256-GCM.
///
/// The sealed form is text, `v1.` + base64url(nonce || ciphertext || tag), with a fresh random
/// 12-byte nonce per seal and a 16-byte tag. Random nonces are safe for far more than 2^32 seals
/// under one key would ever be needed here. The version prefix leaves room for a later key or
/// algorithm without guessing at the format of stored values. Thread-safe (all members const).
class SecretBox
{
public:
    /// Uses `key` as is: it must be exactly 32 bytes of key material (no derivation happens here).
    /// With any other length every seal() and open() fails with ErrorCode::Internal.
    /// `previousKey` (optional, 32 bytes) only opens values sealed before a key change: seal()
    /// always uses `key`, open() tries `key` first. The TOTP secrets sealed before the key
    /// hierarchy (KeyHierarchy) keep opening this way.
    explicit SecretBox(QByteArray key, QByteArray previousKey = {});

    /// Encrypts `plaintext` (which may be empty) under a new random nonce. `context` is
    /// authenticated but not stored (GCM additional data): binding a value to its owner, e.g. the
    /// user id, means a sealed secret copied to another row no longer opens. Fails only with a
    /// wrong-sized key or an OpenSSL failure (ErrorCode::Internal).
    [[nodiscard]] Result<QByteArray> seal(QByteArrayView plaintext, QByteArrayView context = {}) const;

    /// Decrypts the output of seal() given the same `context`. A wrong version prefix, bad
    /// base64url, a truncated value, any changed byte, a different key or context all give
    /// ErrorCode::InvalidRequest, and no plaintext is returned until the tag has been checked.
    [[nodiscard]] Result<QByteArray> open(QByteArrayView sealed, QByteArrayView context = {}) const;

private:
    Result<QByteArray> openWith(const QByteArray& key, QByteArrayView sealed, QByteArrayView context) const;

    QByteArray m_key;
    QByteArray m_previousKey;
};

} // namespace ehrs::server
