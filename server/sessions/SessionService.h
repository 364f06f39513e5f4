// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "Jwt.h"
#include "Result.h"
#include "WireModels.h"
#include "audit/AuditLog.h"
#include "auth/AuthContext.h"
#include "auth/DeviceCredentialStore.h"
#include "auth/MfaChallengeCodec.h"
#include "auth/PasswordHasher.h"
#include "auth/UserStore.h"
#include "cache/RevocationFeed.h"
#include "cache/SessionCache.h"
#include "config/ServerConfig.h"
#include "geo/GeoLocator.h"
#include "metrics/HttpMetrics.h"
#include "policy/PolicyStore.h"
#include "ratelimit/RateLimiter.h"
#include "risk/SignInRisk.h"
#include "sessions/SessionQueries.h"
#include "sessions/SessionStore.h"
#include "sessions/TokenService.h"

#include <QObject>
#include <functional>
#include <memory>
#include <variant>

namespace ehrs::server {

using LoginResult = std::variant<AuthTokens, MfaChallenge>;

/// A step-up check between its two halves (SessionService::beginReauth() / finishReauth()): the
/// limits were applied and the account looked up; the password check runs on a hashing thread.
struct ReauthAttempt
{
    AuthContext who;
    RequestInfo info;
    const char* action = ""; // revoke_all_others, mfa_setup, mfa_disable, password_change
    QString password;
    UserRecord user;

    /// The argon2id check, on any thread.
    bool checkPassword(const PasswordHasher& hasher) const;
};

/// A sign-in between its two halves: what was looked up before the password check, which runs
/// on a hashing thread (argon2id takes tens of milliseconds of CPU).
struct LoginAttempt
{
    LoginRequest request;
    RequestInfo info;
    qint64 now = 0;
    std::optional<DeviceCredentialRecord> device; // a live credential of this account, if presented
    std::optional<UserRecord> user;               // nullopt: no such account
    QString deviceClass;                          // what the client claims (`deviceClass`); empty: personal

    /// The password check, on any thread: against the account's hash, or against a dummy hash
    /// when there is no account, so that both take the same time (no account oracle).
    bool checkPassword(const PasswordHasher& hasher) const;
};

/// Sessions: login, rotation with theft detection, validation, listing, revocation, cleanup.
/// One instance per worker thread (it uses that thread's database connection and cache).
class SessionService
{
public:
    struct Deps
    {
        const ServerConfig& config;
        Database& db;
        UserStore& users;
        SessionStore& sessions;
        SessionCache& cache;
        const TokenService& tokens;
        const PasswordHasher& hasher;
        AuditLog& audit;
        const Clock& clock;
        LiveSessionTable* live = nullptr;   // with Redis: this process's validated sessions
        const RevocationFeed* feed = nullptr; // trusted only while this feed is up
        RateLimiter* limiter = nullptr;
        const MfaChallengeCodec* mfaChallenges = nullptr; // users with TOTP get a challenge at login
        HttpMetrics* metrics = nullptr;
        const GeoLocator* geo = nullptr;
        DeviceCredentialStore* devices = nullptr; // null: no device credentials (all clients unknown)
        SessionQueries* queries = nullptr;        // the request path's asynchronous queries
        PolicyStore* policies = nullptr;          // null: the server-wide defaults for every session
    };
    explicit SessionService(Deps deps);

    /// A whole sign-in in the calling thread (the password check included).
    [[nodiscard]] Result<LoginResult> login(const LoginRequest& request, const RequestInfo& info);
    /// The first half of a sign-in: limits, the device credential and the account. Then
    /// LoginAttempt::checkPassword() (off the event loop), then finishLogin() with its outcome.
    [[nodiscard]] Result<LoginAttempt> beginLogin(const LoginRequest& request, const RequestInfo& info);
    [[nodiscard]] Result<LoginResult> finishLogin(const LoginAttempt& attempt, bool passwordOk);

    // The asynchronous request path: these answer through `done` once their queries
    // (SessionQueries) are answered, in this service's thread; errors known at once are answered
    // before the call returns.
    template <typename T>
    using Done = std::function<void(Result<T>)>;

    /// Rotates the pair of a refresh token (theft detection, lost-response grace, rate limit).
    /// `policy`: when set, receives the session's policy (SessionPolicy JSON) read with its row.
    void refresh(const QByteArray& refreshToken, const RequestInfo& info, Done<AuthTokens> done,
                 int attempt = 0, std::shared_ptr<nlohmann::json> policy = nullptr);
    /// Validates `Authorization: Bearer ...` (signature, claims, the session still lives) with
    /// what this process knows: its live-session table. nullopt when that is not enough: then
    /// authenticateShared() with `*parsed`.
    [[nodiscard]] std::optional<Result<AuthContext>> authenticateCached(QByteArrayView authorizationHeader,
                                                                        AuthContext* parsed);
    /// The rest of a validation: Redis, then, if it does not know, the database.
    void authenticateShared(const AuthContext& parsed, Done<AuthContext> done);
    void authenticateFromDatabase(const AuthContext& parsed, Done<AuthContext> done);
    /// RFC 7662 introspection: the token's claims when its signature, claims and session are
    /// valid. Read-only, unlike authenticate(): it records no activity, does not retire the
    /// previous refresh token and writes nothing to the cache, so asking about a token does not
    /// change what the token (or its session's lost-response retry) can do.
    void inspect(QByteArrayView token, Done<JwtClaims> done);

