// SPDX-License-Identifier: Apache-2.0
#include "SessionService.h"

#include "Logging.h"
#include "UserAgentParser.h"
#include "auth/EmailPseudonym.h"

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

Error revokedError(const QString& reason)
{
    if (reason == u"refresh_token_reused")
        return Error{ErrorCode::RefreshReused,
                     QStringLiteral("This session was ended because an old refresh token was used again")};
    if (reason == u"logout")
        return Error{ErrorCode::SessionRevoked, QStringLiteral("This session was signed out")};
    return Error{ErrorCode::SessionRevoked, QStringLiteral("This session was ended from another device or by IT")};
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

int SessionService::remainingAccessLife(const SessionRecord& s) const
{
    const qint64 left = s.rotatedAt / 1000 + d.tokens.accessTtl() - d.clock.nowSeconds();
    return int(qBound<qint64>(0, left + 1, qint64(d.tokens.accessTtl()) + 1));
}

void SessionService::endSessionInCache(const SessionRecord& s, QByteArrayView reason)
{
    if (d.metrics)
        d.metrics->revoked(reason);
    d.cache.revoked(s.id, s.accessHash, s.refreshHash, remainingAccessLife(s));
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
        return fail(invalidCredentials());
    }
    const UserRecord& u = *attempt.user;
    if (!passwordOk || u.disabled) {
        d.audit.record(QStringLiteral("login_failure"), actorOf(u.id, {}, info),
                       {{"reason", u.disabled ? "disabled" : "wrong_password"},
                        {"deviceCredential", attempt.device.has_value()}});
        countLoginFailure(attempt, u.id);
        if (d.metrics)
            d.metrics->login("failure");
        return fail(invalidCredentials());
    }
    if (u.mfaEnabled && d.mfaChallenges) {
        d.audit.record(QStringLiteral("login_password_ok_mfa_required"), actorOf(u.id, {}, info));
        MfaChallenge challenge;
        challenge.mfaToken = QString::fromLatin1(d.mfaChallenges->issue(u.id, request.deviceInfo, d.clock.nowSeconds()));
        challenge.methods = {QStringLiteral("totp"), QStringLiteral("backup_code")};
        if (d.metrics)
            d.metrics->login("mfa_required");
        return LoginResult(std::move(challenge));
    }
    // Before the session: its writes then do not eat into the new access token's life.
    const QString deviceCredential = deviceCredentialAfterSignIn(u.id, request.deviceCredential);
    auto tokens = startSession(u, request.deviceInfo, info);
    if (!tokens)
        return fail(tokens.error());
    tokens->deviceCredential = deviceCredential;
    return LoginResult(std::move(*tokens));
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

Result<AuthTokens> SessionService::startSession(const UserRecord& user, const std::optional<DeviceInfo>& device,
                                                const RequestInfo& info)
{
    const qint64 now = d.clock.nowMs();
    SessionRecord s;
    s.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    s.userId = user.id;
    s.generation = 0;
    s.rotatedAt = now;
    s.createdAt = now;
    s.lastActivityAt = now;
    s.expiresAt = now + qint64(d.config.refreshTokenTtl) * 1000;
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
    d.cache.rememberRefresh(s.refreshHash, s.id, d.config.refreshTokenTtl);
    if (d.metrics)
        d.metrics->login("success");
    d.audit.record(QStringLiteral("login_success"), actorOf(user.id, s.id, info),
                   {{"device", s.device.type.toStdString()}}, now);
    AuthTokens t;
    t.user = user.toDto();
    t.accessToken = QString::fromLatin1(access);
    t.refreshToken = QString::fromLatin1(refresh);
    t.expiresIn = d.tokens.accessTtl();
    t.sessionId = s.id;
    return t;
}

Result<AuthTokens> SessionService::refresh(QByteArrayView refreshToken, const RequestInfo& info)
{
    auto sessionId = TokenService::refreshTokenSession(refreshToken);
    if (!sessionId)
        return fail(sessionId.error());
    const QByteArray presentedHash = TokenService::hash(refreshToken);
    const qint64 now = d.clock.nowMs();
    const qint64 graceMs = qint64(d.config.refreshGraceSeconds) * 1000;

    std::optional<Transaction> tx(std::in_place, d.db);
    if (auto r = tx->begin(); !r)
        return fail(r.error());
    auto found = d.sessions.find(*sessionId, /*forUpdate=*/true);
    if (!found)
        return fail(found.error());
    if (!*found)
        return fail(ErrorCode::SessionExpired, QStringLiteral("This session no longer exists; sign in again"));
    SessionRecord s = **found;
    if (s.revokedAt)
        return fail(revokedError(s.revokeReason));
    if (s.expiresAt <= now)
        return fail(ErrorCode::SessionExpired, QStringLiteral("This session has reached its maximum lifetime; sign in again"));
    if (s.lastActivityAt <= now - qint64(d.config.idleTimeout) * 1000)
        return fail(ErrorCode::SessionExpired, QStringLiteral("This session ended after a period of inactivity; sign in again"));

    const bool current = presentedHash == s.refreshHash;
    if (!current && (s.prevRefreshHash.isEmpty() || presentedHash != s.prevRefreshHash))
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token"));
    // Counted only for tokens of this session: anyone can write a session id into a bogus token,
    // and must not use up the session's own refreshes with it.
    if (d.limiter) {
        if (auto verdict = d.limiter->hit("refresh", s.id.toLatin1(), d.config.refreshPerSession); !verdict) {
            tx.reset(); // roll back first: the refusal's audit row must not go with it
            return fail(limit(std::move(verdict), "refresh", s.id.toLatin1(), actorOf({}, s.id, info)).error());
        }
    }

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
                return fail(sealed.error());
            s.retrySealed = *sealed;
        }
        if (auto r = d.sessions.rotate(s); !r)
            return fail(r.error());
        d.audit.record(QStringLiteral("refresh"), actor, {{"generation", s.generation}}, now); // same commit
        if (auto r = tx->commit(); !r)
            return fail(r.error());
        // The previous access token stops working now, not when it expires.
        d.cache.rotated(s.id, before.accessHash, before.refreshHash, s.accessHash, remainingAccessLife(before));
        d.cache.rememberRefresh(s.refreshHash, s.id, int((s.expiresAt - now) / 1000));
        if (d.metrics)
            d.metrics->refreshed();
        return AuthTokens{std::nullopt, QString::fromLatin1(access), QString::fromLatin1(refresh), d.tokens.accessTtl(), s.id};
    }
    // The token rotated away last. Within the grace, and while the new pair is unused, it is a
    // client whose response was lost (or a concurrent duplicate): the very same pair again.
    const qint64 sinceRotation = now - s.rotatedAt;
    if (sinceRotation <= graceMs && !s.retrySealed.isEmpty()) {
        auto refresh = d.tokens.openRetry(s.retrySealed, s.id, s.generation);
        if (!refresh || TokenService::hash(*refresh) != s.refreshHash) {
            // Sealed under another root secret (JWT_SECRET changed): not theft, but not answerable.
            qCWarning(lcSessions) << "cannot open the retry token of session" << s.id << "(root secret changed?)";
            return fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid refresh token"));
        }
        const QByteArray access = d.tokens.accessToken(s.userId, s.id, s.generation, s.rotatedAt / 1000);
        if (const QByteArray accessHash = TokenService::hash(access); accessHash != s.accessHash) {
            // The signing key rotated since: same generation, newly signed access token.
            const QByteArray previous = s.accessHash;
            s.accessHash = accessHash;
            if (auto r = d.sessions.rotate(s); !r)
                return fail(r.error());
            d.cache.rotated(s.id, previous, {}, s.accessHash, remainingAccessLife(s));
        }
        if (auto r = tx->commit(); !r)
            return fail(r.error());
        d.audit.record(QStringLiteral("refresh_replayed"), actor,
                       {{"generation", s.generation}, {"msSinceRotation", sinceRotation}}, now);
        return AuthTokens{std::nullopt, QString::fromLatin1(access), QString::fromLatin1(*refresh),
                          qMax<qint64>(1, s.rotatedAt / 1000 + d.tokens.accessTtl() - now / 1000), s.id};
    }

    // After the grace, or after the new pair was used: two parties hold this session's tokens
    // (a thief who refreshed first, or one who comes back late). End the whole session.
    auto revoked = d.sessions.revoke(s.id, {}, QStringLiteral("refresh_token_reused"), now);
    if (!revoked)
        return fail(revoked.error());
    if (auto r = tx->commit(); !r)
        return fail(r.error());
    endSessionInCache(s, "refresh_token_reused");
    if (d.metrics)
        d.metrics->refreshReuseDetected();
    qCWarning(lcSessions) << "refresh token re-use detected; session" << s.id << "revoked";
    d.audit.record(QStringLiteral("refresh_reuse_detected"), actor,
                   {{"currentGeneration", s.generation},
                    {"msSinceRotation", sinceRotation},
                    {"withinGrace", sinceRotation <= graceMs}},
                   now);
    return fail(revokedError(QStringLiteral("refresh_token_reused")));
}

