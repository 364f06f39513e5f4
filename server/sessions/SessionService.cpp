// SPDX-License-Identifier: Apache-2.0
#include "SessionService.h"

#include "Logging.h"
#include "UserAgentParser.h"
#include "auth/EmailPseudonym.h"
#include "risk/DeviceLabel.h"
#include "risk/SignInHistory.h"

#include <QHostAddress>
#include <QUuid>

namespace ehrs::server {
namespace {
constexpr qint64 kActivityGranularityMs = 60'000; // how stale last_activity_at may get while tokens are cached
// Bound on how long a live-table entry is trusted without asking the database again; covers an
// instance whose own Redis connection failed while it published (its peers' feeds stayed up).
constexpr qint64 kLiveEntryMaxAgeMs = 30'000;
// Device credentials kept per user (most recently used first): one per device a person uses.
constexpr int kDeviceCredentialsPerUser = 20;

Error invalidCredentials()
{
    // One answer for unknown email, wrong password and disabled account.
    return Error{ErrorCode::Unauthenticated, QStringLiteral("Invalid email or password")};
}

/// "15 minutes", "12 hours", "1 minute", "45 seconds".
QString durationWords(qint64 seconds)
{
    auto unit = [](qint64 n, const char* one, const char* many) {
        return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? one : many));
    };
    if (seconds >= 3600 && seconds % 3600 == 0)
        return unit(seconds / 3600, "hour", "hours");
    if (seconds >= 60 && (seconds % 60 == 0 || seconds >= 600))
        return unit((seconds + 30) / 60, "minute", "minutes");
    return unit(seconds, "second", "seconds");
}

Error idleExpired(qint64 idleMs)
{
    return Error{ErrorCode::SessionExpired,
                 QStringLiteral("This session ended after %1 without activity; sign in again")
                     .arg(durationWords(idleMs / 1000))};
}

Error revokedError(const QString& reason, int sessionLimit = 0)
{
    if (reason == u"session_limit")
        return Error{
            ErrorCode::SessionRevoked,
            sessionLimit > 0
                ? QStringLiteral("Signed out because you signed in on another device (limit: %1 %2)")
                      .arg(sessionLimit)
                      .arg(sessionLimit == 1 ? QStringLiteral("session") : QStringLiteral("sessions"))
                : QStringLiteral("Signed out because you signed in on another device")};
    if (reason == u"refresh_token_reused")
        return Error{ErrorCode::RefreshReused,
                     QStringLiteral("This session was ended because an old refresh token was used again")};
    // The message says what happened when the database row says it (revoke_reason); the cache
    // and the revocation feed know only that the session ended, and then it claims no cause.
    if (reason == u"logout")
        return Error{ErrorCode::SessionRevoked, QStringLiteral("This session was signed out")};
    if (reason == u"revoked_by_user")
        return Error{ErrorCode::SessionRevoked, QStringLiteral("This session was ended from another device")};
    if (reason == u"password_changed")
        return Error{ErrorCode::SessionRevoked,
                     QStringLiteral("This session was ended because the account's password was changed")};
    if (reason == u"revoked_by_admin" || reason == u"user_disabled" || reason == u"mfa_reset")
        return Error{ErrorCode::SessionRevoked, QStringLiteral("This session was ended by IT")};
    return Error{ErrorCode::SessionRevoked, QStringLiteral("This session has ended")};
}

/// Why the cache's word on an access token ends it (Revoked or Rotated).
Error deadTokenError(SessionCache::AccessState state)
{
    if (state == SessionCache::AccessState::Rotated)
        return Error{ErrorCode::Unauthenticated, QStringLiteral("Access token was replaced by a refresh")};
    return revokedError({});
}

QByteArray bearerToken(QByteArrayView header)
{
    const QByteArray h = header.toByteArray().trimmed();
    if (h.size() < 8 || h.left(7).toLower() != "bearer ")
        return {};
    return h.mid(7).trimmed();
}

AuditActor actorOf(const QString& userId, const QString& sessionId, const RequestInfo& info)
{
    return AuditActor{userId, sessionId, info.ipAddress, info.userAgent};
}
} // namespace

SessionService::SessionService(Deps deps)
    : d(deps), m_auditEmailKey(EmailPseudonym::keyFrom(deps.config.jwtSecret))
{
}

bool SessionService::isPreviousToken(const SessionRecord& s, qint64 issuedAtSeconds,
                                     const QByteArray& accessHash, qint64 nowMs) const
{
    // The previous generation's token is reproducible (deterministic jti and signature): no
    // column holds its hash. Only within the overlap after the rotation that replaced it.
    if (s.generation == 0 || nowMs - s.rotatedAt > SessionCache::kRotationOverlapMs || s.revokedAt)
        return false;
    return TokenService::hash(d.tokens.accessToken(s.userId, s.id, s.generation - 1, issuedAtSeconds)) ==
           accessHash;
}

qint64 SessionService::idleMsOf(const SessionRecord& s) const
{
    return s.idleTimeoutMs > 0 ? s.idleTimeoutMs : qint64(d.config.idleTimeout) * 1000;
}

/// The session limit of the policy that ended `s` (session_limit), from its stored policy.
static int limitOf(const SessionRecord& s)
{
    const auto j = nlohmann::json::parse(s.policy.begin(), s.policy.end(), nullptr, false);
    return j.is_object() ? j.value("maxSessions", 0) : 0;
}

int SessionService::remainingAccessLife(const SessionRecord& s) const
{
    const qint64 left = s.rotatedAt / 1000 + d.tokens.accessTtl() - d.clock.nowSeconds();
    return int(qBound<qint64>(0, left + 1, qint64(d.tokens.accessTtl()) + 1));
}

void SessionService::addPlace(nlohmann::json& details, const RequestInfo& info) const
{
    // Where the sign-in came from in words (IT's NETWORK_LOCATIONS name, or GeoIP's city), for
    // whoever reads the audit later; the address itself is in the row already.
    if (!d.geo)
        return;
    if (const QString place = d.geo->locate(info.ipAddress); !place.isEmpty())
        details["place"] = place.toStdString();
}

void SessionService::endSessionInCache(const SessionRecord& s, QByteArrayView reason,
                                       std::function<void()> done)
{
    if (d.metrics)
        d.metrics->revoked(reason);
    d.cache.revoked(s.id, s.accessHash, s.refreshHash, remainingAccessLife(s), std::move(done));
}

Result<void> SessionService::limit(Result<void> verdict, const char* scope, const QByteArray& subject,
                                   const AuditActor& actor)
{
    if (verdict)
        return {};
    if (d.metrics)
        d.metrics->rateLimited(scope);
    const qint64 now = d.clock.nowMs();
    const QByteArray key = QByteArray(scope) + ':' + subject;
    if (m_limitAuditedUntil.value(key) > now)
        return verdict; // already audited in this window: a flood must not become a flood of rows
    if (m_limitAuditedUntil.size() > 10000)
        m_limitAuditedUntil.clear();
    m_limitAuditedUntil.insert(key, now + qint64(verdict.error().retryAfterSeconds) * 1000);
    d.audit.record(QStringLiteral("rate_limited"), actor,
                   {{"scope", scope}, {"retryAfter", verdict.error().retryAfterSeconds}});
    return verdict;
}

