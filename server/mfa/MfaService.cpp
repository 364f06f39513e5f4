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

Result<MfaService::Verdict> MfaService::checkSecondFactor(const UserRecord& user, const QString& code)
{
    if (code.size() > 64)
        return Verdict::Wrong;
    if (looksLikeTotp(code)) {
        auto secret = m_box.open(user.totpSecretEnc, user.id.toLatin1());
        if (!secret)
            return fail(ErrorCode::Internal, QStringLiteral("stored TOTP secret cannot be opened"));
        const qint64 now = d.clock.nowSeconds();
        const auto step = Totp::verify(*secret, code, now, user.totpLastStep);
        if (!step) {
            // Right code, but of a step already used: someone saw or intercepted it.
            if (user.totpLastStep > 0 && Totp::verify(*secret, code, now, -1))
                return Verdict::TotpReplayed;
            return Verdict::Wrong;
        }
        auto consumed = d.users.consumeTotpStep(user.id, *step);
        if (!consumed)
            return fail(consumed.error());
        return *consumed ? Verdict::Accepted : Verdict::TotpReplayed; // false: used concurrently
    }
    // Salted entries cannot be looked up by hash: test each of the user's (at most ten) codes.
    auto q = d.db.exec(QStringLiteral("SELECT code_hash, used_at FROM user_backup_codes WHERE user_id = ?"),
                       {user.id});
    if (!q)
        return fail(q.error());
    QByteArray match;
    bool used = false;
    while ((*q)->next()) {
        const QByteArray stored = (*q)->value(0).toString().toLatin1();
        if (match.isEmpty() && BackupCodes::matches(d.keys.backupCodePepper, stored, code)) {
            match = stored;
            used = !(*q)->value(1).isNull();
        }
    }
    (*q)->finish();
    if (match.isEmpty())
        return Verdict::Wrong;
    if (used)
        return Verdict::BackupCodeReused;
    auto r = d.db.execute(
        QStringLiteral("UPDATE user_backup_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? "
                       "AND used_at IS NULL"),
        {d.clock.nowMs(), user.id, QString::fromLatin1(match)});
    if (!r)
        return fail(r.error());
    return *r == 1 ? Verdict::Accepted : Verdict::BackupCodeReused;
}

Result<void> MfaService::secondFactor(const UserRecord& user, const QString& code, const AuditActor& actor,
                                      const char* context, ErrorCode wrongCodeError)
{
    if (user.mfaFailedCount >= kConsecutiveFailureCap) {
        d.audit.record(QStringLiteral("mfa_failure"), actor, {{"reason", "locked"}, {"context", context}});
        return fail(ErrorCode::Forbidden,
                    QStringLiteral("Two-step verification is locked after too many wrong codes; "
                                   "ask IT to reset it"));
    }
    auto verdict = checkSecondFactor(user, code);
    if (!verdict)
        return fail(verdict.error());
    if (*verdict == Verdict::Accepted) {
        if (user.mfaFailedCount > 0)
            (void)d.users.clearMfaFailures(user.id);
        return {};
    }
    auto failures = d.users.recordMfaFailure(user.id);
    const char* reason = *verdict == Verdict::TotpReplayed       ? "totp_replayed"
                         : *verdict == Verdict::BackupCodeReused ? "backup_code_reused"
                                                                 : "wrong_code";
    d.audit.record(
        QStringLiteral("mfa_failure"), actor,
        {{"reason", reason}, {"context", context}, {"consecutiveFailures", failures ? *failures : -1}});
    if (failures && *failures == kConsecutiveFailureCap)
        d.audit.record(QStringLiteral("mfa_locked"), actor, {{"consecutiveFailures", *failures}});
    return fail(wrongCodeError, QStringLiteral("The code is not correct"));
}

