// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QByteArrayView>

namespace ehrs::server {

/// The server's secret keys, one per purpose, each derived from the root secret (`JWT_SECRET`,
/// or the secret the embedded default generates) with HKDF-SHA256 (RFC 5869) and its own label.
/// Knowing one derived key reveals neither the root nor any other key, so a key handed to one
/// purpose (the HS256 signing key, shared with a verifier) cannot open or mint what another
/// protects. Refresh tokens use none of them: they are random (see TokenService).
/// Plain values, built once at start-up (SharedState) and then only read.
struct KeyHierarchy
{
    /// Signs and verifies HS256 access tokens (unused with EdDSA keys).
    QByteArray accessTokenHs256;
    /// Derives the `jti` of access tokens, so that only the server can reproduce the current one.
    QByteArray accessTokenIds;
    /// Seals the current refresh token for the lost-response grace (AES-256-GCM, SecretBox).
    QByteArray refreshRetry;
    /// Seals TOTP secrets at rest (AES-256-GCM, SecretBox).
    QByteArray totpEncryption;
    /// For keyed hashes of backup codes (the pepper).
    QByteArray backupCodes;
    /// MACs the mfaToken of a two-step login.
    QByteArray mfaChallenge;

    /// Derives every key from `root` (at least 32 bytes of secret material).
    static KeyHierarchy fromRoot(QByteArrayView root);

    /// HKDF-SHA256 (extract and expand) through OpenSSL's EVP_KDF "HKDF". `length` ≤ 255 * 32.
    [[nodiscard]] static Result<QByteArray> hkdfSha256(QByteArrayView ikm, QByteArrayView salt,
                                                       QByteArrayView info, int length);
    /// One purpose's 32-byte key: HKDF-SHA256 of `root` with the hierarchy's salt and `label`.
    static QByteArray derive(QByteArrayView root, QByteArrayView label);
};

} // namespace ehrs::server
