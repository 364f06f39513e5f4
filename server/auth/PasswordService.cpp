// SPDX-License-Identifier: Apache-2.0
#include "PasswordService.h"

namespace ehrs::server {
namespace {
AuditActor actorOf(const QString& userId, const QString& sessionId, const RequestInfo& info)
{
    return AuditActor{userId, sessionId, info.ipAddress, info.userAgent};
}
} // namespace

Result<int> PasswordService::changePassword(const AuthContext& who, const QString& currentPassword,
                                            const QString& code, const QString& newPassword,
                                            const RequestInfo& info)
{
    auto user = d.reauthenticate(who, currentPassword, info, "password_change");
    if (!user)
        return fail(user.error());
    if (user->mfaEnabled) {
        const AuditActor actor = actorOf(who.userId, who.sessionId, info);
        if (code.isEmpty()) {
            d.audit.record(QStringLiteral("reauth_failure"), actor,
                           {{"action", "password_change"}, {"reason", "missing_code"}});
            return fail(
                ErrorCode::Forbidden,
                QStringLiteral("This needs a current code from your authenticator app (or a backup code)"));
        }
        if (auto ok = d.secondFactor(*user, code, actor, "password_change"); !ok)
            return fail(ok.error());
    }
    if (auto p = PasswordHasher::checkPolicy(newPassword); !p)
        return fail(p.error());
    if (newPassword == currentPassword)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("The new password must differ from the current one"));
    auto hash = d.hasher.hash(newPassword);
    if (!hash)
        return fail(hash.error());
    if (auto r = d.users.setPasswordHash(user->id, *hash, d.clock.nowMs()); !r)
        return fail(r.error());
    auto ended = d.revokeAllForUser(who.userId, QStringLiteral("password_changed"),
                                    actorOf(who.userId, who.sessionId, info), who.sessionId);
    if (!ended)
        return fail(ended.error());
    d.audit.record(QStringLiteral("password_changed"), actorOf(who.userId, who.sessionId, info),
                   {{"sessionsEnded", *ended}});
    return *ended;
}

} // namespace ehrs::server
