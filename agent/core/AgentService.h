// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "AgentConfig.h"
#include "ClientErrors.h"
#include "ClinicianActivity.h"
#include "FutureHelpers.h"
#include "LoginStep.h"
#include "PolicyInfo.h"
#include "Result.h"
#include "SessionWatcher.h"
#include "WireModels.h"
#include "ipc/AgentMessages.h"
#include "net/ServerClient.h"
#include "storage/StoredAccount.h"

#include <QDateTime>
#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QSet>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace ehrs::agent {

class Clock;
class DesktopActivity;
class RefreshScheduler;
class SessionEventWatcher;
class TokenStore;

/// The agent's state machine: who is signed in, the in-memory access token, refresh with
/// rotation, sign-out on revocation. Transport-free: the local API and the tests drive it.
///
/// Invariants:
/// - the refresh token is only ever in the TokenStore and in this object; it is not returned;
/// - a rotated refresh token is saved to the store before the access token that came with it is
///   handed out or announced; if that save fails the old refresh token is kept and retried (the
///   server re-sends the same pair until the new access token is used);
/// - at most one refresh is in flight; concurrent callers share its future.
class AgentService : public QObject
{
    Q_OBJECT
public:
    enum class State { Starting, SignedOut, SignedIn, Refreshing, Offline };

    AgentService(TokenStore& store, ServerClient& server, RefreshScheduler& scheduler, const Clock& clock,
                 AgentConfig config, QObject* parent = nullptr);
    ~AgentService() override;

    /// Loads the stored account and, if there is one, refreshes at once (the access token is
    /// never stored, so a restarted agent needs a new one).
    void start();

    /// A token valid for at least `minValidSeconds` (0: the agent's default margin), refreshing
    /// first when needed.
    QFuture<Result<ipc::TokenReply>> token(int minValidSeconds = 0);
    ipc::StatusReply status() const;
    /// Signs in. http:// is refused unless the server is loopback (127.0.0.0/8, ::1, localhost) or
    /// the user opted in with `allowInsecureHttp` (`login --allow-insecure-http`).
    QFuture<Result<LoginStep>> login(const QString& serverUrl, const QString& email, const QString& password,
                                     bool allowInsecureHttp = false);
    /// Whether signing in to `server` may go ahead: https, or http to loopback, or http with the
    /// opt-in. Otherwise an InvalidRequest error that says why.
    [[nodiscard]] static Result<void> checkTransport(const QUrl& server, bool allowInsecureHttp);
    /// `rememberDevice`: ask the server to remember this device (its credential then satisfies the
    /// second factor at this account's next sign-ins here); the reply says whether it did.
    QFuture<Result<LoginStep>> verifyMfa(const PendingMfa& pending, const QString& code,
                                         bool rememberDevice = false);
    /// Revokes the session on the server, then clears local state (also when the server cannot be
    /// reached; the reply then says so).
    QFuture<Result<void>> logout();
    /// Single-flight refresh: at most one request to the server; every caller's future resolves
    /// with its outcome (the new access token).
    QFuture<Result<QString>> refresh();

    // Fed by the server's account event stream (SessionEventWatcher).
    enum class AccountChange { Sessions, Mfa, Password };
    /// Something changed on the account elsewhere: look (the session list, 2FA state) and tell.
    void accountChanged(AccountChange change);
    /// The server said this session ended: sign out now (keychain entry removed, clients told).
    void endedByServer(const QString& reason, const QString& message);
    /// While the stream is connected the session list is not polled after each refresh. A change
    /// is told to subscribers (live-updates event) so that they stop or resume their own polling.
    void setPushConnected(bool connected);
    /// The access token in hand (memory only), for the event stream; empty when there is none.
    QString pushToken() const { return m_accessToken; }