bool LoginAttempt::checkPassword(const PasswordHasher& hasher) const
{
    if (!user) {
        hasher.verifyDummy(request.password);
        return false;
    }
    return hasher.verify(user->passwordHash, request.password);
}

Result<LoginResult> SessionService::login(const LoginRequest& request, const RequestInfo& info)
{
    auto attempt = beginLogin(request, info);
    if (!attempt)
        return fail(attempt.error());
    return finishLogin(*attempt, attempt->checkPassword(d.hasher));
}

Result<LoginAttempt> SessionService::beginLogin(const LoginRequest& request, const RequestInfo& info)
{
    LoginAttempt attempt{request, info, d.clock.nowMs(), std::nullopt, std::nullopt};
    const QByteArray account = RateLimiter::accountSubject(request.email);
    const QByteArray address = RateLimiter::addressSubject(info.ipAddress);
    // A live device credential of this very account (OWASP "device cookies"): its holder signed in
    // here before, so the limits that unknown clients share do not apply to it; it has a failure
    // budget of its own instead. A credential of another account counts for nothing.
    if (d.devices && !request.deviceCredential.isEmpty()) {
        auto found = d.devices->findLive(request.deviceCredential.toUtf8(), attempt.now);
        if (!found)
            return fail(found.error());
        if (*found && (*found)->email == UserStore::normalizeEmail(request.email))
            attempt.device = **found;
    }
    if (d.limiter && !attempt.device) {
        if (auto r = limit(d.limiter->hit("login-ip", address, d.config.loginPerIp), "login-ip", address,
                           actorOf({}, {}, info));
            !r)
            return fail(r.error());
        if (auto r = limit(d.limiter->check("login-account", account, d.config.loginPerAccount), "login-account",
                           account, actorOf({}, {}, info));
            !r)
            return fail(r.error());
    }
    auto user = d.users.findByEmail(request.email);
    if (!user)
        return fail(user.error());
    attempt.user = std::move(*user);
    return attempt;
}

Error SessionService::loginRefused(const LoginAttempt& attempt) const
{
    // The last few wrong passwords before the account's limit pauses sign-in are counted down.
    // Unknown emails, wrong passwords and disabled accounts share the count (countLoginFailure()
    // keys it by the typed email), so the answer is the same for all three: no account oracle.
    Error e = invalidCredentials();
    if (attempt.device || !d.limiter)
        return e; // a known device has its own budget, and no lock-out to announce
    const std::optional<int> left = d.limiter->remaining(
        "login-account", RateLimiter::accountSubject(attempt.request.email), d.config.loginPerAccount);
    if (left && *left <= kAttemptsLeftShownFrom)
        e.attemptsLeft = *left;
    return e;
}

QString SessionService::placeOf(const QString& ipAddress) const
{
    return d.geo ? d.geo->locate(ipAddress) : QString();
}

void SessionService::countLoginFailure(const LoginAttempt& attempt, const QString& userId)
{
    if (attempt.device) {
        auto revoked = d.devices->recordFailure(attempt.request.deviceCredential.toUtf8(), attempt.now,
                                                d.config.deviceCredentialMaxFailures);
        if (revoked && *revoked)
            d.audit.record(QStringLiteral("device_credential_revoked"), actorOf(userId, {}, attempt.info),
                           {{"reason", "too_many_failures"}, {"failures", d.config.deviceCredentialMaxFailures}});
    } else if (d.limiter) {
        (void)d.limiter->hit("login-account", RateLimiter::accountSubject(attempt.request.email),
                             d.config.loginPerAccount);
    }
}

void SessionService::upgradePasswordHash(const UserRecord& u, const QString& password,
                                         const RequestInfo& info)
{
    // An imported user's first sign-in (a bcrypt hash from the replaced system), or older argon2id
    // parameters: the password was just verified, so store it as argon2id now. Not fatal: the old
    // hash still verifies, and the next sign-in tries again.
    const auto from =
        PasswordHasher::formatOf(u.passwordHash) == PasswordHasher::Format::Bcrypt ? "bcrypt" : "argon2id";
    auto hash = d.hasher.hash(password);
    if (!hash) {
        qCWarning(lcSessions) << "cannot rehash the password of user" << u.id << ":" << hash.error().message;
        return;
    }
    auto upgraded = d.users.upgradePasswordHash(u.id, u.passwordHash, *hash, d.clock.nowMs());
    if (!upgraded) {
        qCWarning(lcSessions) << "cannot store the rehashed password of user" << u.id << ":"
                              << upgraded.error().message;
        return;
    }
    if (*upgraded)
        d.audit.record(QStringLiteral("password_rehashed"), actorOf(u.id, {}, info), {{"from", from}});
}

Result<LoginResult> SessionService::finishLogin(const LoginAttempt& attempt, bool passwordOk)
{
    const LoginRequest& request = attempt.request;
    const RequestInfo& info = attempt.info;
    if (!attempt.user) {
        // Never the typed text: it may be a password typed into the wrong box.
        d.audit.record(
            QStringLiteral("login_failure"), actorOf({}, {}, info),
            {{"reason", "unknown_email"},
             {"emailPseudonym", EmailPseudonym::of(m_auditEmailKey, request.email).toStdString()}});
        countLoginFailure(attempt, {});
        if (d.metrics)
            d.metrics->login("failure");
        return fail(loginRefused(attempt));
    }
    const UserRecord& u = *attempt.user;
    if (!passwordOk || u.disabled) {
        nlohmann::json details{{"reason", u.disabled ? "disabled" : "wrong_password"},
                               {"deviceCredential", attempt.device.has_value()}};
        addPlace(details, info);
        d.audit.record(QStringLiteral("login_failure"), actorOf(u.id, {}, info), details);
        countLoginFailure(attempt, u.id);
        if (d.metrics)
            d.metrics->login("failure");
        return fail(loginRefused(attempt));
    }
    if (d.hasher.needsRehash(u.passwordHash))
        upgradePasswordHash(u, request.password, info);
    if (!u.mfaEnabled) {
        // A policy that requires two-step verification: no session without it (see
        // docs/workstation-policy.md for how such a user enrols).
        auto policy = policyFor(u.id, attempt.deviceClass, info);
        if (!policy)
            return fail(policy.error());
        if (policy->mfaRequired) {
            d.audit.record(QStringLiteral("login_refused"), actorOf(u.id, {}, info),
                           {{"reason", "mfa_required"}, {"deviceClass", policy->deviceClass.toStdString()}});
            if (d.metrics)
                d.metrics->login("failure");
            return fail(
                ErrorCode::Forbidden,
                QStringLiteral("Your organisation requires two-step verification for your account on this "
                               "device. Set it up first: sign in with the EHR Sessions app on your own "
                               "(personal) device and turn on two-step verification under Security, or "
                               "ask IT; then sign in here again"));
        }
    }
    const bool knownDevice = attempt.device.has_value();
    const bool secondFactor = u.mfaEnabled && d.mfaChallenges;
    // Remember this device: a live credential of this account, remembered after a second factor,
    // stands in for it, unless the sign-in is suspicious (step-up).
    const bool remembered = secondFactor && knownDevice && d.config.rememberDeviceDays > 0 &&
                            attempt.device->rememberedUntil > attempt.now;
    const RiskAssessment risk = assessSignIn(u, info, knownDevice, secondFactor);
    if (secondFactor && (!remembered || risk.suspicious)) {
        d.audit.record(QStringLiteral("login_password_ok_mfa_required"), actorOf(u.id, {}, info),
                       remembered ? nlohmann::json{{"stepUp", true}} : nlohmann::json::object());
        MfaChallenge challenge;
        challenge.mfaToken = QString::fromLatin1(
            d.mfaChallenges->issue(u.id, request.deviceInfo, d.clock.nowSeconds(), attempt.deviceClass));
        challenge.methods = {QStringLiteral("totp"), QStringLiteral("backup_code")};
        if (d.metrics)
            d.metrics->login("mfa_required");
        return LoginResult(std::move(challenge));
    }
    if (remembered)
        d.audit.record(QStringLiteral("mfa_remembered_device"), actorOf(u.id, {}, info),
                       {{"deviceId", attempt.device->deviceId.toStdString()}});
    // Before the session: its writes then do not eat into the new access token's life.
    const QString deviceCredential = deviceCredentialAfterSignIn(u.id, request.deviceCredential);
    auto tokens = startSession(u, request.deviceInfo, info, attempt.deviceClass, !knownDevice);
    if (!tokens)
        return fail(tokens.error());
    tokens->deviceCredential = deviceCredential;
    return LoginResult(std::move(*tokens));
}

