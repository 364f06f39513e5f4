// SPDX-License-Identifier: Apache-2.0
#include "PasswordChange.h"

namespace ehrs::server {

Result<PasswordChangeAttempt> PasswordChange::begin(const AuthContext& who, const QString& currentPassword,
                                                    const QString& code, const QString& newPassword,
                                                    const RequestInfo& info)
{
    auto reauth = d.sessions.beginReauth(who, currentPassword, info, "password_change");
    if (!reauth)
        return fail(reauth.error());
    return PasswordChangeAttempt{std::move(*reauth), code, newPassword};
}

PasswordChangeCheck PasswordChange::check(const PasswordChangeAttempt& attempt, const PasswordHasher& hasher)
{
    PasswordChangeCheck out;
    out.currentOk = attempt.reauth.checkPassword(hasher);
    if (out.currentOk && PasswordHasher::checkPolicy(attempt.newPassword) &&
        attempt.newPassword != attempt.reauth.password)
        out.newHash = hasher.hash(attempt.newPassword);
    return out;
}

Result<int> PasswordChange::finish(const PasswordChangeAttempt& attempt, const PasswordChangeCheck& check)
{
    const AuthContext& who = attempt.reauth.who;
    const RequestInfo& info = attempt.reauth.info;
    auto user = d.sessions.finishReauth(attempt.reauth, check.currentOk);
    if (!user)
        return fail(user.error());
    if (auto ok = d.mfa.confirmStepUp(who, *user, attempt.code, info, "password_change"); !ok)
        return fail(ok.error());
    if (auto p = PasswordHasher::checkPolicy(attempt.newPassword); !p)
        return fail(p.error());
    if (attempt.newPassword == attempt.reauth.password)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("The new password must differ from the current one"));
    if (!check.newHash)
        return fail(ErrorCode::Internal, QStringLiteral("the new password was not hashed"));
    if (!*check.newHash)
        return fail(check.newHash->error());
    if (auto r = d.users.setPasswordHash(user->id, **check.newHash, d.clock.nowMs()); !r)
        return fail(r.error());
    const AuditActor actor{who.userId, who.sessionId, info.ipAddress, info.userAgent};
    auto ended =
        d.sessions.revokeAllForUser(who.userId, QStringLiteral("password_changed"), actor, who.sessionId);
    if (!ended)
        return fail(ended.error());
    d.audit.record(QStringLiteral("password_changed"), actor, {{"sessionsEnded", *ended}});
    return *ended;
}

} // namespace ehrs::server