    // Issue 14: activity-aware refresh and screen lock (AgentServiceActivity.cpp).
    /// The desktop's idle and lock signals; null (the default) or unavailable: only local apps'
    /// token requests count as activity, which is said once in the log.
    void setDesktopActivity(DesktopActivity* desktop);
    /// IT's policy for the session arrived (login, refresh, /api/auth/me, policy-changed event).
    void policyChanged(const SessionPolicyInfo& policy);
    /// The server's stream hinted that the session may be over: refresh to learn the reason, unless
    /// the clinician is away (a refresh would then count as activity; the next one tells).
    void sessionMayHaveEnded();
    /// The desktop session is locked (logind LockedHint, Lock, or the screensaver): no tokens.
    bool isLocked() const;
    /// End on lock: by the server's policy or this agent's own setting (the stricter wins).
    bool endsOnLock() const;

    // Issue 14, point 4: shared workstations, PIN switch-user (AgentServiceWorkstation.cpp).
    /// Sets the active clinician's shift PIN on the server (PUT /api/workstation/pin).
    QFuture<Result<ipc::SetPinReply>> setPin(const QString& pin);
    /// Parks the active clinician (POST /api/workstation/park): their tokens are not handed out
    /// any more, their account stays in the keychain as parked, nobody is active afterwards.
    QFuture<Result<ipc::SwitchUserReply>> switchUser();
    /// Makes the parked clinician `email` active with their PIN (POST /api/workstation/resume),
    /// after parking (or, without a PIN, signing out) whoever is active. A refusal that a PIN
    /// cannot overcome forgets the parked account and answers full_sign_in_required.
    QFuture<Result<LoginStep>> resume(const QString& email, const QString& pin);
    /// This agent serves a shared workstation: by its setting, by the server's policy for the
    /// session, or because clinicians are parked here.
    bool isSharedWorkstation() const;
    const std::vector<StoredAccount>& parkedAccounts() const { return m_parked; }

    State state() const { return m_state; }
    bool isSignedIn() const { return m_account.has_value(); }
    QString storageKind() const;
    const AgentConfig& config() const { return m_config; }

Q_SIGNALS:
    /// Something subscribers must hear about (token-refreshed, signed-out, ...).
    void eventOccurred(const ehrs::ipc::Event& event);
    void stateChanged(ehrs::agent::AgentService::State state);
    /// start() finished loading the store.
    void started();
    /// A change to the account's security the user should hear about even if they did not make
    /// it (today: two-step verification turned on, off or reset); shown as a desktop notification.
    void securityNotice(const QString& summary, const QString& body);

private:
    void setState(State state);
    /// The end of start(): `loaded` is the active account (none when it is parked).
    void finishStart(quint64 generation, const Result<std::optional<StoredAccount>>& loaded);
    void onRefreshDue();
    /// Whether the clinician was active since the last refresh was sent.
    bool activeSinceLastRefresh();
    /// Activity after a held-back refresh: refresh now (not while locked).
    void resumeIfHeld(const char* why);
    void onDesktopIdleChanged(bool idle);
    /// Tells subscribers (`lock-changed`), then applyLock().
    void onLockedChanged(bool locked);
    /// What a lock or an unlock does to the session: no tokens, or its end when policy says so.
    void applyLock(bool locked);
    /// POST logout with a token in hand (refreshed if needed), then sign out with `reason`.
    QFuture<Result<void>> endSession(const QString& reason, const QString& message);
    /// token() without the lock check: for the agent's own logout.
    QFuture<Result<ipc::TokenReply>> obtainToken(int minValidSeconds);
    void sendRefresh(quint64 generation, const StoredAccount& account, bool followUp);
    bool retryWithPreviousToken(quint64 generation, const StoredAccount& account, const Error& error,
                                bool followUp);
    void onRefreshResult(quint64 generation, const StoredAccount& account, const Result<AuthTokens>& result,
                         bool followUp);
    void adoptTokens(const AuthTokens& tokens);
    void finishRefresh(Result<QString> result);
    /// Ends the session here; the future finishes once the keychain entry is deleted.
    QFuture<void> signOut(const QString& reason, const QString& message, bool revoked);
    void announceTokens();
    QFuture<Result<LoginStep>> completeLogin(const QUrl& server, const QString& email,
                                             const QString& deviceCredential,
                                             const Result<LoginOutcome>& outcome);
    static QString accountServerUrl(const QUrl& server);
    qint64 remainingValidityMs() const;
    static bool endsSession(ErrorCode code) { return isSessionEnded(code); }
    /// The error code a request gets after a sign-out for `reason`.
    static ErrorCode signedOutCode(const QString& reason);
    static QString endedOnLockMessage();
    /// Forgets the active clinician in memory (token, refresh schedule, watchers): the common part
    /// of a sign-out and a park. Waiting refreshes fail with `forWaiters`.
    void dropActive(const Error& forWaiters);
    /// Makes `account` (stored) the active clinician with `tokens`: the common end of a sign-in
    /// and a resume. The reply for the client.
    LoginStep activate(const StoredAccount& account, const AuthTokens& tokens);
    /// Signs the new sign-in in once the clinician active before it is out of the way.
    QFuture<Result<LoginStep>> adoptLogin(const QUrl& server, const QString& email,
                                          const QString& deviceCredential, const AuthTokens& tokens);
    // Shared workstations (AgentServiceWorkstation.cpp).
    /// Parks the active clinician on the server, then here; the parked account on success.
    QFuture<Result<StoredAccount>> parkActive();
    /// Whoever is active steps aside for another clinician: parked when they have a PIN,
    /// otherwise (or when parking fails) signed out. Finishes with nobody active.
    QFuture<void> vacate(const QString& forWhom);
    /// The second half of resume(): the PIN goes to the server with the parked refresh token.
    QFuture<Result<LoginStep>> resumeParked(const QString& key, const QString& pin);
    /// The server answered a refresh with session_parked (parked before a crash of this agent):
    /// the account moves to the parked list, nobody is active.
    void parkedByServer();
    /// Tells subscribers (user-switched) when the active clinician is not the one last told.
    void noteActiveClinician();
    /// Stores the active account's PIN end once no refresh is saving the account.
    void persistPin(qint64 validUntilMs);
    std::vector<StoredAccount>::iterator findParked(const QString& keyOrEmail);

