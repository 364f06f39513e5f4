// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"
#include "Result.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace ehrs::server {

/// Key material for MFA, derived from the server secret by SharedState.
struct MfaKeys
{
    QByteArray totpEncryptionKey; // 32 bytes, seals TOTP secrets at rest
    QByteArray totpPreviousKey;   // 32 bytes, still opens secrets sealed before the key hierarchy
    QByteArray backupCodePepper;
    QByteArray challengeKey;
};

/// The `mfaToken` of a login that needs a second factor: who passed the password check, the
/// device they sign in from, a nonce and an expiry (5 minutes), MAC'd with a server key. It
/// grants nothing by itself; /api/auth/verify-mfa needs it plus a valid code.
class MfaChallengeCodec
{
public:
    struct Challenge
    {
        QString userId;
        std::optional<DeviceInfo> device;
        QByteArray nonce;
        qint64 expiresAt = 0; // seconds
        QString deviceClass;  // the device class claimed at the password step (empty: personal)
    };

    explicit MfaChallengeCodec(QByteArray key, int lifetimeSeconds = 300)
        : m_key(std::move(key)), m_lifetime(lifetimeSeconds)
    {
    }

    QByteArray issue(const QString& userId, const std::optional<DeviceInfo>& device, qint64 nowSeconds,
                     const QString& deviceClass = {}) const;
    [[nodiscard]] Result<Challenge> verify(QByteArrayView token, qint64 nowSeconds) const;

private:
    QByteArray m_key;
    int m_lifetime;
};

} // namespace ehrs::server