Result<AuthContext> SessionService::authenticate(QByteArrayView authorizationHeader)
{
    const QByteArray token = bearerToken(authorizationHeader);
    if (token.isEmpty())
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Missing bearer token"));
    const qint64 now = d.clock.nowMs();
    auto claims = d.tokens.verifyAccessToken(token, now / 1000);
    if (!claims)
        return fail(claims.error());
    AuthContext ctx{claims->sub, claims->sid, TokenService::hash(token), claims->exp};

    // 1. This process's table, kept current by the revocation feed: no network round trip.
    const bool feedUp = d.live && d.feed && d.feed->isUp();
    std::optional<LiveSessionTable::Entry> known;
    if (feedUp) {
        known = d.live->find(ctx.sessionId);
        if (known && known->revoked)
            return fail(revokedError({}));
        if (known && known->accessHash == ctx.accessHash && known->userId == ctx.userId &&
            now - known->checkedAtMs < kLiveEntryMaxAgeMs) {
            if (!known->confirmed || now - known->touchedAtMs >= kActivityGranularityMs) {
                if (d.sessions.touch(ctx.sessionId, ctx.accessHash, now))
                    d.live->markTouched(ctx.sessionId, now);
            }
            return ctx;
        }
    }

    // 2. The shared cache, then 3. the database.
    switch (d.cache.checkAccess(ctx.accessHash)) {
    case SessionCache::AccessState::Live:
        // Redis writes a live entry only after the database confirmed the pair and noted the
        // activity: from now on this process answers without asking anyone (the feed keeps it true).
        if (feedUp)
            d.live->remember(ctx.sessionId, LiveSessionTable::Entry{ctx.userId, ctx.accessHash, false, true, now, now});
        return ctx;
    case SessionCache::AccessState::Revoked:
        return fail(revokedError({}));
    case SessionCache::AccessState::Rotated:
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Access token was replaced by a refresh"));
    case SessionCache::AccessState::Unknown:
        break;
    }
    auto found = d.sessions.find(ctx.sessionId);
    if (!found) {
        // Database down: a fresh-enough word from the feed still tells live from dead.
        if (found.error().code == ErrorCode::Unavailable && feedUp && known && known->accessHash == ctx.accessHash &&
            known->userId == ctx.userId)
            return ctx;
        return fail(found.error());
    }
    if (!*found)
        return fail(ErrorCode::SessionRevoked, QStringLiteral("This session no longer exists"));
    const SessionRecord& s = **found;
    if (s.userId != ctx.userId)
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid token"));
    if (s.revokedAt)
        return fail(revokedError(s.revokeReason));
    if (s.accessHash != ctx.accessHash)
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Access token was replaced by a refresh"));
    if (s.expiresAt <= now || s.lastActivityAt <= now - qint64(d.config.idleTimeout) * 1000)
        return fail(ErrorCode::SessionExpired, QStringLiteral("This session has expired; sign in again"));
    qint64 touchedAt = s.lastActivityAt;
    if (!s.retrySealed.isEmpty() || now - s.lastActivityAt >= kActivityGranularityMs) {
        // First use of a new pair ends its lost-response grace (the previous refresh token is theft from now on).
        if (auto r = d.sessions.touch(s.id, s.accessHash, now); !r)
            return fail(r.error());
        touchedAt = now;
    }
    if (feedUp)
        d.live->remember(s.id, LiveSessionTable::Entry{s.userId, s.accessHash, false, true, now, touchedAt});
    const qint64 ttl = qMin<qint64>(ctx.tokenExpiresAt - now / 1000, kActivityGranularityMs / 1000);
    d.cache.markLive(ctx.accessHash, s.id, int(ttl));
    return ctx;
}