Result<std::vector<RememberedDevice>> SessionService::rememberedDevices(const AuthContext& who)
{
    if (!d.devices)
        return std::vector<RememberedDevice>();
    return d.devices->listRemembered(who.userId, d.clock.nowMs());
}

Result<void> SessionService::forgetDevice(const AuthContext& who, const QString& deviceId,
                                          const RequestInfo& info)
{
    if (!d.devices)
        return fail(ErrorCode::NotFound, QStringLiteral("No such remembered device"));
    auto forgotten = d.devices->forget(who.userId, deviceId);
    if (!forgotten)
        return fail(forgotten.error());
    if (!*forgotten)
        return fail(ErrorCode::NotFound, QStringLiteral("No such remembered device"));
    d.audit.record(QStringLiteral("device_forgotten"), actorOf(who.userId, who.sessionId, info),
                   {{"deviceId", deviceId.toStdString()}});
    return {};
}

RiskAssessment SessionService::assessSignIn(const UserRecord& user, const RequestInfo& info, bool knownDevice,
                                            bool stepUp)
{
    const qint64 now = d.clock.nowMs();
    auto signals = SignInHistory(d.db, d.geo, &parseUserAgent)
                       .gather(user.id, info.ipAddress, info.userAgent, knownDevice, now,
                               d.config.suspiciousFailureWindow);
    if (!signals) {
        qCWarning(lcSessions) << "cannot score the sign-in of user" << user.id << ":"
                              << signals.error().message;
        return {};
    }
    RiskPolicy policy;
    policy.threshold = d.config.suspiciousThreshold;
    policy.maxKmh = d.config.suspiciousMaxKmh;
    policy.failureBurst = d.config.suspiciousFailureBurst;
    RiskAssessment risk = SignInRisk::assess(*signals, policy);
    if (!risk.suspicious)
        return risk;
    nlohmann::json reasons = nlohmann::json::array();
    for (const QString& r : risk.reasons)
        reasons.push_back(r.toStdString());
    nlohmann::json codes = nlohmann::json::array();
    for (const QString& c : risk.signals)
        codes.push_back(c.toStdString());
    nlohmann::json details{{"score", risk.score},
                           {"signals", codes},
                           {"reasons", reasons},
                           {"stepUp", stepUp},
                           {"deviceLabel", deviceLabel(parseUserAgent(info.userAgent)).toStdString()}};
    addPlace(details, info);
    d.audit.record(QStringLiteral("suspicious_login"), actorOf(user.id, {}, info), details, now);
    if (d.metrics)
        d.metrics->login("suspicious");
    return risk;
}

std::optional<DeviceCredentialRecord> SessionService::liveDeviceOf(const QString& userId,
                                                                   const QString& presented)
{
    if (!d.devices || presented.isEmpty())
        return std::nullopt;
    auto found = d.devices->findLive(presented.toUtf8(), d.clock.nowMs());
    if (!found || !*found || (*found)->userId != userId)
        return std::nullopt;
    return **found;
}

QString SessionService::rememberDevice(const QString& userId, const QString& credential,
                                       const std::optional<DeviceInfo>& device, const RequestInfo& info)
{
    if (!d.devices || credential.isEmpty() || d.config.rememberDeviceDays <= 0)
        return {};
    const qint64 now = d.clock.nowMs();
    const QString label = deviceLabel(device ? *device : parseUserAgent(info.userAgent));
    auto id = d.devices->remember(credential.toUtf8(), userId, now,
                                  now + qint64(d.config.rememberDeviceDays) * 86'400'000, label,
                                  info.ipAddress, placeOf(info.ipAddress));
    if (!id) {
        qCWarning(lcSessions) << "cannot remember a device:" << id.error().message;
        return {};
    }
    if (!id->isEmpty())
        d.audit.record(QStringLiteral("device_remembered"), actorOf(userId, {}, info),
                       {{"deviceId", id->toStdString()}, {"days", d.config.rememberDeviceDays}}, now);
    return *id;
}

QString SessionService::deviceCredentialAfterSignIn(const QString& userId, const QString& presented)
{
    if (!d.devices)
        return {};
    const qint64 now = d.clock.nowMs();
    const qint64 expiresAt = now + qint64(d.config.deviceCredentialTtl) * 1000;
    if (!presented.isEmpty()) {
        auto renewed = d.devices->renew(presented.toUtf8(), userId, now, expiresAt);
        if (renewed && *renewed)
            return presented;
    }
    const QByteArray fresh = DeviceCredentialStore::generate();
    Transaction tx(d.db); // one commit for the row and the pruning
    auto r = tx.begin();
    if (r)
        r = d.devices->insert(fresh, userId, now, expiresAt, kDeviceCredentialsPerUser);
    if (r)
        r = tx.commit();
    if (!r) {
        // The sign-in stands; the client just stays an unknown one for the next login.
        qCWarning(lcSessions) << "cannot store a device credential:" << r.error().message;
        return {};
    }
    return QString::fromLatin1(fresh);
}

Result<SessionPolicy> SessionService::policyFor(const QString& userId, const QString& claimedClass,
                                                const RequestInfo& info)
{
    auto deviceClass =
        PolicyResolver::deviceClassOf(claimedClass, info.ipAddress, d.config.sharedWorkstationNetworks);
    if (!deviceClass)
        return fail(deviceClass.error());
    const PolicyResolver::Defaults defaults{d.config.idleTimeout, d.config.refreshTokenTtl};
    if (!d.policies)
        return PolicyResolver::resolve(defaults, {}, {}, *deviceClass);
    auto groups = d.policies->groupsOf(userId);
    if (!groups)
        return fail(groups.error());
    auto rules = d.policies->all();
    if (!rules)
        return fail(rules.error());
    return PolicyResolver::resolve(defaults, *rules, *groups, *deviceClass);
}

