// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Jwt.h"
#include "Result.h"
#include "keys/KeyHierarchy.h"
#include "keys/KeyRing.h"
#include "keys/SecretBox.h"

#include <QByteArray>
#include <QString>
#include <memory>

namespace ehrs::server {

/// Issues and checks the two tokens of a session.
///
/// Refresh tokens are 48 bytes, base64url (64 characters): the session id (16 bytes, so the row
/// is found by its primary key) and 32 bytes (256 bits) from the CSPRNG. Nothing about them is
/// derived from a key, so no key (the signing key, the root secret) can mint one; only their
/// SHA-256 is stored. A lost-response retry is answered from the current token sealed with its
/// own derived key (sealRetry/openRetry), kept for the refresh grace only.
///
/// Access tokens are JWTs whose `jti` is derived from the session and its rotation generation
/// under a key of their own, so that generation N, issued at the same time, always yields the
/// same access token (the retry gets the identical pair) and a holder of the signing key alone
/// cannot reproduce the session's current one.
class TokenService
{
public:
    TokenService(KeyRing& keys, const KeyHierarchy& hierarchy, int accessTtlSeconds);

    /// A new refresh token for `sessionId`: its id and 32 fresh random bytes.
    static QByteArray newRefreshToken(const QString& sessionId);
    /// The session a refresh token names. Checks the format only: whether it is the session's
    /// token is for the stored hashes to say. An invalid token says nothing about any session.
    [[nodiscard]] static Result<QString> refreshTokenSession(QByteArrayView token);

    /// Encrypts the current refresh token of (session, generation) for the lost-response grace;
    /// the value only opens for that same session and generation.
    [[nodiscard]] Result<QByteArray> sealRetry(QByteArrayView refreshToken, const QString& sessionId,
                                               quint32 generation) const;
    [[nodiscard]] Result<QByteArray> openRetry(QByteArrayView sealed, const QString& sessionId,
                                               quint32 generation) const;

    /// The access token of generation `generation`, issued at `issuedAtSeconds`.
    QByteArray accessToken(const QString& userId, const QString& sessionId, quint32 generation,
                           qint64 issuedAtSeconds) const;
    [[nodiscard]] Result<JwtClaims> verifyAccessToken(QByteArrayView token, qint64 nowSeconds) const;

    int accessTtl() const { return m_accessTtl; }
    KeyRing& keys() const { return m_keys; }

    static QByteArray hash(QByteArrayView token); // SHA-256 hex, as stored

private:
    KeyRing& m_keys;
    QByteArray m_jtiKey;
    SecretBox m_retryBox;
    int m_accessTtl;
};

} // namespace ehrs::server