Result<JwtClaims> SessionService::inspect(QByteArrayView token)
{
    const qint64 now = d.clock.nowMs();
    auto claims = d.tokens.verifyAccessToken(token, now / 1000);
    if (!claims)
        return fail(claims.error());
    const QByteArray accessHash = TokenService::hash(token);
    // The same tiers as authenticate(), each only read.
    const bool feedUp = d.live && d.feed && d.feed->isUp();
    std::optional<LiveSessionTable::Entry> known;
    if (feedUp) {
        known = d.live->find(claims->sid);
        if (known && known->revoked)
            return fail(revokedError({}));
        if (known && known->accessHash == accessHash && known->userId == claims->sub &&
            now - known->checkedAtMs < kLiveEntryMaxAgeMs)
            return *claims;
    }
    switch (d.cache.checkAccess(accessHash)) {
    case SessionCache::AccessState::Live:
        return *claims;
    case SessionCache::AccessState::Revoked:
        return fail(revokedError({}));
    case SessionCache::AccessState::Rotated:
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Access token was replaced by a refresh"));
    case SessionCache::AccessState::Unknown:
        break; // the database decides: a read, nothing written
    }
    auto found = d.sessions.find(claims->sid);
    if (!found) {
        // Database down: a fresh-enough word from the feed still tells live from dead.
        if (found.error().code == ErrorCode::Unavailable && known && known->accessHash == accessHash &&
            known->userId == claims->sub)
            return *claims;
        return fail(found.error());
    }
    if (!*found)
        return fail(ErrorCode::SessionRevoked, QStringLiteral("This session no longer exists"));
    const SessionRecord& s = **found;
    if (s.userId != claims->sub || s.accessHash != accessHash)
        return fail(ErrorCode::Unauthenticated, QStringLiteral("Invalid token"));
    if (s.revokedAt)
        return fail(revokedError(s.revokeReason));
    if (s.expiresAt <= now || s.lastActivityAt <= now - qint64(d.config.idleTimeout) * 1000)
        return fail(ErrorCode::SessionExpired, QStringLiteral("This session has expired"));
    return *claims;
}