    TokenStore& m_store;
    ServerClient& m_server;
    RefreshScheduler& m_scheduler;
    const Clock& m_clock;
    AgentConfig m_config;
    SessionWatcher m_watcher; // the account's other sessions and its 2FA state

    State m_state = State::Starting;
    std::optional<StoredAccount> m_account; // mirrors the store
    QString m_accessToken;                  // memory only
    qint64 m_accessLifetimeMs = 0;
    qint64 m_accessExpiresElapsedMs = 0; // on Clock::elapsedMs()
    QDateTime m_accessExpiresAt;
    QDateTime m_lastRefreshAt;
    QString m_lastError;
    QString m_signedOutReason;
    quint64 m_generation = 0; // bumped on every sign-in/out; stale async results are dropped
    bool m_refreshInFlight = false;
    std::vector<std::shared_ptr<QPromise<Result<QString>>>> m_refreshWaiters; // single flight, many callers
    bool m_starting = false;
    std::vector<std::function<void()>> m_afterStart; // requests that arrived while the store loads
    bool m_loginInProgress = false;
    QFuture<void> m_signOutDone = ehrs::readyFuture(); // the last sign-out: done once the keychain entry is gone
    bool m_pushConnected = false;
    std::unique_ptr<SessionEventWatcher> m_eventWatcher; // null with AgentConfig::watchServerEvents off
    ClinicianActivity m_activity;
    DesktopActivity* m_desktop = nullptr;
    bool m_held = false;                   // a due refresh was held back: nobody active, or locked
    qint64 m_refreshSentMs = 0;            // on Clock::elapsedMs(): the refresh in flight was sent
    qint64 m_lastRefreshSentMs = 0;        // ... and the last one that succeeded
    std::optional<SessionPolicyInfo> m_policy; // the last policy the server sent for the signed-in session
    bool m_endingOnLock = false;
    std::vector<StoredAccount> m_parked;        // shared workstations: parked clinicians, oldest first
    bool m_handoverInProgress = false;          // a switch-user or resume is under way
    std::optional<SessionPolicyInfo> m_loginPolicy; // of a sign-in while another clinician is active
    std::shared_ptr<QPromise<void>> m_parkGate; // a park is on its way to the server: refreshes wait
    QString m_announcedUserId;                  // the active clinician last told in user-switched
    QString m_announcedEmail;
};

} // namespace ehrs::agent
