// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "Result.h"
#include "audit/AuditLog.h"
#include "auth/AuthContext.h"
#include "auth/PasswordHasher.h"
#include "auth/UserStore.h"

#include <functional>

namespace ehrs::server {

/// Changing one's own password: the current password again, a second factor while 2FA is on,
/// the password policy, then the new hash, and every other session of the user ends. One
/// instance per worker thread.
///
/// The step-up checks and the ending of sessions belong to the layers above auth/ (sessions/,
/// mfa/): the wiring hands them in as functions, so that auth/ includes neither.
class PasswordService
{
public:
    struct Deps
    {
        UserStore& users;
        const PasswordHasher& hasher;
        AuditLog& audit;
        const Clock& clock;
        /// SessionService::reauthenticate(): the current password, rate-limited like logins.
        std::function<Result<UserRecord>(const AuthContext& who, const QString& password,
                                         const RequestInfo& info, const char* action)>
            reauthenticate;
        /// MfaService::stepUpSecondFactor(): a TOTP or backup code of a user with 2FA on.
        std::function<Result<void>(const UserRecord& user, const QString& code, const AuditActor& actor,
                                   const char* action)>
            secondFactor;
        /// SessionService::revokeAllForUser(): ends the user's sessions but `keepSessionId`.
        std::function<Result<int>(const QString& userId, const QString& reason, const AuditActor& actor,
                                  const QString& keepSessionId)>
            revokeAllForUser;
    };
    explicit PasswordService(Deps deps) : d(std::move(deps)) {}

    /// Changes the caller's password after checking the current one (and `code` when 2FA is on);
    /// ends all other sessions.
    [[nodiscard]] Result<int> changePassword(const AuthContext& who, const QString& currentPassword,
                                             const QString& code, const QString& newPassword,
                                             const RequestInfo& info);

private:
    Deps d;
};

} // namespace ehrs::server
