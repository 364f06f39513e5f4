// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "Result.h"
#include "audit/AuditLog.h"
#include "auth/AuthContext.h"
#include "auth/PasswordHasher.h"
#include "cache/SessionCache.h"
#include "db/Database.h"
#include "ratelimit/RateLimiter.h"
#include "sessions/SessionStore.h"

#include <optional>
#include <vector>

namespace ehrs::server {

/// Shared workstations (nurse stations) with PIN switch-user (issue 14, point 4;
/// docs/workstation-policy.md, "Shared workstations"). A clinician signed in fully on a
/// `shared_workstation` session sets a PIN for the shift; "switch user" parks the session (its
/// refresh token alone no longer refreshes it, its access tokens are refused at once everywhere);
/// the PIN, checked here with argon2id, un-parks it within the shift window. Synchronous: it runs
/// on a hashing-pool thread (argon2id and its SQL off the event loop), on that thread's own
/// database connection.
class WorkstationService
{
public:
    struct Deps
    {
        Database& db;
        SessionStore& sessions;
        SessionCache& cache;
        const PasswordHasher& hasher;
        AuditLog& audit;
        const Clock& clock;
        RateLimiter* limiter = nullptr;
        int accessTtlSeconds = 900;
    };
    /// Defaults of the policy settings `shift_window_seconds` and `pin_max_failures`.
    static constexpr int kDefaultShiftWindowSeconds = 12 * 3600;
    static constexpr int kDefaultPinMaxFailures = 3;
    /// Wrong PINs allowed per client address per minute, across all sessions (guessing at scale).
    static constexpr int kResumesPerAddressPerMinute = 30;
    /// Resume attempts per session per minute (the PIN failure limit ends guessing sooner).
    static constexpr int kResumesPerSessionPerMinute = 10;

    /// The error names of the workstation routes, beyond the shared ErrorCode names.
    static constexpr const char* kSessionParked = "session_parked";
    static constexpr const char* kFullSignInRequired = "full_sign_in_required";
    static constexpr const char* kInvalidPin = "invalid_pin";

    explicit WorkstationService(Deps deps) : d(deps) {}

    /// PIN rules: 4 to 8 ASCII digits, not all the same digit, not a run up or down (1234, 9876),
    /// not a repeated pair (1212). InvalidRequest with the reason otherwise.
    [[nodiscard]] static Result<void> checkPin(const QString& pin);
    /// A workstation identifier: 8 to 64 characters of [A-Za-z0-9._:-] (e.g. a SHA-256 hex of
    /// /etc/machine-id). Not a secret, but never free text.
    static bool isValidWorkstationId(const QString& id);

    /// Sets (or replaces) the PIN of the caller's session for this shift and binds the session to
    /// `workstationId`. Only on a `shared_workstation` session that is not parked.
    [[nodiscard]] Result<qint64> setPin(const AuthContext& who, const QString& pin,
                                        const QString& workstationId, const RequestInfo& info);
    /// Parks the caller's session (switch user). Its access tokens stop working at once.
    [[nodiscard]] Result<void> park(const AuthContext& who, const RequestInfo& info);

    /// The outcome of a resume attempt that did not succeed, for the HTTP answer.
    struct Refusal
    {
        Error error;
        const char* name = nullptr; // the wire error name, when it is not the ErrorCode's
    };
    /// Checks the PIN of the parked session of `refreshToken` and un-parks it; then the caller
    /// rotates the pair with SessionService::refresh() (theft detection as for any refresh).
    [[nodiscard]] std::optional<Refusal> resume(const QByteArray& refreshToken, const QString& pin,
                                                const RequestInfo& info);

    /// One stretch of a clinician at a workstation: from the PIN set or a resume to a park (0:
    /// still active, or the session ended otherwise).
    struct Handover
    {
        QString userId;
        QString email;
        QString sessionId;
        qint64 fromMs = 0;
        qint64 toMs = 0;
        QString how; // "signed_in" (PIN set) or "resumed"
    };
    /// The hand-overs at `workstationId` since `sinceMs`, oldest first (from the audit rows).
    [[nodiscard]] Result<std::vector<Handover>> handovers(const QString& workstationId, qint64 sinceMs);

private:
    struct PinRow
    {
        QString workstationId;
        QByteArray hash;
        qint64 validUntil = 0;
        int failures = 0;
    };
    Result<std::optional<PinRow>> pinOf(const QString& sessionId);
    Result<void> clearPin(const QString& sessionId);
    /// The policy values of a session (its stored policy JSON), defaults where it has none.
    static int shiftWindowOf(const SessionRecord& s);
    static int maxFailuresOf(const SessionRecord& s);
    AuditActor actorOf(const SessionRecord& s, const RequestInfo& info) const;
    std::optional<Refusal> fullSignIn(const QString& message) const;

    Deps d;
};

} // namespace ehrs::server
