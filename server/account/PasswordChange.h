// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "mfa/MfaService.h"
#include "sessions/SessionService.h"

#include <optional>

namespace ehrs::server {

/// A password change between its two halves: the re-authentication begun, and what the caller
/// asked for.
struct PasswordChangeAttempt
{
    ReauthAttempt reauth;
    QString code; // the second factor, needed when 2FA is on
    QString newPassword;
};

/// What the hashing thread found: whether the current password is right and, when it is and the
/// new one is acceptable, the new one's hash.
struct PasswordChangeCheck
{
    bool currentOk = false;
    std::optional<Result<QByteArray>> newHash;
};

/// Changes the caller's password: the current password (and a code when 2FA is on) again, then
/// the new hash, and every other session of the account ends. Both argon2id runs (checking the
/// current password, hashing the new one: ~55 ms of CPU each) happen in check(), on the hashing
/// pool, between begin() and finish() on the worker. One instance per worker thread.
class PasswordChange
{
public:
    struct Deps
    {
        UserStore& users;
        SessionService& sessions;
        MfaService& mfa;
        AuditLog& audit;
        const Clock& clock;
    };
    explicit PasswordChange(Deps deps) : d(deps) {}

    /// Limits and the account (SessionService::beginReauth(), action password_change).
    [[nodiscard]] Result<PasswordChangeAttempt> begin(const AuthContext& who, const QString& currentPassword,
                                                      const QString& code, const QString& newPassword,
                                                      const RequestInfo& info);
    /// The CPU-heavy part, on any thread. The new password is hashed only when the current one is
    /// right and the new one passes the policy, so a refused change costs one argon2id run.
    static PasswordChangeCheck check(const PasswordChangeAttempt& attempt, const PasswordHasher& hasher);
    /// Audits a wrong password, then asks for the second factor, checks the new password and
    /// stores its hash; returns how many other sessions ended.
    [[nodiscard]] Result<int> finish(const PasswordChangeAttempt& attempt, const PasswordChangeCheck& check);

private:
    Deps d;
};

} // namespace ehrs::server
