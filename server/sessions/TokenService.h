// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Jwt.h"
#include "Result.h"
#include "keys/KeyRing.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace ehrs::server {

/// Issues and checks the two tokens of a session.
///
/// Refresh tokens are 48 bytes, base64url (64 characters): the session id (16 bytes), the
/// rotation generation (4 bytes, big-endian) and a 28-byte HMAC-SHA256 tag over both under a
/// server key. They are unguessable without that key, only their SHA-256 is stored, and any token
/// the server ever issued can be recognised as authentic: an old generation coming back is
/// re-use (theft detection) even long after rotation, with no history table. Generation N of a
/// session always yields the same token and, with the same issue time, the same access token, so
/// a refresh whose response was lost can be answered again with identical tokens.
class TokenService
{
public:
    TokenService(KeyRing& keys, QByteArray derivationKey, int accessTtlSeconds);

    struct ParsedRefresh
    {
        QString sessionId;
        quint32 generation = 0;
    };

    QByteArray refreshToken(const QString& sessionId, quint32 generation) const;
    /// Checks format and tag; an invalid token says nothing about any session.
    [[nodiscard]] Result<ParsedRefresh> parseRefreshToken(QByteArrayView token) const;

    /// The access token of generation `generation`, issued at `issuedAtSeconds`.
    QByteArray accessToken(const QString& userId, const QString& sessionId, quint32 generation,
                           qint64 issuedAtSeconds) const;
    [[nodiscard]] Result<JwtClaims> verifyAccessToken(QByteArrayView token, qint64 nowSeconds) const;

    int accessTtl() const { return m_accessTtl; }
    KeyRing& keys() const { return m_keys; }

    static QByteArray hash(QByteArrayView token); // SHA-256 hex, as stored

private:
    QByteArray tag(const QByteArray& sessionIdBytes, quint32 generation) const;

    KeyRing& m_keys;
    QByteArray m_key;
    int m_accessTtl;
};

} // namespace ehrs::server
