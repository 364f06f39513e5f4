// SPDX-License-Identifier: Apache-2.0
#pragma once

// Messages of the agent's local API (docs/agent-api.md), shared by the agent that serves them and
// the desktop app and the agent's own sub-commands that use them. Each message is one JSON object
// in one frame (FrameDecoder.h).
//
//   request   {"type": "<command>", "id": <int>, ...arguments}
//   reply     {"type": "reply", "id": <same>, "ok": true, ...result}
//             {"type": "reply", "id": <same>, "ok": false, "error": "<code>", "message": "...",
//                                                           "retryAfter": <seconds, when rate-limited>,
//                                                           "attemptsLeft": <n>, "helpText": "..." (sign-in)}
//   event     {"type": "event", "event": "<name>", ...fields}      (only after "subscribe")
//
// The refresh token never appears in any of these messages.

#include "Result.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <variant>
#include <vector>

namespace ehrs::ipc {

enum class RequestType { Token, Status, Login, VerifyMfa, Logout, Subscribe, SetPin, SwitchUser, Resume };

/// Wire name of a request type ("token", "verify-mfa", ...) and back.
QString requestTypeName(RequestType type);
std::optional<RequestType> requestTypeFromName(const QString& name);

/// A request from a client. Which fields matter depends on `type`:
/// login: serverUrl (optional when the agent already knows one), email, password,
///        allowInsecureHttp (the user's explicit opt-in to http:// to a host that is not loopback);
/// verify-mfa: code (the challenge is the one the same connection's login received),
///             rememberDevice (ask the server to remember this device: its next sign-ins skip the code);
/// token: minValidSeconds (optional, clamped by the agent);
/// set-pin: pin; resume: email, pin (shared workstations, issue 14); switch-user: nothing.
struct Request
{
    RequestType type = RequestType::Status;
    qint64 id = 0;
    QString serverUrl;
    QString email;
    QString password;
    QString code;
    int minValidSeconds = 0;
    bool allowInsecureHttp = false;
    bool rememberDevice = false; // verify-mfa
    QString pin;                 // set-pin, resume: never logged, never echoed back
};

/// Parses and validates a request payload; errors are InvalidRequest with a message for the peer.
[[nodiscard]] Result<Request> requestFromJson(QByteArrayView payload);
QByteArray toPayload(const Request& request);
/// What can be read of a request that requestFromJson() refused, so that the error reply carries
/// its id: `id` (0 when there is none), and whether it is otherwise a proper request (a JSON object
/// with a known type and an integer id) whose arguments were wrong, after which the connection
/// can carry on.
struct RequestHeader
{
    qint64 id = 0;
    bool wellFormed = false;
};
RequestHeader requestHeaderOf(QByteArrayView payload);

/// Reply to `token`: an access token valid for at least a little while.
struct TokenReply
{
    QString accessToken;
    QDateTime expiresAt;
};

/// Reply to `status`. `state` is "signed-out", "signed-in", "refreshing", "offline" or "starting".
struct StatusReply
{
    QString state;
    bool signedIn = false;
    QString serverUrl;
    QString email;
    QString userId;
    QString sessionId;
    QDateTime accessTokenExpiresAt;
    QDateTime lastRefreshAt;
    QDateTime nextRefreshAt;
    QString lastError;       // human message of the last failure, empty when none
    QString signedOutReason; // error code name why the agent signed out, e.g. "session_revoked"
    QString storage;         // "keychain" or "memory"
    QString storageNote;     // memory without a keychain: why there is none (no D-Bus, no Secret Service)
    bool liveUpdates = false; // the agent's server event stream is connected (live-updates event)
    bool locked = false;      // the desktop session is locked: `token` answers workstation_locked
    /// Where the agent learns that the clinician is active (issue 14): "logind", "logind+screensaver",
    /// ... or "local-apps" when no desktop source is reachable (only token requests count then).
    QString activitySource;
    /// The agent is holding back its refresh because nobody used the desktop or asked for a token
    /// since the last one: the server's idle timeout runs.
    bool idle = false;

