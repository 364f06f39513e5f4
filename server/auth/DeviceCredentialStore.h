// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "db/Database.h"

#include <QByteArray>
#include <QString>
#include <optional>
#include <vector>

namespace ehrs::server {

/// A device credential that may be presented at login.
struct DeviceCredentialRecord
{
    QString userId;
    QString email; // of the account it was issued to (normalised)
    int failures = 0;
    qint64 rememberedUntil = 0; // > now: it satisfies the second factor (remember this device)
    QString deviceId;           // the public id of a remembered device
};

/// A remembered device as the account holder sees it (GET /api/account/devices).
struct RememberedDevice
{
    QString id;
    QString label; // "Firefox on Linux (desktop)"
    qint64 rememberedAt = 0;
    qint64 rememberedUntil = 0;
    qint64 lastUsedAt = 0;
    QString ipAddress; // where it was remembered
    QString place;
};

/// The `device_credentials` table (OWASP "device cookies"): random credentials handed to a client
/// after a successful sign-in, bound to the account. Only a SHA-256 of each is stored. All times
/// in milliseconds since the epoch.
class DeviceCredentialStore
{
public:
    explicit DeviceCredentialStore(Database& db) : m_db(db) {}

    /// A new credential: 256 random bits, base64url (43 characters).
    static QByteArray generate();
    static QByteArray hash(QByteArrayView credential);

    /// The credential's record if it is live (neither expired nor revoked), else nullopt.
    [[nodiscard]] Result<std::optional<DeviceCredentialRecord>> findLive(QByteArrayView credential,
                                                                         qint64 nowMs);
    /// Stores a new credential of `userId`, then drops that user's dead ones and all but the
    /// `keepPerUser` most recently used.
    [[nodiscard]] Result<void> insert(QByteArrayView credential, const QString& userId, qint64 nowMs,
                                      qint64 expiresAtMs, int keepPerUser);
    /// A successful sign-in with it: failures reset, lifetime extended. False when it is not a
    /// live credential of `userId`.
    [[nodiscard]] Result<bool> renew(QByteArrayView credential, const QString& userId, qint64 nowMs,
                                     qint64 expiresAtMs);
    /// A wrong password presented with it. True when this failure used up the budget of
    /// `maxFailures` in a row and revoked it.
    [[nodiscard]] Result<bool> recordFailure(QByteArrayView credential, qint64 nowMs, int maxFailures);

    /// Remember this device: the live credential `credential` of `userId` satisfies the second
    /// factor until `untilMs`. Gives the device's public id (kept if it was remembered already);
    /// empty when the credential is not a live one of `userId`.
    [[nodiscard]] Result<QString> remember(QByteArrayView credential, const QString& userId, qint64 nowMs,
                                           qint64 untilMs, const QString& label, const QString& ipAddress,
                                           const QString& place);
    /// The user's remembered devices whose period has not ended, most recently used first.
    [[nodiscard]] Result<std::vector<RememberedDevice>> listRemembered(const QString& userId, qint64 nowMs);
    /// Forgets one remembered device of `userId`; false when there is no such device.
    [[nodiscard]] Result<bool> forget(const QString& userId, const QString& deviceId);
    /// Forgets every remembered device of `userId` (password change, MFA reset, reuse detection);
    /// gives how many were remembered.
    [[nodiscard]] Result<int> forgetAll(const QString& userId, qint64 nowMs);

private:
    Database& m_db;
};

} // namespace ehrs::server