    void list(const AuthContext& who, Done<std::vector<SessionDto>> done);
    [[nodiscard]] Result<SessionDto> rename(const AuthContext& who, const QString& sessionId,
                                            const QString& name);
    void revoke(const AuthContext& who, const QString& sessionId, const RequestInfo& info, Done<void> done);
    /// Ends every other session of the caller once the password was checked again: `attempt` from
    /// beginReauth(who, password, info, "revoke_all_others"), `passwordOk` its check's outcome.
    [[nodiscard]] Result<int> revokeOthers(const ReauthAttempt& attempt, bool passwordOk);
    /// Step-up check before a sensitive change (`action`: revoke_all_others, mfa_setup, mfa_disable,
    /// password_change): the caller's current password, rate-limited like logins: per account
    /// (RATE_LIMIT_LOGIN_ACCOUNT wrong passwords, scope "reauth-account") and per client address
    /// (RATE_LIMIT_LOGIN_IP attempts, scope "reauth-ip"). In two halves around the argon2id check,
    /// which runs off the event loop (ReauthAttempt::checkPassword() on the hashing pool):
    /// beginReauth() applies the limits and looks the account up (a missing password is refused
    /// here), finishReauth() takes the check's outcome. A missing or wrong password is
    /// ErrorCode::Forbidden and audited as reauth_failure; the user record on success.
    [[nodiscard]] Result<ReauthAttempt> beginReauth(const AuthContext& who, const QString& password,
                                                    const RequestInfo& info, const char* action);
    [[nodiscard]] Result<UserRecord> finishReauth(const ReauthAttempt& attempt, bool passwordOk);
    void logout(const AuthContext& who, const RequestInfo& info, Done<void> done);
    /// IT / CLI: ends every session of a user.
    [[nodiscard]] Result<int> revokeAllForUser(const QString& userId, const QString& reason, const AuditActor& actor,
                                               const QString& keepSessionId = {});
    [[nodiscard]] Result<int> cleanup(const AuditActor& actor);
    [[nodiscard]] Result<bool> isAdmin(const AuthContext& who);