SessionDto SessionService::toDto(const SessionRecord& s, const QString& currentSessionId) const
{
    SessionDto v;
    v.id = s.id;
    v.name = s.name;
    v.createdAt = QDateTime::fromMSecsSinceEpoch(s.createdAt, Qt::UTC);
    v.lastActivityAt = QDateTime::fromMSecsSinceEpoch(s.lastActivityAt, Qt::UTC);
    v.expiresAt = QDateTime::fromMSecsSinceEpoch(
        qMin(s.expiresAt, s.lastActivityAt + qint64(d.config.idleTimeout) * 1000), Qt::UTC);
    v.ipAddress = s.ipAddress;
    v.location = d.geo ? d.geo->locate(s.ipAddress) : QString();
    v.userAgent = s.userAgent;
    v.deviceInfo = s.device;
    v.isActive = s.isActive && !s.revokedAt;
    v.isCurrent = s.id == currentSessionId;
    return v;
}

Result<std::vector<SessionDto>> SessionService::list(const AuthContext& who)
{
    auto rows = d.sessions.listLive(who.userId, d.clock.nowMs(), qint64(d.config.idleTimeout) * 1000);
    if (!rows)
        return fail(rows.error());
    std::vector<SessionDto> out;
    out.reserve(rows->size());
    for (const auto& s : *rows)
        out.push_back(toDto(s, who.sessionId));
    return out;
}

Result<SessionDto> SessionService::rename(const AuthContext& who, const QString& sessionId, const QString& name)
{
    auto row = d.sessions.rename(sessionId, who.userId, name.trimmed(), d.clock.nowMs());
    if (!row)
        return fail(row.error());
    if (!*row)
        return fail(ErrorCode::NotFound, QStringLiteral("No such session"));
    return toDto(**row, who.sessionId);
}

Result<void> SessionService::revoke(const AuthContext& who, const QString& sessionId, const RequestInfo& info)
{
    const qint64 now = d.clock.nowMs();
    // The audit row shares the revocation's commit: one WAL flush, and no revocation without it.
    Transaction tx(d.db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    auto row = d.sessions.revoke(sessionId, who.userId, QStringLiteral("revoked_by_user"), now);
    if (!row)
        return fail(row.error());
    if (!*row)
        return fail(ErrorCode::NotFound, QStringLiteral("No such session"));
    d.audit.record(QStringLiteral("session_revoked"), actorOf(who.userId, who.sessionId, info),
                   {{"revokedSession", sessionId.toStdString()}}, now);
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    endSessionInCache(**row, "revoked_by_user");
    return {};
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
    d.audit.record(QStringLiteral("sessions_revoked_all_others"),
                   actorOf(who.userId, who.sessionId, attempt.info), {{"count", rows->size()}}, now);
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    for (const auto& s : *rows)
        endSessionInCache(s, "revoked_by_user");
    return int(rows->size());
}

Result<void> SessionService::logout(const AuthContext& who, const RequestInfo& info)
{
    const qint64 now = d.clock.nowMs();
    Transaction tx(d.db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    auto row = d.sessions.revoke(who.sessionId, who.userId, QStringLiteral("logout"), now);
    if (!row)
        return fail(row.error());
    d.audit.record(QStringLiteral("logout"), actorOf(who.userId, who.sessionId, info), nlohmann::json::object(), now);
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    if (*row)
        endSessionInCache(**row, "logout");
    return {};
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
    return int(rows->size());
}

Result<int> SessionService::cleanup(const AuditActor& actor)
{
    const qint64 now = d.clock.nowMs();
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