nlohmann::json SessionService::policyJsonOf(const QByteArray& stored, const QString& deviceClass) const
{
    if (auto p = SessionPolicy::fromJson(nlohmann::json::parse(stored.begin(), stored.end(), nullptr, false)))
        return p->toJson();
    // A session from before policies: the server-wide settings.
    return PolicyResolver::resolve({d.config.idleTimeout, d.config.refreshTokenTtl}, {}, {},
                                   deviceClass.isEmpty() ? deviceclass::personal : deviceClass)
        .toJson();
}

Result<nlohmann::json> SessionService::sessionPolicy(const QString& sessionId)
{
    auto row = d.sessions.find(sessionId);
    if (!row)
        return fail(row.error());
    if (!*row)
        return fail(ErrorCode::SessionRevoked, QStringLiteral("This session no longer exists"));
    return policyJsonOf((*row)->policy, (*row)->deviceClass);
}

Result<QStringList> SessionService::reapplyPolicies(const AuditActor& actor)
{
    if (!d.policies)
        return QStringList();
    const qint64 now = d.clock.nowMs();
    WithoutDeadline bulk(d.db); // every live session: may take longer than a request's deadline
    auto rules = d.policies->all();
    if (!rules)
        return fail(rules.error());
    auto live = d.sessions.allLiveWithGroups(now, qint64(d.config.idleTimeout) * 1000);
    if (!live)
        return fail(live.error());
    const PolicyResolver::Defaults defaults{d.config.idleTimeout, d.config.refreshTokenTtl};
    QHash<QString, nlohmann::json> changed; // user id -> {session id: policy}
    QStringList order;
    Transaction tx(d.db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    for (const auto& [s, groupColumn] : *live) {
        const SessionPolicy next =
            PolicyResolver::resolve(defaults, *rules, PolicyStore::splitGroups(groupColumn),
                                    s.deviceClass.isEmpty() ? deviceclass::personal : s.deviceClass);
        const nlohmann::json stored = next.toStoredJson();
        const auto before =
            SessionPolicy::fromJson(nlohmann::json::parse(s.policy.begin(), s.policy.end(), nullptr, false));
        if (before && *before == next)
            continue;
        const qint64 expiresAt = s.createdAt + qint64(next.absoluteLifetimeSeconds) * 1000;
        if (auto r = d.sessions.setPolicy(s.id, qint64(next.idleTimeoutSeconds) * 1000, expiresAt,
                                          QByteArray::fromStdString(stored.dump()));
            !r)
            return fail(r.error());
        if (!changed.contains(s.userId)) {
            changed.insert(s.userId, nlohmann::json::object());
            order << s.userId;
        }
        changed[s.userId][s.id.toStdString()] = next.toJson();
    }
    for (const QString& userId : std::as_const(order))
        d.audit.record(QStringLiteral("policy_changed"),
                       AuditActor{userId, {}, actor.ipAddress, actor.userAgent},
                       {{"policies", changed.value(userId)}}, now);
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    return order;
}

Result<void> SessionService::applySessionLimit(const QString& userId, const SessionPolicy& policy,
                                               const RequestInfo& info, qint64 now)
{
    if (policy.maxSessions <= 0)
        return {};
    auto live = d.sessions.listLive(userId, now, qint64(d.config.idleTimeout) * 1000);
    if (!live)
        return fail(live.error());
    const int excess = int(live->size()) - policy.maxSessions + 1;
    if (excess <= 0)
        return {};
    const QString limitText =
        QStringLiteral("%1 %2")
            .arg(policy.maxSessions)
            .arg(policy.maxSessions == 1 ? QStringLiteral("session") : QStringLiteral("sessions"));
    if (policy.onLimit == OnSessionLimit::Refuse) {
        d.audit.record(QStringLiteral("login_refused"), actorOf(userId, {}, info),
                       {{"reason", "session_limit"}, {"limit", policy.maxSessions}});
        return fail(
            ErrorCode::Conflict,
            QStringLiteral("You are already signed in on %1, the most your organisation's policy allows; "
                           "sign out on one of them (Active Sessions) and try again")
                .arg(limitText));
    }
    // The oldest sign-ins end, revoked like a user's revoke (cache, revocation feed, event stream).
    std::sort(live->begin(), live->end(),
              [](const SessionRecord& a, const SessionRecord& b) { return a.createdAt < b.createdAt; });
    nlohmann::json ended = nlohmann::json::array();
    for (int i = 0; i < excess && i < int(live->size()); ++i) {
        SessionRecord old = (*live)[size_t(i)];
        // Its row keeps the limit that ended it, for the message its owner gets.
        auto stored = nlohmann::json::parse(old.policy.begin(), old.policy.end(), nullptr, false);
        if (!stored.is_object())
            stored = policyJsonOf({}, old.deviceClass);
        stored["maxSessions"] = policy.maxSessions;
        const QByteArray storedText = QByteArray::fromStdString(stored.dump());
        if (auto r = d.sessions.setPolicy(old.id, idleMsOf(old), old.expiresAt, storedText); !r)
            return fail(r.error());
        auto revoked = d.sessions.revoke(old.id, userId, QStringLiteral("session_limit"), now);
        if (!revoked)
            return fail(revoked.error());
        if (!*revoked)
            continue;
        endSessionInCache(**revoked, "session_limit");
        ended.push_back(old.id.toStdString());
    }
    if (!ended.empty())
        d.audit.record(QStringLiteral("sessions_ended"), actorOf(userId, {}, info),
                       {{"sessionIds", ended}, {"reason", "session_limit"}, {"limit", policy.maxSessions}},
                       now);
    return {};
}

Result<AuthTokens> SessionService::startSession(const UserRecord& user,
                                                const std::optional<DeviceInfo>& device,
                                                const RequestInfo& info, const QString& deviceClass,
                                                bool newDevice)
{
    auto policy = policyFor(user.id, deviceClass, info);
    if (!policy)
        return fail(policy.error());
    const qint64 now = d.clock.nowMs();
    if (auto r = applySessionLimit(user.id, *policy, info, now); !r)
        return fail(r.error());
    SessionRecord s;
    s.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    s.userId = user.id;
    s.generation = 0;
    s.rotatedAt = now;
    s.createdAt = now;
    s.lastActivityAt = now;
    s.expiresAt = now + qint64(policy->absoluteLifetimeSeconds) * 1000;
    s.idleTimeoutMs = qint64(policy->idleTimeoutSeconds) * 1000;
    s.deviceClass = policy->deviceClass;
    s.policy = QByteArray::fromStdString(policy->toStoredJson().dump());
    s.ipAddress = info.ipAddress;
    s.userAgent = info.userAgent.left(512);
    s.device = device ? *device : parseUserAgent(info.userAgent);
    const QByteArray refresh = TokenService::newRefreshToken(s.id);
    const QByteArray access = d.tokens.accessToken(user.id, s.id, 0, now / 1000);
    s.accessHash = TokenService::hash(access);
    s.refreshHash = TokenService::hash(refresh);
    if (auto r = d.sessions.insert(s); !r)
        return fail(r.error());
    d.cache.markLive(s.accessHash, s.id, qMin<int>(d.tokens.accessTtl(), kActivityGranularityMs / 1000));
    d.cache.rememberRefresh(s.refreshHash, s.id, policy->absoluteLifetimeSeconds);
    if (d.metrics)
        d.metrics->login("success");
    nlohmann::json details{{"device", s.device.type.toStdString()},
                           {"deviceClass", s.deviceClass.toStdString()},
                           {"deviceLabel", deviceLabel(s.device).toStdString()}};
    if (newDevice)
        details["newDevice"] = true;
    addPlace(details, info);
    d.audit.record(QStringLiteral("login_success"), actorOf(user.id, s.id, info), details, now);
    AuthTokens t;
    t.user = user.toDto();
    t.accessToken = QString::fromLatin1(access);
    t.refreshToken = QString::fromLatin1(refresh);
    t.expiresIn = d.tokens.accessTtl();
    t.sessionId = s.id;
    return t;
}

void SessionService::refresh(const QByteArray& refreshToken, const RequestInfo& info, Done<AuthTokens> done,
                             int attempt, std::shared_ptr<nlohmann::json> policy)
{
    auto sessionId = TokenService::refreshTokenSession(refreshToken);
    if (!sessionId)
        return done(fail(sessionId.error()));
    d.queries->find(*sessionId, &m_async,
                    [this, refreshToken, info, done = std::move(done), attempt,
                     policy](Result<std::optional<SessionRecord>> found) mutable {
                        if (!found)
                            return done(fail(found.error()));
                        if (!*found)
                            return done(fail(ErrorCode::SessionExpired,
                                             QStringLiteral("This session no longer exists; sign in again")));
                        if (policy)
                            *policy = policyJsonOf((*found)->policy, (*found)->deviceClass);
                        continueRefresh(std::move(**found), refreshToken, info, std::move(done), attempt);
                    });
}

void SessionService::refreshAgain(const QByteArray& refreshToken, const RequestInfo& info, Done<AuthTokens> done,
                                  int attempt)
{
    // Another refresh of this session committed first: read the row again (a few times at most).
    if (attempt < 3)
        return refresh(refreshToken, info, std::move(done), attempt + 1);
    done(fail(Error{ErrorCode::Unavailable, QStringLiteral("Too many concurrent refreshes"), 1}));
}

void SessionService::rotateOrRetry(const SessionRecord& next, const QByteArray& expectedRefreshHash,
                                   quint32 expectedGeneration, const AuditRow& audit,
                                   const QByteArray& refreshToken, const RequestInfo& info,
                                   Done<AuthTokens> done, int attempt,
                                   std::function<void(Done<AuthTokens>)> onRotated)
{
    d.queries->rotate(next, expectedRefreshHash, expectedGeneration, audit, &m_async,
                      [this, audit, refreshToken, info, done = std::move(done), attempt,
                       onRotated = std::move(onRotated)](Result<bool> swapped) mutable {
                          if (!swapped)
                              return done(fail(swapped.error()));
                          if (!*swapped)
                              return refreshAgain(refreshToken, info, std::move(done), attempt);
                          d.audit.committed(audit.event, audit.actor, audit.details);
                          onRotated(std::move(done));
                      });
}

void SessionService::continueRefresh(SessionRecord s, const QByteArray& refreshToken, const RequestInfo& info,
                                     Done<AuthTokens> done, int attempt)
{
    const QByteArray presentedHash = TokenService::hash(refreshToken);
    const qint64 now = d.clock.nowMs();
    if (s.revokedAt)
        return done(fail(revokedError(s.revokeReason, limitOf(s))));
    if (s.expiresAt <= now)
        return done(fail(ErrorCode::SessionExpired,
                         QStringLiteral("This session has reached its maximum lifetime; sign in again")));
    if (s.lastActivityAt <= now - idleMsOf(s))
        return done(fail(idleExpired(idleMsOf(s))));
    const bool current = presentedHash == s.refreshHash;
    if (!current && (s.prevRefreshHash.isEmpty() || presentedHash != s.prevRefreshHash))
        return done(fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token")));
    // Parked on a shared workstation: the refresh token alone does not bring it back (anyone at
    // the station could read it); POST /api/workstation/resume with the PIN does. Parking erased
    // the sealed retry token, so the previous token is re-use as ever.
    if (s.parkedAt && current)
        return done(fail(ErrorCode::Forbidden, QString::fromLatin1(kSessionParkedMessage)));
    // Counted only for tokens of this session: anyone can write a session id into a bogus token,
    // and must not use up the session's own refreshes with it. A lost race's retry is not counted again.
    if (d.limiter && attempt == 0) {
        const QByteArray subject = s.id.toLatin1();
        d.limiter->hitAsync(
            "refresh", subject, d.config.refreshPerSession,
            [this, s = std::move(s), refreshToken, info, done = std::move(done), current,
             subject](Result<void> verdict) mutable {
                if (!verdict)
                    return done(
                        fail(limit(std::move(verdict), "refresh", subject, actorOf({}, s.id, info)).error()));
                rotateOrReplay(std::move(s), refreshToken, info, std::move(done), 0, current);
            });
        return;
    }
    rotateOrReplay(std::move(s), refreshToken, info, std::move(done), attempt, current);
}

void SessionService::rotateOrReplay(SessionRecord s, const QByteArray& refreshToken, const RequestInfo& info,
                                    Done<AuthTokens> done, int attempt, bool current)
{
    const QByteArray presentedHash = TokenService::hash(refreshToken);
    const qint64 now = d.clock.nowMs();
    const qint64 graceMs = qint64(d.config.refreshGraceSeconds) * 1000;
    const AuditActor actor = actorOf(s.userId, s.id, info);

    if (current) {
        const SessionRecord before = s;
        s.generation += 1;
        s.rotatedAt = now;
        s.lastActivityAt = now;
        s.prevRefreshHash = presentedHash;
        const QByteArray refresh = TokenService::newRefreshToken(s.id);
        const QByteArray access = d.tokens.accessToken(s.userId, s.id, s.generation, now / 1000);
        s.refreshHash = TokenService::hash(refresh);
        s.accessHash = TokenService::hash(access);
        s.ipAddress = info.ipAddress;
        // What a lost-response retry needs (the new token itself), sealed, until the grace ends.
        s.retrySealed.clear();
        if (graceMs > 0) {
            auto sealed = d.tokens.sealRetry(refresh, s.id, s.generation);
            if (!sealed)
                return done(fail(sealed.error()));
            s.retrySealed = *sealed;
        }
        // The rotation and its audit row in one statement, applied only if no concurrent refresh
        // of the same token got there first (then the row is read again: the loser gets the
        // winner's pair through the grace below, deterministically).
        AuditRow audit{QStringLiteral("refresh"), actor, {{"generation", s.generation}}, now};
        rotateOrRetry(s, before.refreshHash, before.generation, audit, refreshToken, info, std::move(done),
                      attempt, [this, s, before, access, refresh](Done<AuthTokens> answer) {
                          if (d.metrics)
                              d.metrics->refreshed();
                          AuthTokens tokens{std::nullopt, QString::fromLatin1(access),
                                            QString::fromLatin1(refresh), d.tokens.accessTtl(), s.id};
                          // The previous access token stops working now, not when it expires: the
                          // new pair is handed out once no instance would accept the old one.
                          d.cache.rotated(
                              s.id, before.accessHash, before.refreshHash, s.accessHash,
                              remainingAccessLife(before),
                              [answer = std::move(answer), tokens = std::move(tokens)]() mutable {
                                  answer(std::move(tokens));
                              },
                              s.refreshHash, int((s.expiresAt - d.clock.nowMs()) / 1000));
                      });
        return;
    }
    // The token rotated away last. Within the grace, and while the new pair is unused, it is a
    // client whose response was lost (or a concurrent duplicate): the very same pair again.
    const qint64 sinceRotation = now - s.rotatedAt;
    if (sinceRotation <= graceMs && !s.retrySealed.isEmpty()) {
        auto refresh = d.tokens.openRetry(s.retrySealed, s.id, s.generation);
        if (!refresh || TokenService::hash(*refresh) != s.refreshHash) {
            // Sealed under another root secret (JWT_SECRET changed): not theft, but not answerable.
            qCWarning(lcSessions) << "cannot open the retry token of session" << s.id << "(root secret changed?)";
            return done(fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token")));
        }
        const QByteArray access = d.tokens.accessToken(s.userId, s.id, s.generation, s.rotatedAt / 1000);
        AuditRow audit{QStringLiteral("refresh_replayed"), actor,
                       {{"generation", s.generation}, {"msSinceRotation", sinceRotation}}, now};
        AuthTokens again{std::nullopt, QString::fromLatin1(access), QString::fromLatin1(*refresh),
                         qMax<qint64>(1, s.rotatedAt / 1000 + d.tokens.accessTtl() - now / 1000), s.id};
        const QByteArray accessHash = TokenService::hash(access);
        if (accessHash == s.accessHash) {
            d.queries->record(audit, &m_async, [audit, again, done = std::move(done)](Result<void> r) {
                if (!r)
                    return done(fail(r.error()));
                AuditLog::announce(audit.event, audit.actor);
                done(again);
            });
            return;
        }
        // The signing key rotated since: same generation, newly signed access token.
        const QByteArray previous = s.accessHash;
        SessionRecord next = s;
        next.accessHash = accessHash;
        rotateOrRetry(next, s.refreshHash, s.generation, audit, refreshToken, info, std::move(done), attempt,
                      [this, next, previous, again](Done<AuthTokens> answer) {
                          d.cache.rotated(next.id, previous, {}, next.accessHash, remainingAccessLife(next),
                                          [answer = std::move(answer), again]() mutable { answer(again); });
                      });
        return;
    }

    // After the grace, or after the new pair was used: two parties hold this session's tokens
    // (a thief who refreshed first, or one who comes back late). End the whole session.
    AuditRow audit{QStringLiteral("refresh_reuse_detected"), actor,
                   {{"currentGeneration", s.generation},
                    {"msSinceRotation", sinceRotation},
                    {"withinGrace", sinceRotation <= graceMs}},
                   now};
    d.queries->revoke(s.id, {}, QStringLiteral("refresh_token_reused"), now, audit, &m_async,
                      [this, s, audit, done = std::move(done)](Result<std::optional<SessionRecord>> revoked) {
                          if (!revoked)
                              return done(fail(revoked.error()));
                          if (!*revoked)
                              return done(fail(revokedError(QStringLiteral("refresh_token_reused"))));
                          d.audit.committed(audit.event, audit.actor, audit.details);
                          if (d.metrics)
                              d.metrics->refreshReuseDetected();
                          qCWarning(lcSessions)
                              << "refresh token re-use detected; session" << s.id << "revoked";
                          endSessionInCache(
                              **revoked, "refresh_token_reused", [done = std::move(done)]() mutable {
                                  done(fail(revokedError(QStringLiteral("refresh_token_reused"))));
                              });
                      });
}

std::optional<Result<AuthContext>> SessionService::authenticateCached(QByteArrayView authorizationHeader,
                                                                      AuthContext* parsed)
{
    const QByteArray token = bearerToken(authorizationHeader);
    if (token.isEmpty())
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Missing bearer token"));
    const qint64 now = d.clock.nowMs();
    auto claims = d.tokens.verifyAccessToken(token, now / 1000);
    if (!claims)
        return fail(claims.error());
    AuthContext ctx{claims->sub, claims->sid, TokenService::hash(token), claims->exp, claims->iat};
    *parsed = ctx;

    // 1. This process's table, kept current by the revocation feed: no network round trip.
    if (d.live && d.feed && d.feed->isUp()) {
        const auto known = d.live->find(ctx.sessionId);
        if (known && known->revoked)
            return fail(revokedError({}));
        if (known && known->accessHash == ctx.accessHash && known->userId == ctx.userId &&
            now - known->checkedAtMs < kLiveEntryMaxAgeMs) {
            // First use of a new pair: the database must note it before the answer (it ends the
            // previous refresh token's grace), so that goes through authenticateFromDatabase.
            if (!known->confirmed)
                return std::nullopt;
            if (now - known->touchedAtMs >= kActivityGranularityMs) {
                // Activity, noted without waiting: the answer does not depend on it.
                d.live->markTouched(ctx.sessionId, now);
                d.queries->touch(ctx.sessionId, ctx.accessHash, now, &m_async, [](Result<void> r) {
                    if (!r)
                        qCWarning(lcSessions) << "could not note session activity:" << r.error().message;
                });
            }
            return ctx;
        }
        // The token a refresh just replaced, within the overlap: accepted, nothing recorded.
        if (known && known->previousAccessHash == ctx.accessHash && known->userId == ctx.userId &&
            now - known->rotatedAtMs <= SessionCache::kRotationOverlapMs)
            return ctx;
    }

    return std::nullopt; // 2. Redis, 3. the database (authenticateShared)
}

void SessionService::authenticateShared(const AuthContext& ctx, Done<AuthContext> done)
{
    d.cache.checkAccess(ctx.accessHash, [this, ctx,
                                         done = std::move(done)](SessionCache::AccessState state) mutable {
        switch (state) {
        case SessionCache::AccessState::Live:
            // Redis writes a live entry only after the database confirmed the pair and noted the
            // activity: from now on this process answers without asking anyone (the feed keeps it
            // true).
            if (d.live && d.feed && d.feed->isUp()) {
                const qint64 now = d.clock.nowMs();
                d.live->remember(ctx.sessionId,
                                 LiveSessionTable::Entry{ctx.userId, ctx.accessHash, false, true, now, now});
            }
            return done(ctx);
        case SessionCache::AccessState::Revoked:
        case SessionCache::AccessState::Rotated:
            return done(fail(deadTokenError(state)));
        case SessionCache::AccessState::Unknown:
        case SessionCache::AccessState::RecentlyRotated:
            break;
        }
        authenticateFromDatabase(ctx, std::move(done));
    });
}

void SessionService::authenticateFromDatabase(const AuthContext& ctx, Done<AuthContext> done)
{
    d.queries->find(ctx.sessionId, &m_async, [this, ctx, done = std::move(done)](
                                                 Result<std::optional<SessionRecord>> found) mutable {
        const qint64 now = d.clock.nowMs();
        const bool feedUp = d.live && d.feed && d.feed->isUp();
        if (!found) {
            // Database down: a fresh-enough word from the feed still tells live from dead.
            if (found.error().code == ErrorCode::Unavailable && feedUp) {
                const auto known = d.live->find(ctx.sessionId);
                if (known && !known->revoked && known->accessHash == ctx.accessHash && known->userId == ctx.userId)
                    return done(ctx);
            }
            return done(fail(found.error()));
        }
        if (!*found)
            return done(fail(ErrorCode::SessionRevoked, QStringLiteral("This session no longer exists")));
        const SessionRecord& s = **found;
        if (s.userId != ctx.userId)
            return done(fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid token")));
        if (s.revokedAt)
            return done(fail(revokedError(s.revokeReason, limitOf(s))));
        if (s.parkedAt)
            return done(fail(ErrorCode::Unauthenticated, QString::fromLatin1(kSessionParkedMessage)));
        if (s.expiresAt <= now)
            return done(fail(ErrorCode::SessionExpired, QStringLiteral("This session has expired; sign in again")));
        if (s.lastActivityAt <= now - idleMsOf(s))
            return done(fail(idleExpired(idleMsOf(s))));
        if (s.accessHash != ctx.accessHash) {
            // The previous pair's token stays good for the overlap: nothing is recorded for it
            // (no activity, no positive cache entry), so it cannot outlive the overlap or a revocation.
            if (isPreviousToken(s, ctx.tokenIssuedAt, ctx.accessHash, now))
                return done(ctx);
            return done(
                fail(ErrorCode::Unauthenticated, QStringLiteral("Access token was replaced by a refresh")));
        }
        auto accept = [this, ctx, userId = s.userId](qint64 touchedAt, Done<AuthContext> answer) {
            const qint64 at = d.clock.nowMs();
            if (d.live && d.feed && d.feed->isUp())
                d.live->remember(ctx.sessionId, LiveSessionTable::Entry{userId, ctx.accessHash, false, true, at, touchedAt});
            const qint64 ttl = qMin<qint64>(ctx.tokenExpiresAt - at / 1000, kActivityGranularityMs / 1000);
            d.cache.markLive(ctx.accessHash, ctx.sessionId, int(ttl));
            answer(ctx);
        };
        if (s.retrySealed.isEmpty() && now - s.lastActivityAt < kActivityGranularityMs)
            return accept(s.lastActivityAt, std::move(done));
        // First use of a new pair ends its lost-response grace (the previous refresh token is
        // theft from now on): noted before the answer.
        d.queries->touch(s.id, s.accessHash, now, &m_async,
                         [accept, now, done = std::move(done)](Result<void> r) mutable {
                             if (!r)
                                 return done(fail(r.error()));
                             accept(now, std::move(done));
                         });
    });
}

void SessionService::inspect(QByteArrayView token, Done<JwtClaims> done)
{
    const qint64 now = d.clock.nowMs();
    auto claims = d.tokens.verifyAccessToken(token, now / 1000);
    if (!claims)
        return done(fail(claims.error()));
    const QByteArray accessHash = TokenService::hash(token);
    // The same tiers as authenticateCached(), each only read.
    if (d.live && d.feed && d.feed->isUp()) {
        const auto known = d.live->find(claims->sid);
        if (known && known->revoked)
            return done(fail(revokedError({})));
        if (known && known->accessHash == accessHash && known->userId == claims->sub &&
            now - known->checkedAtMs < kLiveEntryMaxAgeMs)
            return done(*claims);
        if (known && known->previousAccessHash == accessHash && known->userId == claims->sub &&
            now - known->rotatedAtMs <= SessionCache::kRotationOverlapMs)
            return done(*claims);
    }
    d.cache.checkAccess(accessHash, [this, claims = *claims, accessHash,
                                     done = std::move(done)](SessionCache::AccessState state) mutable {
        switch (state) {
        case SessionCache::AccessState::Live:
            return done(claims);
        case SessionCache::AccessState::Revoked:
        case SessionCache::AccessState::Rotated:
            return done(fail(deadTokenError(state)));
        case SessionCache::AccessState::Unknown:
        case SessionCache::AccessState::RecentlyRotated:
            break; // the database decides: a read, nothing written
        }
        inspectFromDatabase(claims, accessHash, std::move(done));
    });
}

void SessionService::inspectFromDatabase(const JwtClaims& claims, const QByteArray& accessHash,
                                         Done<JwtClaims> done)
{
    d.queries->find(
        claims.sid, &m_async,
        [this, claims, accessHash, done = std::move(done)](Result<std::optional<SessionRecord>> found) {
            const qint64 at = d.clock.nowMs();
            if (!found) {
                // Database down: a fresh-enough word from the feed still tells live from dead.
                if (found.error().code == ErrorCode::Unavailable && d.live && d.feed && d.feed->isUp()) {
                    const auto known = d.live->find(claims.sid);
                    if (known && !known->revoked && known->accessHash == accessHash &&
                        known->userId == claims.sub)
                        return done(claims);
                }
                return done(fail(found.error()));
            }
            if (!*found)
                return done(fail(ErrorCode::SessionRevoked, QStringLiteral("This session no longer exists")));
            const SessionRecord& s = **found;
            if (s.userId != claims.sub ||
                (s.accessHash != accessHash && !isPreviousToken(s, claims.iat, accessHash, at)))
                return done(fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid token")));
            if (s.revokedAt)
                return done(fail(revokedError(s.revokeReason, limitOf(s))));
            if (s.parkedAt)
                return done(fail(ErrorCode::Unauthenticated, QString::fromLatin1(kSessionParkedMessage)));
            if (s.expiresAt <= at)
                return done(fail(ErrorCode::SessionExpired, QStringLiteral("This session has expired")));
            if (s.lastActivityAt <= at - idleMsOf(s))
                return done(fail(idleExpired(idleMsOf(s))));
            done(claims);
        });
}

SessionDto SessionService::toDto(const SessionRecord& s, const QString& currentSessionId) const
{
    SessionDto v;
    v.id = s.id;
    v.name = s.name;
    v.createdAt = QDateTime::fromMSecsSinceEpoch(s.createdAt, Qt::UTC);
    v.lastActivityAt = QDateTime::fromMSecsSinceEpoch(s.lastActivityAt, Qt::UTC);
    v.expiresAt = QDateTime::fromMSecsSinceEpoch(qMin(s.expiresAt, s.lastActivityAt + idleMsOf(s)), Qt::UTC);
    v.ipAddress = s.ipAddress;
    v.location = d.geo ? d.geo->locate(s.ipAddress) : QString();
    v.userAgent = s.userAgent;
    v.deviceInfo = s.device;
    v.isActive = s.isActive && !s.revokedAt;
    v.isCurrent = s.id == currentSessionId;
    v.parked = s.parkedAt.has_value();
    return v;
}

void SessionService::list(const AuthContext& who, Done<std::vector<SessionDto>> done)
{
    d.queries->listLive(who.userId, d.clock.nowMs(), qint64(d.config.idleTimeout) * 1000, &m_async,
                        [this, who, done = std::move(done)](Result<std::vector<SessionRecord>> rows) {
                            if (!rows)
                                return done(fail(rows.error()));
                            std::vector<SessionDto> out;
                            out.reserve(rows->size());
                            for (const auto& s : *rows)
                                out.push_back(toDto(s, who.sessionId));
                            done(std::move(out));
                        });
}

Result<SessionDto> SessionService::rename(const AuthContext& who, const QString& sessionId, const QString& name)
{
    auto row = d.sessions.rename(sessionId, who.userId, name.trimmed(), d.clock.nowMs());
    if (!row)
        return fail(row.error());
    if (!*row)
        return fail(ErrorCode::NotFound, QStringLiteral("No such session"));
    d.audit.record(QStringLiteral("session_renamed"), AuditActor{who.userId, who.sessionId, {}, {}},
                   {{"renamedSession", sessionId.toStdString()}, {"name", (*row)->name.toStdString()}});
    return toDto(**row, who.sessionId);
}

void SessionService::revoke(const AuthContext& who, const QString& sessionId, const RequestInfo& info, Done<void> done)
{
    const qint64 now = d.clock.nowMs();
    // The audit row shares the revocation's statement: one commit, and no revocation without it.
    AuditRow audit{QStringLiteral("session_revoked"), actorOf(who.userId, who.sessionId, info),
                   {{"revokedSession", sessionId.toStdString()}}, now};
    d.queries->revoke(sessionId, who.userId, QStringLiteral("revoked_by_user"), now, audit, &m_async,
                      [this, audit, done = std::move(done)](Result<std::optional<SessionRecord>> row) {
                          if (!row)
                              return done(fail(row.error()));
                          if (!*row)
                              return done(fail(ErrorCode::NotFound, QStringLiteral("No such session")));
                          d.audit.committed(audit.event, audit.actor, audit.details);
                          endSessionInCache(**row, "revoked_by_user",
                                            [done = std::move(done)]() mutable { done({}); });
                      });
}

bool ReauthAttempt::checkPassword(const PasswordHasher& hasher) const
{
    return hasher.verify(user.passwordHash, password);
}

Result<ReauthAttempt> SessionService::beginReauth(const AuthContext& who, const QString& password,
                                                  const RequestInfo& info, const char* action)
{
    const AuditActor actor = actorOf(who.userId, who.sessionId, info);
    const QByteArray address = info.ipAddress.toLatin1();
    const QByteArray account = who.userId.toLatin1();
    if (d.limiter) {
        if (auto r =
                limit(d.limiter->hit("reauth-ip", address, d.config.loginPerIp), "reauth-ip", address, actor);
            !r)
            return fail(r.error());
        if (auto r = limit(d.limiter->check("reauth-account", account, d.config.loginPerAccount),
                           "reauth-account", account, actor);
            !r)
            return fail(r.error());
    }
    auto user = d.users.findById(who.userId);
    if (!user)
        return fail(user.error());
    if (!*user || (*user)->disabled)
        return fail(ErrorCode::Unauthenticated, QStringLiteral("No such user"));
    if (password.isEmpty()) {
        d.audit.record(QStringLiteral("reauth_failure"), actor,
                       {{"action", action}, {"reason", "missing_password"}});
        return fail(ErrorCode::Forbidden, QStringLiteral("This needs your current password"));
    }
    return ReauthAttempt{who, info, action, password, std::move(**user)};
}

Result<UserRecord> SessionService::finishReauth(const ReauthAttempt& attempt, bool passwordOk)
{
    if (!passwordOk) {
        d.audit.record(QStringLiteral("reauth_failure"),
                       actorOf(attempt.who.userId, attempt.who.sessionId, attempt.info),
                       {{"action", attempt.action}, {"reason", "wrong_password"}});
        if (d.limiter)
            (void)d.limiter->hit("reauth-account", attempt.who.userId.toLatin1(), d.config.loginPerAccount);
        return fail(ErrorCode::Forbidden, qstrcmp(attempt.action, "password_change") == 0
                                              ? QStringLiteral("The current password is not correct")
                                              : QStringLiteral("The password is not correct"));
    }
    return attempt.user;
}

Result<int> SessionService::revokeOthers(const ReauthAttempt& attempt, bool passwordOk)
{
    if (auto user = finishReauth(attempt, passwordOk); !user)
        return fail(user.error());
    const AuthContext& who = attempt.who;
    const qint64 now = d.clock.nowMs();
    Transaction tx(d.db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    auto rows = d.sessions.revokeAllOf(who.userId, who.sessionId, QStringLiteral("revoked_by_user"), now);
    if (!rows)
        return fail(rows.error());
    nlohmann::json ended = nlohmann::json::array(); // the account event stream names them (SessionEvents)
    for (const auto& s : *rows)
        ended.push_back(s.id.toStdString());
    d.audit.record(QStringLiteral("sessions_revoked_all_others"),
                   actorOf(who.userId, who.sessionId, attempt.info),
                   {{"count", rows->size()}, {"sessionIds", ended}}, now);
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    for (const auto& s : *rows)
        endSessionInCache(s, "revoked_by_user");
    return int(rows->size());
}

void SessionService::logout(const AuthContext& who, const RequestInfo& info, Done<void> done)
{
    const qint64 now = d.clock.nowMs();
    AuditRow audit{QStringLiteral("logout"), actorOf(who.userId, who.sessionId, info),
                   nlohmann::json::object(), now};
    d.queries->revoke(who.sessionId, who.userId, QStringLiteral("logout"), now, audit, &m_async,
                      [this, audit, done = std::move(done)](Result<std::optional<SessionRecord>> row) {
                          if (!row)
                              return done(fail(row.error()));
                          if (!*row) // it had ended meanwhile: signed out all the same
                              return done({});
                          d.audit.committed(audit.event, audit.actor, audit.details);
                          endSessionInCache(**row, "logout",
                                            [done = std::move(done)]() mutable { done({}); });
                      });
}

Result<int> SessionService::revokeAllForUser(const QString& userId, const QString& reason, const AuditActor& actor,
                                             const QString& keepSessionId)
{
    if (QUuid::fromString(userId).isNull())
        return fail(ErrorCode::NotFound, QStringLiteral("No such user"));
    const qint64 now = d.clock.nowMs();
    auto rows = d.sessions.revokeAllOf(userId, keepSessionId, reason, now);
    if (!rows)
        return fail(rows.error());
    for (const auto& s : *rows)
        endSessionInCache(s, reason.toLatin1());
    d.audit.record(QStringLiteral("sessions_revoked_for_user"), actor,
                   {{"targetUser", userId.toStdString()}, {"count", rows->size()}, {"reason", reason.toStdString()}}, now);
    if (!rows->empty()) {
        // The same fact in the user's own history (the row above names whoever did it), which is
        // what the user's account event stream reads (SessionEvents).
        nlohmann::json ended = nlohmann::json::array();
        for (const auto& s : *rows)
            ended.push_back(s.id.toStdString());
        d.audit.record(QStringLiteral("sessions_ended"),
                       AuditActor{userId, {}, actor.ipAddress, actor.userAgent},
                       {{"sessionIds", ended}, {"reason", reason.toStdString()}}, now);
    }
    return int(rows->size());
}

Result<int> SessionService::cleanup(const AuditActor& actor)
{
    const qint64 now = d.clock.nowMs();
    WithoutDeadline bulk(d.db); // bulk deletes may take longer than a request's deadline
    auto n = d.sessions.cleanup(now, qint64(d.config.idleTimeout) * 1000, qint64(d.config.sessionRetention) * 1000,
                                qint64(d.config.refreshGraceSeconds) * 1000);
    if (!n)
        return fail(n.error());
    d.audit.record(QStringLiteral("cleanup"), actor, {{"deleted", *n}}, now);
    return *n;
}

Result<bool> SessionService::isAdmin(const AuthContext& who)
{
    auto user = d.users.findById(who.userId);
    if (!user)
        return fail(user.error());
    return *user && !(*user)->disabled && (*user)->role == u"admin";
}

} // namespace ehrs::server