    // Shared workstations (issue 14, docs/agent-api.md "Shared workstations").
    QString deviceClass;   // "personal" or "shared_workstation"
    QString workstationId; // "ws-" + 16 hex characters (not the machine-id itself)
    bool pinSet = false;   // the active clinician has a PIN for this shift
    QDateTime pinValidUntil;
    struct ParkedAccount
    {
        QString email;
        QString userId;
        QDateTime parkedAt;
        QString serverUrl;
    };
    /// Clinicians whose sessions are parked here (switch user), oldest first; `resume` with a PIN.
    std::vector<ParkedAccount> parkedAccounts;
};

/// Reply to `set-pin`: when the PIN stops working (the end of the shift window).
struct SetPinReply
{
    QDateTime validUntil;
};

/// Reply to `switch-user`: who was parked. Nobody is active afterwards.
struct SwitchUserReply
{
    QString email;
    QString userId;
};

/// Reply to `login` and `verify-mfa`: either signed in, or a second factor is needed.
struct LoginReply
{
    bool requiresMfa = false;
    QStringList methods; // when requiresMfa: "totp", "backup_code"
    QString email;
    QString userId;
    QString sessionId;
    /// verify-mfa with rememberDevice: whether the server remembered this device (its
    /// `deviceRemembered`); unset when remembering was not asked for.
    std::optional<bool> deviceRemembered;
};

/// Events pushed to subscribers.
struct TokenRefreshedEvent
{
    QString accessToken;
    QDateTime expiresAt;
};
struct SignedOutEvent
{
    QString reason; // error code name: session_revoked, refresh_token_reused, session_expired, unauthorized,
                    // logout
    QString message;
};
struct SessionRevokedEvent
{
    QString sessionId;
    bool current = false; // true when it is the agent's own session (a signed-out event follows)
};
struct NewSignInEvent
{
    QString sessionId;
    QString device; // "Chrome on Windows"
    QString ipAddress;
    QString location;
    QDateTime time;
};
/// The agent's event stream from the server connected (`live`) or dropped: while it is live,
/// account changes arrive as events and clients need not poll the server.
struct LiveUpdatesEvent
{
    bool live = false;
};
/// The server judged a sign-in with the account's password unusual (its `suspicious-sign-in`
/// event): `reasons` in words ("first sign-in from Lisbon, Portugal"), `device` from its User-Agent.
struct SuspiciousSignInEvent
{
    QStringList reasons;
    QString device;
    QString location;
    QDateTime time;
};
/// The active clinician changed on a shared workstation (switch user, resume, sign-in, sign-out):
/// `email` empty when nobody is active now. Tokens asked for before it belong to the previous one.
struct UserSwitchedEvent
{
    QString email;
    QString userId;
};
/// The desktop session was locked or unlocked (logind, or the screensaver): while `locked`,
/// `token` answers `workstation_locked`. Sent on every change, signed in or not.
struct LockChangedEvent
{
    bool locked = false;
};
using Event = std::variant<TokenRefreshedEvent, SignedOutEvent, SessionRevokedEvent, NewSignInEvent,
                           LiveUpdatesEvent, SuspiciousSignInEvent, UserSwitchedEvent, LockChangedEvent>;

QByteArray toPayload(const Event& event);
QByteArray replyPayload(qint64 id, const TokenReply& reply);
QByteArray replyPayload(qint64 id, const StatusReply& reply);
QByteArray replyPayload(qint64 id, const LoginReply& reply);
QByteArray replyPayload(qint64 id, const SetPinReply& reply);
QByteArray replyPayload(qint64 id, const SwitchUserReply& reply);
/// `{"type":"reply","id":id,"ok":true}` for commands without a result (logout, subscribe).
QByteArray okPayload(qint64 id);
QByteArray errorPayload(qint64 id, const Error& error);

/// Wire code of the answer to `token` while the desktop session is locked (issue 14): distinct
/// from every server error, so that a local app shows "locked" rather than "signed out".
inline constexpr char kWorkstationLockedCode[] = "workstation_locked";
/// The agent's answer while the workstation is locked. In C++ it travels as a Forbidden error with
/// this message (ErrorCode is shared with the server); on the wire its code is
/// kWorkstationLockedCode.
Error workstationLockedError();
bool isWorkstationLocked(const Error& error);

/// Shared workstations (issue 14). Wire codes beyond ErrorCode's names; in C++ they travel as the
/// ErrorCode of their HTTP status with Error::name set.
/// `token` while nobody is active but clinicians are parked here: not a sign-out; show the
/// switch-user screen (Forbidden).
inline constexpr char kNoActiveClinicianCode[] = "no_active_clinician";
/// `resume` with a wrong PIN; `attemptsLeft` says how many more (Unauthenticated, HTTP 401).
inline constexpr char kInvalidPinCode[] = "invalid_pin";
/// `resume` cannot succeed with a PIN (too many wrong PINs, shift over, session ended, no parked
/// session of that email): the parked account is forgotten; sign in with the password (Forbidden).
inline constexpr char kFullSignInRequiredCode[] = "full_sign_in_required";
/// The server's answer to a refresh of a parked session (Forbidden).
inline constexpr char kSessionParkedCode[] = "session_parked";
Error noActiveClinicianError();
bool isNoActiveClinician(const Error& error);
bool isInvalidPin(const Error& error);
bool isFullSignInRequired(const Error& error);
bool isSessionParked(const Error& error);
/// The error's wire code: Error::name when set, workstation_locked, else the ErrorCode's name.
QString errorWireName(const Error& error);

/// A message received by a client: a reply to one of its requests or an event.
struct Incoming
{
    bool isEvent = false;
    qint64 id = 0;
    std::optional<Error> error; // a failed reply
    QByteArray payload;         // the whole JSON object, for the typed readers below
};
[[nodiscard]] Result<Incoming> incomingFromPayload(QByteArrayView payload);
[[nodiscard]] Result<TokenReply> tokenReplyFromPayload(QByteArrayView payload);
[[nodiscard]] Result<StatusReply> statusReplyFromPayload(QByteArrayView payload);
[[nodiscard]] Result<LoginReply> loginReplyFromPayload(QByteArrayView payload);
[[nodiscard]] Result<SetPinReply> setPinReplyFromPayload(QByteArrayView payload);
[[nodiscard]] Result<SwitchUserReply> switchUserReplyFromPayload(QByteArrayView payload);
[[nodiscard]] Result<Event> eventFromPayload(QByteArrayView payload);
/// Wire name of an event ("token-refreshed", "signed-out", "session-revoked", "new-sign-in",
/// "live-updates", "suspicious-sign-in", "user-switched").
QString eventName(const Event& event);

} // namespace ehrs::ipc