Result<void> MfaService::hitMfaLimit(const QString& userId, const AuditActor& actor)
{
    if (!d.limiter)
        return {};
    if (auto r = d.limiter->hit("mfa", userId.toLatin1(), d.config.mfaPerAccount); !r) {
        d.audit.record(QStringLiteral("rate_limited"), actor, {{"scope", "mfa"}});
        return fail(r.error());
    }
    return {};
}

Result<MfaService::SecondStep> MfaService::verifyLogin(QByteArrayView mfaToken, const QString& code,
                                                       const RequestInfo& info,
                                                       const QString& deviceCredential, bool rememberDevice)
{
    auto challenge = d.challenges.verify(mfaToken, d.clock.nowSeconds());
    if (!challenge)
        return fail(challenge.error());
    if (auto r = hitMfaLimit(challenge->userId, actorOf(challenge->userId, {}, info)); !r)
        return fail(r.error());
    const QByteArray usedKey = "mfa:used:" + challenge->nonce;
    if (auto used = d.store.get({usedKey}); used && (*used)[0])
        return fail(ErrorCode::Unauthenticated, QStringLiteral("This sign-in step was already completed; sign in again"));
    auto user = d.users.findById(challenge->userId);
    if (!user)
        return fail(user.error());
    if (!*user || (*user)->disabled || !(*user)->mfaEnabled)
        return fail(ErrorCode::Unauthenticated,
                    QStringLiteral("The sign-in step expired or is invalid; sign in again"));
    if (auto ok =
            secondFactor(**user, code, actorOf((*user)->id, {}, info), "login", ErrorCode::Unauthenticated);
        !ok)
        return fail(ok.error());
    (void)d.store.apply(
        {{usedKey, QByteArrayLiteral("1"), int(challenge->expiresAt - d.clock.nowSeconds()) + 1}});
    d.audit.record(QStringLiteral("mfa_success"), actorOf((*user)->id, {}, info));
    const bool knownDevice = d.sessions.liveDeviceOf((*user)->id, deviceCredential).has_value();
    const QString credential = d.sessions.deviceCredentialAfterSignIn((*user)->id, deviceCredential);
    auto tokens = d.sessions.startSession(**user, challenge->device, info, challenge->deviceClass, !knownDevice);
    if (!tokens)
        return fail(tokens.error());
    tokens->deviceCredential = credential;
    SecondStep step{std::move(*tokens), {}};
    if (rememberDevice)
        step.rememberedDeviceId = d.sessions.rememberDevice((*user)->id, credential, challenge->device, info);
    return step;
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

Result<ReauthAttempt> MfaService::beginSetup(const AuthContext& who, const QString& password,
                                             const RequestInfo& info)
{
    auto current = currentUser(who);
    if (!current)
        return fail(current.error());
    if (current->mfaEnabled)
        return fail(ErrorCode::Conflict,
                    QStringLiteral("Two-factor authentication is already on; turn it off first"));
    // Enrolling an authenticator decides who can sign in from now on: an access token alone (or
    // any process that can ask the agent for one) must not be enough.
    return d.sessions.beginReauth(who, password, info, "mfa_setup");
}

Result<MfaService::Enrolment> MfaService::finishSetup(const ReauthAttempt& attempt, bool passwordOk)
{
    const AuthContext& who = attempt.who;
    const RequestInfo& info = attempt.info;
    auto user = d.sessions.finishReauth(attempt, passwordOk);
    if (!user)
        return fail(user.error());
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
    if (auto r = storeBackupCodes(user->id, codes, now); !r)
        return fail(r.error());
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    d.audit.record(QStringLiteral("mfa_enabled"), actorOf(who.userId, who.sessionId, info));
    return codes;
}

Result<ReauthAttempt> MfaService::beginReauthWithMfaOn(const AuthContext& who, const QString& password,
                                                       const RequestInfo& info, const char* purpose)
{
    auto current = currentUser(who);
    if (!current)
        return fail(current.error());
    if (!current->mfaEnabled)
        return fail(ErrorCode::Conflict, QStringLiteral("Two-factor authentication is not on"));
    return d.sessions.beginReauth(who, password, info, purpose);
}

Result<ReauthAttempt> MfaService::beginDisable(const AuthContext& who, const QString& password,
                                               const RequestInfo& info)
{
    return beginReauthWithMfaOn(who, password, info, "mfa_disable");
}

Result<void> MfaService::finishDisable(const ReauthAttempt& attempt, bool passwordOk, const QString& code)
{
    const AuthContext& who = attempt.who;
    const RequestInfo& info = attempt.info;
    auto user = d.sessions.finishReauth(attempt, passwordOk);
    if (!user)
        return fail(user.error());
    const AuditActor actor = actorOf(who.userId, who.sessionId, info);
    if (auto r = hitMfaLimit(user->id, actor); !r)
        return fail(r.error());
    if (auto ok = secondFactor(*user, code, actor, "mfa_disable", ErrorCode::Forbidden); !ok)
        return fail(ok.error());
    if (auto r = d.users.disableTotp(user->id, d.clock.nowMs()); !r)
        return fail(r.error());
    (void)d.db.execute(QStringLiteral("DELETE FROM user_backup_codes WHERE user_id = ?"), {user->id});
    d.audit.record(QStringLiteral("mfa_disabled"), actorOf(who.userId, who.sessionId, info));
    return {};
}

Result<void> MfaService::storeBackupCodes(const QString& userId, const QStringList& codes, qint64 now)
{
    if (auto r = d.db.execute(QStringLiteral("DELETE FROM user_backup_codes WHERE user_id = ?"), {userId});
        !r)
        return fail(r.error());
    for (const QString& c : codes) {
        auto r = d.db.execute(
            QStringLiteral("INSERT INTO user_backup_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)"),
            {userId, QString::fromLatin1(BackupCodes::seal(d.keys.backupCodePepper, c)), now});
        if (!r)
            return fail(r.error());
    }
    return {};
}

Result<ReauthAttempt> MfaService::beginNewBackupCodes(const AuthContext& who, const QString& password,
                                                      const RequestInfo& info)
{
    return beginReauthWithMfaOn(who, password, info, "backup_codes_regenerate");
}

Result<QStringList> MfaService::finishNewBackupCodes(const ReauthAttempt& attempt, bool passwordOk,
                                                     const QString& code)
{
    const AuthContext& who = attempt.who;
    auto user = d.sessions.finishReauth(attempt, passwordOk);
    if (!user)
        return fail(user.error());
    const AuditActor actor = actorOf(who.userId, who.sessionId, attempt.info);
    if (auto r = hitMfaLimit(user->id, actor); !r)
        return fail(r.error());
    if (auto ok = secondFactor(*user, code, actor, "backup_codes_regenerate", ErrorCode::Forbidden); !ok)
        return fail(ok.error());
    const QStringList codes = BackupCodes::generate(10);
    Transaction tx(d.db); // the old codes stop working exactly when the new ones are stored
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    if (auto r = storeBackupCodes(user->id, codes, d.clock.nowMs()); !r)
        return fail(r.error());
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    d.audit.record(QStringLiteral("backup_codes_regenerated"), actor);
    return codes;
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

Result<void> MfaService::confirmStepUp(const AuthContext& who, const UserRecord& user, const QString& code,
                                       const RequestInfo& info, const char* action)
{
    if (!user.mfaEnabled)
        return {};
    const AuditActor actor = actorOf(who.userId, who.sessionId, info);
    if (code.isEmpty()) {
        d.audit.record(QStringLiteral("reauth_failure"), actor,
                       {{"action", action}, {"reason", "missing_code"}});
        return fail(
            ErrorCode::Forbidden,
            QStringLiteral("This needs a current code from your authenticator app (or a backup code)"));
    }
    if (auto r = hitMfaLimit(user.id, actor); !r)
        return fail(r.error());
    return secondFactor(user, code, actor, action, ErrorCode::Forbidden);
}

} // namespace ehrs::server
