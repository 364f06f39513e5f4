// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Jwt.h"
#include "Result.h"

#include <QMutex>
#include <QString>

#include <memory>

namespace ehrs::server {

/// The access-token keys of a server: one HS256 secret, or a directory of Ed25519 keys
/// (`<created-unix-milliseconds>-<kid>.pem`, 0600) where the newest signs and the older ones still
/// verify until their tokens have expired. Instances sharing the directory pick up a rotation by
/// reloading it every minute, or at once when a token names a key they do not know.
/// Thread-safe.
class KeyRing
{
public:
    [[nodiscard]] static std::unique_ptr<KeyRing> hmac(const QByteArray& secret, const QString& issuer,
                                                       const QString& audience);
    /// Loads (or, when empty, creates) the Ed25519 key directory.
    [[nodiscard]] static Result<std::unique_ptr<KeyRing>> ed25519(const QString& dir, const QString& issuer,
                                                                  const QString& audience);

    std::shared_ptr<const JwtCodec> codec() const;
    /// EdDSA: re-reads the directory if the last read is older than `maxAgeMs`.
    void reloadIfOlderThan(qint64 maxAgeMs);
    /// {"keys":[public JWKs]} (empty for HS256: a shared secret is never published).
    QByteArray jwks() const;
    bool isEdDsa() const { return !m_dir.isEmpty(); }

    /// `keys rotate`: adds a new signing key to `dir` and deletes keys whose successor has been
    /// signing for longer than `accessTokenTtl` (+ a minute of clock skew). Returns the new kid.
    [[nodiscard]] static Result<QByteArray> rotate(const QString& dir, int accessTokenTtl);

private:
    KeyRing(QString dir, QString issuer, QString audience);
    Result<void> load();

    QString m_dir;
    QString m_issuer;
    QString m_audience;
    mutable QMutex m_mutex;
    std::shared_ptr<const JwtCodec> m_codec;
    QByteArray m_jwks;
    qint64 m_loadedAtMs = 0;
};

} // namespace ehrs::server