    /// Starts a session for a user whose credentials were checked (login, MFA verification).
    /// The session gets the policy of the user's groups and its device class (`deviceClass`: the
    /// client's claim, made stricter by SHARED_WORKSTATION_NETWORKS): its idle timeout and
    /// lifetime, and the session limit is applied (the oldest sessions end, or the sign-in is
    /// refused with ErrorCode::Conflict). `newDevice`: no live device credential of this account
    /// came with the sign-in (the audit row says so, and the account notifier mails the holder).
    [[nodiscard]] Result<AuthTokens> startSession(const UserRecord& user,
                                                  const std::optional<DeviceInfo>& device,
                                                  const RequestInfo& info, const QString& deviceClass = {},
                                                  bool newDevice = false);
    /// The policy of a sign-in by `userId` from `info` claiming `claimedClass` (PolicyResolver).
    [[nodiscard]] Result<SessionPolicy> policyFor(const QString& userId, const QString& claimedClass,
                                                  const RequestInfo& info);
    /// The policy a session carries (SessionPolicy JSON), for the login and /api/auth/me answers.
    [[nodiscard]] Result<nlohmann::json> sessionPolicy(const QString& sessionId);
    /// After IT changed a rule: every live session gets its policy again (idle timeout, absolute
    /// end from its start, policy JSON); each user whose sessions changed gets a `policy_changed`
    /// audit row (the `policy-changed` event of those sessions' streams). Returns the ids of the
    /// users whose sessions changed.
    [[nodiscard]] Result<QStringList> reapplyPolicies(const AuditActor& actor);
    /// A stored session's policy JSON; the server-wide defaults for sessions from before policies.
    nlohmann::json policyJsonOf(const QByteArray& stored, const QString& deviceClass) const;
    /// `presented` when it is a live device credential of `userId`.
    std::optional<DeviceCredentialRecord> liveDeviceOf(const QString& userId, const QString& presented);
    /// Remember this device (after a second factor): `credential` then satisfies the second factor
    /// for REMEMBER_DEVICE_DAYS. Gives the device's id; empty when it could not be remembered.
    QString rememberDevice(const QString& userId, const QString& credential,
                           const std::optional<DeviceInfo>& device, const RequestInfo& info);
    /// The caller's remembered devices (GET /api/account/devices).
    [[nodiscard]] Result<std::vector<RememberedDevice>> rememberedDevices(const AuthContext& who);
    /// Forgets one of the caller's remembered devices: its next sign-in asks for the second
    /// factor again. NotFound when it is not one of the caller's remembered devices.
    [[nodiscard]] Result<void> forgetDevice(const AuthContext& who, const QString& deviceId,
                                            const RequestInfo& info);
    /// Scores a sign-in whose password was right (server/risk): when it is suspicious, audits
    /// suspicious_login with the reasons (the account event stream and the email tell the user)
    /// and counts it. `stepUp`: the second factor will be asked for. A failure to read the
    /// history is logged and scores nothing (the sign-in is not refused for it).
    RiskAssessment assessSignIn(const UserRecord& user, const RequestInfo& info, bool knownDevice,
                                bool stepUp);
    SessionDto toDto(const SessionRecord& s, const QString& currentSessionId) const;
    /// After a complete sign-in (password, and the second factor if any): renews `presented` when
    /// it is a live device credential of `userId`, else issues a new one. Empty when none could
    /// be stored (the sign-in stands).
    QString deviceCredentialAfterSignIn(const QString& userId, const QString& presented);
    /// Where an address is, in words (NETWORK_LOCATIONS, GeoIP, "Local network"); empty if unknown.
    QString placeOf(const QString& ipAddress) const;
    /// The refusal of a parked session's refresh (ErrorCode::Forbidden, `session_parked` on the
    /// wire) and of its access tokens.
    static constexpr const char* kSessionParkedMessage =
        "This session is parked on a shared workstation; enter your PIN to continue";
    /// A refused sign-in says how many attempts are left once this few or fewer are.
    static constexpr int kAttemptsLeftShownFrom = 3;

private:
    void refreshAgain(const QByteArray& refreshToken, const RequestInfo& info, Done<AuthTokens> done, int attempt);
    /// Stores a rotation (compare-and-swap, see SessionQueries::rotate) and lets onRotated()
    /// answer; reads the row again when a concurrent refresh won.
    void rotateOrRetry(const SessionRecord& next, const QByteArray& expectedRefreshHash,
                       quint32 expectedGeneration, const AuditRow& audit, const QByteArray& refreshToken,
                       const RequestInfo& info, Done<AuthTokens> done, int attempt,
                       std::function<void(Done<AuthTokens>)> onRotated);
    /// Checks the row read for a refresh, then counts the refresh against its limit.
    void continueRefresh(SessionRecord s, const QByteArray& refreshToken, const RequestInfo& info,
                         Done<AuthTokens> done, int attempt);
    /// The presented token is the current one (`current`: rotate) or the previous one (the
    /// lost-response grace, or theft).
    void rotateOrReplay(SessionRecord s, const QByteArray& refreshToken, const RequestInfo& info,
                        Done<AuthTokens> done, int attempt, bool current);
    void inspectFromDatabase(const JwtClaims& claims, const QByteArray& accessHash, Done<JwtClaims> done);
    void countLoginFailure(const LoginAttempt& attempt, const QString& userId);
    void upgradePasswordHash(const UserRecord& u, const QString& password, const RequestInfo& info);
    /// The answer to a refused sign-in: invalid credentials, with the attempts left before the
    /// account's limit pauses sign-in when there are kAttemptsLeftShownFrom or fewer.
    Error loginRefused(const LoginAttempt& attempt) const;
    /// Adds "place" (GeoLocator::locate()) to a sign-in's audit details, when there is one.
    void addPlace(nlohmann::json& details, const RequestInfo& info) const;
    /// `done`: see SessionCache::revoked() (without it, the cache is written before this returns).
    void endSessionInCache(const SessionRecord& s, QByteArrayView reason, std::function<void()> done = {});
    /// Applies a limit; a refusal is audited the first time it happens in a window.
    Result<void> limit(Result<void> verdict, const char* scope, const QByteArray& subject, const AuditActor& actor);
    int remainingAccessLife(const SessionRecord& s) const;
    /// The session's idle timeout: its own (policy), or SESSION_IDLE_TIMEOUT.
    qint64 idleMsOf(const SessionRecord& s) const;
    /// Applies the session limit of `policy` before a new session of `userId` starts.
    Result<void> applySessionLimit(const QString& userId, const SessionPolicy& policy,
                                   const RequestInfo& info, qint64 now);
    /// The access token of the generation before `s`'s current one, presented within
    /// SessionCache::kRotationOverlapMs of the rotation that replaced it.
    bool isPreviousToken(const SessionRecord& s, qint64 issuedAtSeconds, const QByteArray& accessHash,
                         qint64 nowMs) const;

    Deps d;
    QObject m_async; // the context of query callbacks: none runs after this service is gone
    QByteArray m_auditEmailKey;                    // pseudonyms of unknown emails in audit rows
    QHash<QByteArray, qint64> m_limitAuditedUntil; // one audit row per refused subject and window
};

} // namespace ehrs::server
