// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "auth/MfaChallengeCodec.h"
#include "keys/SecretBox.h"
#include "sessions/SessionService.h"

namespace ehrs::server {

/// TOTP enrolment (setup with the password → enable with a code → backup codes), disabling with
/// password + code, the second login step, and the second factor of a password change
/// (account/PasswordChange). One instance per worker thread. The password checks of setup and disable
/// run on the hashing pool between the begin...() and finish...() halves (see
/// SessionService::beginReauth()).
///
/// Wrong second factors are limited twice: RATE_LIMIT_MFA_ACCOUNT per window, and
/// kConsecutiveFailureCap wrong codes in a row (NIST SP 800-63B §5.2.2 allows at most 100), after
/// which the second step is refused until IT runs `ehr-sessions-server user mfa-reset`. Only
/// someone who knew the password can reach the second step, so the lock needs a person to look.
class MfaService
{
public:
    static constexpr int kConsecutiveFailureCap = 20;

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
        AuditLog& audit;
        const Clock& clock;
        const MfaKeys& keys;
        const MfaChallengeCodec& challenges;
        RateLimiter* limiter;
        const ServerConfig& config;
    };
    explicit MfaService(Deps deps) : d(deps), m_box(deps.keys.totpEncryptionKey, deps.keys.totpPreviousKey) {}

    /// Login step 2 as it ended: the session's tokens (with the device credential to keep) and
    /// the id of the device when it was remembered.
    struct SecondStep
    {
        AuthTokens tokens;
        QString rememberedDeviceId;
    };
    /// Login step 2: the challenge plus a TOTP code or a backup code starts the session.
    /// `deviceCredential`: the one the client holds, if any (renewed, or a new one is issued);
    /// `rememberDevice`: remember this device for REMEMBER_DEVICE_DAYS, so that its credential
    /// satisfies the second factor until then (unless a sign-in is suspicious).
    [[nodiscard]] Result<SecondStep> verifyLogin(QByteArrayView mfaToken, const QString& code,
                                                 const RequestInfo& info,
                                                 const QString& deviceCredential = {},
                                                 bool rememberDevice = false);

    /// Starts enrolment after checking the current password: beginSetup() refuses an account with
    /// 2FA already on and starts the re-authentication; finishSetup() takes the password check's
    /// outcome.
    [[nodiscard]] Result<ReauthAttempt> beginSetup(const AuthContext& who, const QString& password,
                                                   const RequestInfo& info);
    [[nodiscard]] Result<Enrolment> finishSetup(const ReauthAttempt& attempt, bool passwordOk);
    /// Confirms enrolment with a code; returns the backup codes (shown once, stored hashed). Needs
    /// no password again: only the caller of setup() got the pending secret the code comes from.
    [[nodiscard]] Result<QStringList> enable(const AuthContext& who, const QString& code,
                                             const RequestInfo& info);
    /// Turns 2FA off with the password (checked between the halves) and a current code.
    [[nodiscard]] Result<ReauthAttempt> beginDisable(const AuthContext& who, const QString& password,
                                                     const RequestInfo& info);
    [[nodiscard]] Result<void> finishDisable(const ReauthAttempt& attempt, bool passwordOk,
                                             const QString& code);
    [[nodiscard]] Result<int> remainingBackupCodes(const QString& userId);
    /// New backup codes while 2FA stays on: the password (checked between the halves) and a
    /// current code (or a backup code); the earlier backup codes stop working.
    [[nodiscard]] Result<ReauthAttempt> beginNewBackupCodes(const AuthContext& who, const QString& password,
                                                            const RequestInfo& info);
    [[nodiscard]] Result<QStringList> finishNewBackupCodes(const ReauthAttempt& attempt, bool passwordOk,
                                                           const QString& code);

    /// The second factor of a step-up (`action`: password_change) after the password was checked:
    /// nothing when `user` has 2FA off; else `code` must be a current TOTP code or an unused backup
    /// code, rate-limited (RATE_LIMIT_MFA_ACCOUNT) and audited like disabling.
    [[nodiscard]] Result<void> confirmStepUp(const AuthContext& who, const UserRecord& user,
                                             const QString& code, const RequestInfo& info,
                                             const char* action);

private:
    enum class Verdict { Accepted, Wrong, TotpReplayed, BackupCodeReused };
    /// Accepted when `code` is a current TOTP code (consumed) or an unused backup code (consumed).
    Result<Verdict> checkSecondFactor(const UserRecord& user, const QString& code);
    /// checkSecondFactor() with the consecutive-failure cap and the audit of failures (reason
    /// wrong_code, totp_replayed or backup_code_reused); a wrong code is `wrongCodeError`.
    Result<void> secondFactor(const UserRecord& user, const QString& code, const AuditActor& actor,
                              const char* context, ErrorCode wrongCodeError);
    Result<void> hitMfaLimit(const QString& userId, const AuditActor& actor);
    Result<UserRecord> currentUser(const AuthContext& who);
    /// Replaces the user's backup codes with `codes` (stored hashed); inside the caller's transaction.
    /// Re-authentication for a change that needs two-step verification on (turning it off, new codes).
    Result<ReauthAttempt> beginReauthWithMfaOn(const AuthContext& who, const QString& password,
                                               const RequestInfo& info, const char* purpose);
    Result<void> storeBackupCodes(const QString& userId, const QStringList& codes, qint64 now);

    Deps d;
    SecretBox m_box;
};

} // namespace ehrs::server
