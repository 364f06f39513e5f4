// SPDX-License-Identifier: Apache-2.0
#include "MfaService.h"

#include "mfa/BackupCodes.h"
#include "mfa/Totp.h"

namespace ehrs::server {
namespace {
const QString kIssuer = QStringLiteral("EHR Sessions");

AuditActor actorOf(const QString& userId, const QString& sessionId, const RequestInfo& info)
{
    return AuditActor{userId, sessionId, info.ipAddress, info.userAgent};
}

bool looksLikeTotp(const QString& code)
{
    QString digits = code;
    digits.remove(u' ');
    if (digits.size() != 6)
        return false;
    for (QChar c : digits) {
        if (c < u'0' || c > u'9')
            return false;
    }
    return true;
}
} // namespace

Result<bool> MfaService::checkSecondFactor(const UserRecord& user, const QString& code)
{
    if (code.size() > 64)
        return false;
    if (looksLikeTotp(code)) {
        auto secret = m_box.open(user.totpSecretEnc, user.id.toLatin1());
        if (!secret)
            return fail(ErrorCode::Internal, QStringLiteral("stored TOTP secret cannot be opened"));
        const auto step = Totp::verify(*secret, code, d.clock.nowSeconds(), user.totpLastStep);
        if (!step)
            return false;
        return d.users.consumeTotpStep(user.id, *step); // false: used concurrently
    }
    const QByteArray hash = BackupCodes::hash(d.keys.backupCodePepper, code);
    auto r = d.db.execute(QStringLiteral("UPDATE user_backup_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? "
                                         "AND used_at IS NULL"),
                          {d.clock.nowMs(), user.id, QString::fromLatin1(hash)});
    if (!r)
        return fail(r.error());
    return *r == 1;
}

Result<AuthTokens> MfaService::verifyLogin(QByteArrayView mfaToken, const QString& code, const RequestInfo& info)
{
    auto challenge = d.challenges.verify(mfaToken, d.clock.nowSeconds());
    if (!challenge)
        return fail(challenge.error());
    if (d.limiter) {
        if (auto r = d.limiter->hit("mfa", challenge->userId.toLatin1(), d.config.mfaPerAccount); !r) {
            d.audit.record(QStringLiteral("rate_limited"), actorOf(challenge->userId, {}, info), {{"scope", "mfa"}});
            return fail(r.error());
        }
    }
    const QByteArray usedKey = "mfa:used:" + challenge->nonce;
    if (auto used = d.store.get({usedKey}); used && (*used)[0])
        return fail(ErrorCode::Unauthenticated, QStringLiteral("This sign-in step was already completed; sign in again"));
    auto user = d.users.findById(challenge->userId);
    if (!user)
        return fail(user.error());
    if (!*user || (*user)->disabled || !(*user)->mfaEnabled)
        return fail(ErrorCode::Unauthenticated, QStringLiteral("The sign-in step expired or is invalid; sign in again"));
    auto ok = checkSecondFactor(**user, code);
    if (!ok)
        return fail(ok.error());
    if (!*ok) {
        d.audit.record(QStringLiteral("mfa_failure"), actorOf((*user)->id, {}, info));
        return fail(ErrorCode::Unauthenticated, QStringLiteral("The code is not correct"));
    }
    (void)d.store.apply({{usedKey, QByteArrayLiteral("1"), int(challenge->expiresAt - d.clock.nowSeconds()) + 1}});
    d.audit.record(QStringLiteral("mfa_success"), actorOf((*user)->id, {}, info));
    return d.sessions.startSession(**user, challenge->device, info);
}

Result<UserRecord> MfaService::currentUser(const AuthContext& who)
{
    auto user = d.users.findById(who.userId);
    if (!user)
        return fail(user.error());
    if (!*user)
        return fail(ErrorCode::Unauthenticated, QStringLiteral("No such user"));
    return **user;
}

Result<MfaService::Enrolment> MfaService::setup(const AuthContext& who, const RequestInfo& info)
{
    auto user = currentUser(who);
    if (!user)
        return fail(user.error());
    if (user->mfaEnabled)
        return fail(ErrorCode::Conflict, QStringLiteral("Two-factor authentication is already on; turn it off first"));
    const QByteArray secret = Totp::generateSecret();
    auto sealed = m_box.seal(secret, user->id.toLatin1());
    if (!sealed)
        return fail(sealed.error());
    if (auto r = d.users.setPendingTotp(user->id, *sealed, d.clock.nowMs()); !r)
        return fail(r.error());
    d.audit.record(QStringLiteral("mfa_setup_started"), actorOf(who.userId, who.sessionId, info));
    return Enrolment{Totp::base32Encode(secret), Totp::otpauthUri(secret, user->email, kIssuer), kIssuer, user->email};
}

Result<QStringList> MfaService::enable(const AuthContext& who, const QString& code, const RequestInfo& info)
{
    auto user = currentUser(who);
    if (!user)
        return fail(user.error());
    if (user->mfaEnabled)
        return fail(ErrorCode::Conflict, QStringLiteral("Two-factor authentication is already on"));
    if (user->totpPendingSecretEnc.isEmpty())
        return fail(ErrorCode::Conflict, QStringLiteral("Start with /api/auth/mfa/setup"));
    auto secret = m_box.open(user->totpPendingSecretEnc, user->id.toLatin1());
    if (!secret)
        return fail(ErrorCode::Internal, QStringLiteral("stored TOTP secret cannot be opened"));
    const auto step = Totp::verify(*secret, code, d.clock.nowSeconds(), -1);
    if (!step) {
        d.audit.record(QStringLiteral("mfa_enable_failure"), actorOf(who.userId, who.sessionId, info));
        return fail(ErrorCode::InvalidRequest, QStringLiteral("The code is not correct; check the device's clock"));
    }
    const QStringList codes = BackupCodes::generate(10);
    const qint64 now = d.clock.nowMs();
    Transaction tx(d.db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    if (auto r = d.users.enableTotp(user->id, user->totpPendingSecretEnc, *step, now); !r)
        return fail(r.error());
    if (auto r = d.db.execute(QStringLiteral("DELETE FROM user_backup_codes WHERE user_id = ?"), {user->id}); !r)
        return fail(r.error());
    for (const QString& c : codes) {
        auto r = d.db.execute(QStringLiteral("INSERT INTO user_backup_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)"),
                              {user->id, QString::fromLatin1(BackupCodes::hash(d.keys.backupCodePepper, c)), now});
        if (!r)
            return fail(r.error());
    }
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    d.audit.record(QStringLiteral("mfa_enabled"), actorOf(who.userId, who.sessionId, info));
    return codes;
}

Result<void> MfaService::disable(const AuthContext& who, const QString& password, const QString& code,
                                 const RequestInfo& info)
{
    auto user = currentUser(who);
    if (!user)
        return fail(user.error());
    if (!user->mfaEnabled)
        return fail(ErrorCode::Conflict, QStringLiteral("Two-factor authentication is not on"));
    if (d.limiter) {
        if (auto r = d.limiter->hit("mfa", user->id.toLatin1(), d.config.mfaPerAccount); !r)
            return fail(r.error());
    }
    if (!d.hasher.verify(user->passwordHash, password)) {
        d.audit.record(QStringLiteral("reauth_failure"), actorOf(who.userId, who.sessionId, info), {{"action", "mfa_disable"}});
        return fail(ErrorCode::Forbidden, QStringLiteral("The password is not correct"));
    }
    auto ok = checkSecondFactor(*user, code);
    if (!ok)
        return fail(ok.error());
    if (!*ok)
        return fail(ErrorCode::Forbidden, QStringLiteral("The code is not correct"));
    if (auto r = d.users.disableTotp(user->id, d.clock.nowMs()); !r)
        return fail(r.error());
    (void)d.db.execute(QStringLiteral("DELETE FROM user_backup_codes WHERE user_id = ?"), {user->id});
    d.audit.record(QStringLiteral("mfa_disabled"), actorOf(who.userId, who.sessionId, info));
    return {};
}

Result<int> MfaService::remainingBackupCodes(const QString& userId)
{
    auto q = d.db.exec(QStringLiteral("SELECT COUNT(*) FROM user_backup_codes WHERE user_id = ? AND used_at IS NULL"),
                       {userId});
    if (!q)
        return fail(q.error());
    const int n = (*q)->next() ? (*q)->value(0).toInt() : 0;
    (*q)->finish();
    return n;
}

Result<int> MfaService::changePassword(const AuthContext& who, const QString& currentPassword,
                                       const QString& newPassword, const RequestInfo& info)
{
    auto user = currentUser(who);
    if (!user)
        return fail(user.error());
    if (!d.hasher.verify(user->passwordHash, currentPassword)) {
        d.audit.record(QStringLiteral("reauth_failure"), actorOf(who.userId, who.sessionId, info), {{"action", "password_change"}});
        return fail(ErrorCode::Forbidden, QStringLiteral("The current password is not correct"));
    }
    if (auto p = PasswordHasher::checkPolicy(newPassword); !p)
        return fail(p.error());
    if (newPassword == currentPassword)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("The new password must differ from the current one"));
    auto hash = d.hasher.hash(newPassword);
    if (!hash)
        return fail(hash.error());
    if (auto r = d.users.setPasswordHash(user->id, *hash, d.clock.nowMs()); !r)
        return fail(r.error());
    auto ended = d.sessions.revokeAllForUser(who.userId, QStringLiteral("password_changed"),
                                             actorOf(who.userId, who.sessionId, info), who.sessionId);
    if (!ended)
        return fail(ended.error());
    d.audit.record(QStringLiteral("password_changed"), actorOf(who.userId, who.sessionId, info), {{"sessionsEnded", *ended}});
    return *ended;
}

} // namespace ehrs::server
