// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "mfa/MfaChallengeCodec.h"
#include "mfa/SecretBox.h"
#include "sessions/SessionService.h"

namespace ehrs::server {

/// TOTP enrolment (setup → enable with a code → backup codes), disabling with password + code,
/// the second login step, and password change. One instance per worker thread.
class MfaService
{
public:
    struct Enrolment
    {
        QString secretBase32;
        QString otpauthUri;
        QString issuer;
        QString account;
    };
    struct Deps
    {
        Database& db;
        UserStore& users;
        SessionService& sessions;
        KeyValueStore& store; // single-use challenge markers
        const PasswordHasher& hasher;
        AuditLog& audit;
        const Clock& clock;
        const MfaKeys& keys;
        const MfaChallengeCodec& challenges;
        RateLimiter* limiter;
        const ServerConfig& config;
    };
    explicit MfaService(Deps deps) : d(deps), m_box(deps.keys.totpEncryptionKey, deps.keys.totpPreviousKey) {}

    /// Login step 2: the challenge plus a TOTP code or a backup code starts the session.
    [[nodiscard]] Result<AuthTokens> verifyLogin(QByteArrayView mfaToken, const QString& code, const RequestInfo& info);

    [[nodiscard]] Result<Enrolment> setup(const AuthContext& who, const RequestInfo& info);
    /// Confirms enrolment with a code; returns the backup codes (shown once, stored hashed).
    [[nodiscard]] Result<QStringList> enable(const AuthContext& who, const QString& code, const RequestInfo& info);
    [[nodiscard]] Result<void> disable(const AuthContext& who, const QString& password, const QString& code,
                                       const RequestInfo& info);
    [[nodiscard]] Result<int> remainingBackupCodes(const QString& userId);

    /// Changes the caller's password after checking the current one; ends all other sessions.
    [[nodiscard]] Result<int> changePassword(const AuthContext& who, const QString& currentPassword,
                                             const QString& newPassword, const RequestInfo& info);

private:
    /// True when `code` is a current TOTP code (consumed) or an unused backup code (consumed).
    Result<bool> checkSecondFactor(const UserRecord& user, const QString& code);
    Result<UserRecord> currentUser(const AuthContext& who);

    Deps d;
    SecretBox m_box;
};

} // namespace ehrs::server
