// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "WireModels.h"
#include "db/Database.h"

#include <optional>

namespace ehrs::server {

struct UserRecord
{
    QString id;
    QString email;
    QString name;
    QByteArray passwordHash;
    QString role;
    bool disabled = false;
    bool mfaEnabled = false;
    QByteArray totpSecretEnc;
    QByteArray totpPendingSecretEnc;
    qint64 totpLastStep = 0;
    int mfaFailedCount = 0;  // consecutive wrong second factors (reset by a right one)
    qint64 mfaChangedAt = 0; // ms; when 2FA was last turned on, off or reset (0: never)

    UserDto toDto() const { return UserDto{id, email, name, role, mfaEnabled}; }
};

/// The `users` table.
class UserStore
{
public:
    explicit UserStore(Database& db) : m_db(db) {}

    /// Emails are compared case-insensitively: stored trimmed and lower-case.
    static QString normalizeEmail(const QString& email) { return email.trimmed().toLower(); }
    [[nodiscard]] static Result<void> checkEmail(const QString& email);

    [[nodiscard]] Result<UserRecord> create(const QString& email, const QString& name,
                                            const QByteArray& passwordHash, const QString& role, qint64 nowMs,
                                            const QStringList& groups = {});
    /// Group names as stored: lower-case [a-z0-9][a-z0-9._-]{0,63}; an error names the bad one.
    [[nodiscard]] static Result<QStringList> parseGroups(const QString& text);
    /// Replaces the stored hash after a successful sign-in with an outdated one (an imported
    /// bcrypt hash), unless it changed meanwhile; false then.
    [[nodiscard]] Result<bool> upgradePasswordHash(const QString& id, const QByteArray& oldHash,
                                                   const QByteArray& newHash, qint64 nowMs);
    [[nodiscard]] Result<std::optional<UserRecord>> findByEmail(const QString& email);
    [[nodiscard]] Result<std::optional<UserRecord>> findById(const QString& id);
    [[nodiscard]] Result<void> setPasswordHash(const QString& id, const QByteArray& hash, qint64 nowMs);
    [[nodiscard]] Result<void> setDisabled(const QString& id, bool disabled, qint64 nowMs);
    [[nodiscard]] Result<void> setRole(const QString& id, const QString& role, qint64 nowMs);

    // TOTP enrolment (secrets arrive already sealed by SecretBox).
    [[nodiscard]] Result<void> setPendingTotp(const QString& id, const QByteArray& sealedSecret, qint64 nowMs);
    [[nodiscard]] Result<void> enableTotp(const QString& id, const QByteArray& sealedSecret, qint64 step, qint64 nowMs);
    [[nodiscard]] Result<void> disableTotp(const QString& id, qint64 nowMs);
    /// Records that the code of `step` was used; false when that step (or a later one) already was,
    /// which makes each code single-use even under concurrent requests.
    [[nodiscard]] Result<bool> consumeTotpStep(const QString& id, qint64 step);
    /// Counts one wrong second factor; the consecutive count after it.
    [[nodiscard]] Result<int> recordMfaFailure(const QString& id);
    [[nodiscard]] Result<void> clearMfaFailures(const QString& id);
    /// IT's way back (`user mfa-reset`): 2FA off, secret, pending enrolment, backup codes and the
    /// failure count gone.
    [[nodiscard]] Result<void> resetMfa(const QString& id, qint64 nowMs);

private:
    Result<std::optional<UserRecord>> findOne(const QString& where, const QVariant& value);
    Database& m_db;
};

} // namespace ehrs::server
