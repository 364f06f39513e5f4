// SPDX-License-Identifier: Apache-2.0
#include "AgentService.h"

#include "Crypto.h"
#include "Futures.h"
#include "Logging.h"
#include "ServerUrl.h"
#include "core/Clock.h"
#include "core/DesktopActivity.h"
#include "refresh/RefreshScheduler.h"
#include "refresh/SessionEventWatcher.h"
#include "storage/TokenStore.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace ehrs::agent {
namespace {
// Default margin for `token`: a script gets a token that outlives its own run, without asking for
// a refresh on every call. Capped by a fifth of the lifetime for short test TTLs.
constexpr qint64 kDefaultMinValidityMs = 60 * 1000;
// A refresh answer whose access token lives less than this is not worth handing out.
constexpr qint64 kMinUsefulLifetimeSeconds = 3;

QString stateName(AgentService::State s)
{
    switch (s) {
    case AgentService::State::Starting: return QStringLiteral("starting");
    case AgentService::State::SignedOut: return QStringLiteral("signed-out");
    case AgentService::State::SignedIn: return QStringLiteral("signed-in");
    case AgentService::State::Refreshing: return QStringLiteral("refreshing");
    case AgentService::State::Offline: return QStringLiteral("offline");
    }
    return {};
}

/// The `sub` claim, read without verification: only used to label the account when the login
/// response has no user object. The server verifies every token it receives.
QString subjectOf(const QString& jwt)
{
    const QList<QStringView> parts = QStringView(jwt).split(u'.');
    if (parts.size() != 3)
        return {};
    auto payload = crypto::base64UrlDecode(parts[1].toLatin1());
    if (!payload)
        return {};
    auto j = nlohmann::json::parse(payload->begin(), payload->end(), nullptr, false);
    if (!j.is_object())
        return {};
    return json::optionalString(j, "sub", 100).value_or(QString());
}

} // namespace

QString AgentService::endedOnLockMessage()
{
    return QStringLiteral("The session ended when the workstation was locked (end-on-lock policy)");
}

ErrorCode AgentService::signedOutCode(const QString& reason)
{
    // ended_on_lock is the agent's own reason, not a server code: the session is over, as if
    // revoked (clients then offer to sign in again).
    if (reason == u"ended_on_lock")
        return ErrorCode::SessionRevoked;
    return errorCodeFromName(reason.toStdString());
}

AgentService::AgentService(TokenStore& store, ServerClient& server, RefreshScheduler& scheduler,
                           const Clock& clock, AgentConfig config, QObject* parent)
    : QObject(parent), m_store(store), m_server(server), m_scheduler(scheduler), m_clock(clock),
      m_config(std::move(config)), m_watcher(server), m_activity(clock)
{
    connect(&m_scheduler, &RefreshScheduler::refreshDue, this, &AgentService::onRefreshDue);
    connect(&m_server, &ServerClient::policyReceived, this, &AgentService::policyChanged);
    connect(&m_watcher, &SessionWatcher::eventOccurred, this, &AgentService::eventOccurred);
    connect(&m_watcher, &SessionWatcher::securityNotice, this, &AgentService::securityNotice);
    connect(&m_watcher, &SessionWatcher::sessionEnded, this, [this](const Error& e) {
        signOut(QString::fromLatin1(errorCodeName(e.code).data()), e.message, true);
    });
    if (m_config.watchServerEvents)
        m_eventWatcher = std::make_unique<SessionEventWatcher>(*this, m_server.network());
}

AgentService::~AgentService()
{
    finishRefresh(fail(ErrorCode::Unavailable, QStringLiteral("the agent is stopping")));
}

QString AgentService::storageKind() const
{
    return m_store.kind();
}

void AgentService::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void AgentService::start()
{
    m_starting = true;
    const quint64 generation = m_generation;
    m_store.load().then(this, [this, generation](const Result<std::optional<StoredAccount>>& current) {
        // Then the parked clinicians of a shared workstation (issue 14).
        m_store.loadParked().then(this, [this, generation,
                                         current](const Result<std::vector<StoredAccount>>& parked) {
            std::optional<StoredAccount> active = current ? *current : std::nullopt;
            if (generation == m_generation) {
                if (!parked)
                    qCWarning(lcAgentStorage) << "cannot read the parked accounts:" << parked.error().message;
                for (const StoredAccount& a : parked.value_or(std::vector<StoredAccount>{})) {
                    if (!active || a.storageKey() != active->storageKey() || a.isParked())
                        m_parked.push_back(a);
                }
                // Parked on the server just before a crash: its own entry says so.
                if (active && active->isParked()) {
                    if (findParked(active->storageKey()) == m_parked.end())
                        m_parked.push_back(*active);
                    active.reset();
                }
                if (!m_parked.empty())
                    qCInfo(lcAgent) << m_parked.size() << "parked clinician(s) on this workstation";
            }
            finishStart(generation, current ? Result<std::optional<StoredAccount>>(active) : current);
        });
    });
}

void AgentService::finishStart(quint64 generation, const Result<std::optional<StoredAccount>>& loaded)
{
    m_starting = false;
    if (generation == m_generation) {
        if (!loaded) {
            qCWarning(lcAgent) << "cannot read the stored account:" << loaded.error().message;
            m_lastError = loaded.error().message;
            setState(State::SignedOut);
        } else if (!*loaded) {
            qCInfo(lcAgent) << "no stored account: signed out";
            setState(State::SignedOut);
        } else {
            m_account = **loaded;
            qCInfo(lcAgent) << "restoring the session of" << m_account->email << "on" << m_account->serverUrl;
            m_policy = m_account->policy;
            if (isLocked()) {
                qCInfo(lcAgentRefresh) << "the workstation is locked: refreshing once it is unlocked";
                m_held = true;
                setState(State::SignedIn);
            } else {
                setState(State::Refreshing);
                (void)refresh();
            }
        }
        // Who is active now, as restored: told to subscribers only when it changes.
        m_announcedEmail = m_account ? m_account->email : QString();
        m_announcedUserId = m_account ? m_account->userId : QString();
    }
    for (auto& waiter : std::exchange(m_afterStart, {}))
        waiter();
    Q_EMIT started();
}

qint64 AgentService::remainingValidityMs() const
{
    if (m_accessToken.isEmpty())
        return 0;
    return m_accessExpiresElapsedMs - m_clock.elapsedMs();
}

QFuture<Result<ipc::TokenReply>> AgentService::token(int minValidSeconds)
{
    using R = Result<ipc::TokenReply>;
    if (m_starting) {
        // Still reading the keychain: answer once that is done.
        auto promise = startedPromise<R>();
        m_afterStart.push_back([this, promise, minValidSeconds] {
            token(minValidSeconds).then(this, [promise](const R& r) { finishPromise(*promise, r); });
        });
        return promise->future();
    }
    if (m_account && isLocked()) // not activity either: nobody can be at a locked desktop
        return readyFuture(R(fail(ipc::workstationLockedError())));
    if (!m_account && !m_parked.empty()) // switch user: not a sign-out, the next clinician chooses
        return readyFuture(R(fail(ipc::noActiveClinicianError())));
    if (m_account) {
        m_activity.localRequest();
        resumeIfHeld("a local app asked for a token");
    }
    return obtainToken(minValidSeconds);
}

QFuture<Result<ipc::TokenReply>> AgentService::obtainToken(int minValidSeconds)
{
    // Only after start-up: token() waits for it, and logout() has no account before it.
    using R = Result<ipc::TokenReply>;
    if (!m_account) {
        if (!m_parked.empty())
            return readyFuture(R(fail(ipc::noActiveClinicianError())));
        if (!m_signedOutReason.isEmpty() && m_signedOutReason != u"logout")
            return readyFuture(
                R(fail(signedOutCode(m_signedOutReason),
                       QStringLiteral("signed out (%1): %2").arg(m_signedOutReason, m_lastError))));
        return readyFuture(R(fail(ErrorCode::Unauthenticated, QStringLiteral("not signed in"))));
    }
    // An explicit minValidSeconds is a promise to the caller (issue 13): never a token with less
    // left. The default margin is the agent's own and adapts to short lifetimes.
    const bool promised = minValidSeconds > 0;
    qint64 needMs =
        promised ? qint64(minValidSeconds) * 1000 : std::min(kDefaultMinValidityMs, m_accessLifetimeMs / 5);
    if (!promised)
        needMs = std::min(needMs, m_accessLifetimeMs > 0 ? m_accessLifetimeMs / 2 : needMs);
    if (!m_accessToken.isEmpty() && remainingValidityMs() > needMs)
        return readyFuture(R(ipc::TokenReply{m_accessToken, m_accessExpiresAt}));

    return refresh().then(this, [this, promised, needMs](const Result<QString>& refreshed) -> R {
        const qint64 left = remainingValidityMs();
        if (refreshed) {
            if (left >= needMs || !promised)
                return ipc::TokenReply{m_accessToken, m_accessExpiresAt};
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("the server's access tokens live %1 s, less than the %2 s asked for")
                            .arg(m_accessLifetimeMs / 1000)
                            .arg(needMs / 1000));
        }
        // The refresh failed, but the token in hand may still be good for what was asked.
        const qint64 floorMs = promised ? needMs : 1000;
        if (m_account && !m_accessToken.isEmpty() && left >= floorMs)
            return ipc::TokenReply{m_accessToken, m_accessExpiresAt};
        if (m_account && !m_accessToken.isEmpty())
            return fail(refreshed.error().code,
                        QStringLiteral("could not refresh in time (%1); the current token has %2 s left, "
                                       "less than the %3 s asked for")
                            .arg(refreshed.error().message)
                            .arg(std::max<qint64>(0, left / 1000))
                            .arg(floorMs / 1000));
        return fail(refreshed.error());
    });
}

ipc::StatusReply AgentService::status() const
{
    ipc::StatusReply s;
    s.state = stateName(m_state);
    s.signedIn = m_account.has_value();
    if (m_account) {
        s.serverUrl = m_account->serverUrl;
        s.email = m_account->email;
        s.userId = m_account->userId;
        s.sessionId = m_account->sessionId;
    }
    if (!m_accessToken.isEmpty())
        s.accessTokenExpiresAt = m_accessExpiresAt;
    s.lastRefreshAt = m_lastRefreshAt;
    if (auto deadline = m_scheduler.deadlineMs())
        s.nextRefreshAt = m_clock.now().addMSecs(std::max<qint64>(0, *deadline - m_clock.elapsedMs()));
    s.lastError = m_lastError;
    s.signedOutReason = m_signedOutReason;
    s.storage = m_store.kind();
    s.storageNote = m_store.note();
    s.liveUpdates = m_pushConnected;
    s.locked = m_account && isLocked();
    s.idle = m_account && m_held;
    s.activitySource = m_desktop && m_desktop->isAvailable()
                           ? m_desktop->sources() + QStringLiteral("+local-apps")
                           : QStringLiteral("local-apps");
    s.deviceClass = isSharedWorkstation() ? QStringLiteral("shared_workstation") : QStringLiteral("personal");
    s.workstationId = m_config.workstationId;
    if (m_account && m_account->pinValidUntilMs > 0) {
        s.pinValidUntil = QDateTime::fromMSecsSinceEpoch(m_account->pinValidUntilMs, Qt::UTC);
        s.pinSet = m_account->pinValidUntilMs > m_clock.now().toMSecsSinceEpoch();
    }
    for (const StoredAccount& p : m_parked)
        s.parkedAccounts.push_back(ipc::StatusReply::ParkedAccount{
            p.email, p.userId, QDateTime::fromMSecsSinceEpoch(p.parkedAtMs, Qt::UTC), p.serverUrl});
    return s;
}

void AgentService::setPushConnected(bool connected)
{
    if (connected == m_pushConnected)
        return;
    m_pushConnected = connected;
    Q_EMIT eventOccurred(ipc::LiveUpdatesEvent{connected});
}

QFuture<Result<QString>> AgentService::refresh()
{
    if (!m_account)
        return readyFuture(Result<QString>(
            fail(m_parked.empty() ? Error{ErrorCode::Unauthenticated, QStringLiteral("not signed in")}
                                  : ipc::noActiveClinicianError())));
    if (m_parkGate) // switch user: after the park's answer (which may leave nobody to refresh)
        return m_parkGate->future().then(this, [this] { return refresh(); }).unwrap();
    // Each caller gets its own promise: a QFuture carries a single continuation in Qt 6, so
    // sharing one future would silently drop all but the last caller's continuation.
    auto waiter = startedPromise<Result<QString>>();
    m_refreshWaiters.push_back(waiter);
    if (m_refreshInFlight)
        return waiter->future();
    m_refreshInFlight = true;
    auto future = waiter->future();
    const quint64 generation = m_generation;
    const StoredAccount account = *m_account;
    if (m_state != State::Offline)
        setState(State::Refreshing);
    sendRefresh(generation, account, false);
    return future;
}

void AgentService::sendRefresh(quint64 generation, const StoredAccount& account, bool followUp)
{
    qCDebug(lcAgentRefresh) << "refreshing the session" << account.sessionId;
    m_refreshSentMs = m_clock.elapsedMs();
    m_server.refresh(QUrl(account.serverUrl), account.refreshToken)
        .then(this, [this, generation, account, followUp](const Result<AuthTokens>& result) {
            onRefreshResult(generation, account, result, followUp);
        });
}

bool AgentService::retryWithPreviousToken(quint64 generation, const StoredAccount& account,
                                          const Error& error, bool followUp)
{
    // An unknown refresh token (not a re-used, revoked or expired one) while the token before it
    // is kept: the server may have lost the last rotation (a database failover to a standby that
    // had not received it) and hold the previous token as current. Presented once. A server that
    // does know the newer rotation never calls the newer token unknown, so this is never the
    // re-use that would end the session (docs/operations.md, "High availability").
    if (error.code != ErrorCode::Unauthenticated || account.previousRefreshToken.isEmpty())
        return false;
    qCWarning(lcAgentRefresh)
        << "the server does not know the current refresh token; presenting the previous one"
        << "(a rotation lost in a database failover?)";
    StoredAccount previous = account;
    previous.refreshToken = account.previousRefreshToken;
    previous.previousRefreshToken.clear();
    sendRefresh(generation, previous, followUp);
    return true;
}

void AgentService::onRefreshResult(quint64 generation, const StoredAccount& account, const Result<AuthTokens>& result,
                                   bool followUp)
{
    if (generation != m_generation)
        return; // signed out or in again meanwhile; that path finished the promise
    if (!result) {
        const Error& e = result.error();
        if (ipc::isSessionParked(e)) {
            parkedByServer();
            return;
        }
        if (retryWithPreviousToken(generation, account, e, followUp))
            return;
        if (endsSession(e.code)) {
            qCWarning(lcAgent) << "the server ended the session:" << errorCodeName(e.code).data();
            signOut(QString::fromLatin1(errorCodeName(e.code).data()), e.message, true);
            return;
        }
        m_lastError = e.message;
        setState(e.code == ErrorCode::NetworkError ? State::Offline
                                                   : (m_accessToken.isEmpty() ? State::Offline : State::SignedIn));
        m_scheduler.refreshFailed(e);
        finishRefresh(fail(e));
        return;
    }
    if (m_config.crashAfterRotationForTesting) {
        // Test hook: the server has rotated, nothing is saved yet. Exit without cleanup, as a
        // SIGKILL would.
        qCCritical(lcAgent) << "test hook: exiting between rotation and keychain write";
        ::_exit(86);
    }
    StoredAccount updated = account;
    updated.previousRefreshToken = account.refreshToken;
    updated.refreshToken = result->refreshToken;
    updated.sessionId = result->sessionId;
    if (m_policy) // arrived with this answer (ServerClient::policyReceived) or earlier
        updated.policy = m_policy;
    const AuthTokens tokens = *result;
    m_store.save(updated).then(this, [this, generation, updated, tokens, followUp](const Result<void>& saved) {
        if (generation != m_generation)
            return;
        if (!saved) {
            // Keep the old refresh token: the server answers it with this same pair until the new
            // access token is used, which it has not been.
            qCWarning(lcAgentStorage) << "cannot store the rotated refresh token:" << saved.error().message;
            m_lastError = QStringLiteral("cannot store the rotated refresh token: %1").arg(saved.error().message);
            m_scheduler.refreshFailed(saved.error());
            finishRefresh(fail(saved.error()));
            return;
        }
        // What changed while the rotation was being saved (set-pin) stays; it is stored once
        // the refresh is done (persistPin()).
        const std::optional<qint64> pinNow =
            m_account ? std::optional<qint64>(m_account->pinValidUntilMs) : std::nullopt;
        m_account = updated;
        if (pinNow)
            m_account->pinValidUntilMs = *pinNow;
        m_lastRefreshSentMs = m_refreshSentMs;
        if (tokens.expiresIn < kMinUsefulLifetimeSeconds && !followUp) {
            // A replayed pair (the agent lost the response earlier, e.g. crashed before saving
            // it) whose access token is already about to expire: the refresh token it carries is
            // current and now saved, so rotate once more rather than hand out a dying token.
            qCInfo(lcAgentRefresh) << "the server replayed an almost expired pair; refreshing again";
            sendRefresh(generation, updated, true);
            return;
        }
        adoptTokens(tokens);
        finishRefresh(tokens.accessToken);
        announceTokens();
    });
}

void AgentService::adoptTokens(const AuthTokens& tokens)
{
    m_accessToken = tokens.accessToken;
    m_accessLifetimeMs = std::max<qint64>(tokens.expiresIn, 0) * 1000;
    m_accessExpiresElapsedMs = m_clock.elapsedMs() + m_accessLifetimeMs;
    m_accessExpiresAt = m_clock.now().addMSecs(m_accessLifetimeMs);
    m_lastRefreshAt = m_clock.now();
    m_lastError.clear();
    m_signedOutReason.clear();
    m_scheduler.tokenReceived(tokens.expiresIn);
    setState(State::SignedIn);
}

void AgentService::announceTokens()
{
    // The common end of a sign-in and a refresh, once the new pair is in effect: subscribers get
    // the token, and the account's other sessions are looked at again.
    Q_EMIT eventOccurred(ipc::TokenRefreshedEvent{m_accessToken, m_accessExpiresAt});
    if (m_account && !m_pushConnected) // otherwise the event stream says when to look
        m_watcher.check(*m_account, m_accessToken);
}

void AgentService::finishRefresh(Result<QString> result)
{
    m_refreshInFlight = false;
    for (auto& waiter : std::exchange(m_refreshWaiters, {}))
        finishPromise(*waiter, result);
}

QFuture<void> AgentService::signOut(const QString& reason, const QString& message, bool revoked)
{
    // While this agent ends the session because the workstation was locked, whatever else reports
    // that end first (the event stream's revocation, a refresh or push-token answer after the
    // server's logout) is that same end: keep its reason, not "revoked from elsewhere".
    if (m_endingOnLock && reason != u"ended_on_lock")
        return signOut(QStringLiteral("ended_on_lock"), endedOnLockMessage(), false);
    const std::optional<StoredAccount> account = m_account;
    m_signedOutReason = reason;
    m_lastError = message;
    dropActive(Error{signedOutCode(reason), QStringLiteral("signed out: %1").arg(message)});
    if (!account)
        return readyFuture();
    // Announce only once the keychain entry is gone, so a client reacting to the event sees the
    // final state; `logout` answers then too.
    auto gone = startedPromise<void>();
    m_store.remove(*account).then(
        this, [this, account, reason, message, revoked, gone](const Result<void>& removed) {
            if (!removed)
                qCWarning(lcAgentStorage) << "cannot delete the keychain entry:" << removed.error().message;
            if (revoked)
                Q_EMIT eventOccurred(ipc::SessionRevokedEvent{account->sessionId, true});
            Q_EMIT eventOccurred(ipc::SignedOutEvent{reason, message});
            noteActiveClinician();
            gone->finish();
        });
    m_signOutDone = gone->future();
    return m_signOutDone;
}

void AgentService::dropActive(const Error& forWaiters)
{
    m_account.reset();
    ++m_generation;
    m_accessToken.clear();
    m_accessLifetimeMs = 0;
    m_accessExpiresAt = {};
    m_scheduler.stop();
    m_watcher.reset();
    setState(State::SignedOut);
    m_held = false;
    m_policy.reset();
    finishRefresh(fail(forWaiters));
}

void AgentService::accountChanged(AccountChange change)
{
    if (!m_account || m_accessToken.isEmpty())
        return;
    switch (change) {
    case AccountChange::Sessions:
        return m_watcher.checkSessions(*m_account, m_accessToken);
    case AccountChange::Mfa:
        return m_watcher.checkMfa(*m_account, m_accessToken);
    case AccountChange::Password:
        qCInfo(lcAgent) << "the account's password was changed";
        Q_EMIT securityNotice(QStringLiteral("Password changed"),
                              QStringLiteral("The password of %1 was changed.\nNot you? Contact IT now.")
                                  .arg(m_account->email));
        return;
    }
}

void AgentService::endedByServer(const QString& reason, const QString& message)
{
    if (!m_account)
        return;
    const bool ownLogout = reason == u"logout";
    // Our own logout, told by the stream before the POST's answer (an end on lock keeps its own
    // reason: see signOut).
    (void)signOut(reason, ownLogout ? QStringLiteral("signed out by the user") : message, !ownLogout);
}

Result<void> AgentService::checkTransport(const QUrl& server, bool allowInsecureHttp)
{
    if (server.scheme() != u"http")
        return {};
    if (isLoopbackHost(server.host()))
        return {};
    if (allowInsecureHttp) {
        qCWarning(lcAgent) << "signing in over plain HTTP to" << server.host()
                           << "as asked (--allow-insecure-http)";
        return {};
    }
    return fail(ErrorCode::InvalidRequest,
                QStringLiteral(
                    "refusing to sign in to %1 over plain http://: the password and tokens would cross the "
                    "network unencrypted. Use https://, or pass --allow-insecure-http if you accept that "
                    "(for a test server only)")
                    .arg(server.host()));
}

QFuture<Result<LoginStep>> AgentService::login(const QString& serverUrl, const QString& email,
                                               const QString& password, bool allowInsecureHttp)
{
    using R = Result<LoginStep>;
    // On a shared workstation the next clinician signs in while one is active: the active one is
    // parked (or signed out) once the new sign-in succeeded (adoptLogin()).
    if (m_account && !isSharedWorkstation())
        return readyFuture(R(fail(ErrorCode::Conflict,
                                  QStringLiteral("already signed in as %1; log out first").arg(m_account->email))));
    if (m_handoverInProgress)
        return readyFuture(R(fail(ErrorCode::Conflict, QStringLiteral("a switch of user is in progress"))));
    if (m_loginInProgress)
        return readyFuture(R(fail(ErrorCode::Conflict, QStringLiteral("another sign-in is in progress"))));
    const auto parsed =
        parseServerUrl(serverUrl.isEmpty() ? m_config.defaultServerUrl.toString() : serverUrl);
    if (!parsed)
        return readyFuture(R(fail(parsed.error())));
    const QUrl server = *parsed;
    if (auto transport = checkTransport(server, allowInsecureHttp); !transport)
        return readyFuture(R(fail(transport.error())));
    m_loginInProgress = true;
    // The device credential of an earlier sign-in here exempts this login from the lock-out that
    // other clients' failed attempts cause; without one the login still goes ahead.
    return m_store.loadDeviceCredential(accountServerUrl(server), email)
        .then(this,
              [this, server, email, password](const Result<QString>& credential) {
                  if (!credential)
                      qCWarning(lcAgentStorage)
                          << "cannot read the device credential:" << credential.error().message;
                  LoginRequest request{email, password, m_config.deviceInfo};
                  request.deviceCredential = credential.value_or(QString());
                  return m_server.login(server, request, m_config.deviceClass)
                      .then(this,
                            [this, server, email,
                             presented = request.deviceCredential](const Result<LoginOutcome>& outcome) {
                                return completeLogin(server, email, presented, outcome);
                            })
                      .unwrap();
              })
        .unwrap();
}

QString AgentService::accountServerUrl(const QUrl& server)
{
    return server.toString(QUrl::RemoveUserInfo | QUrl::StripTrailingSlash);
}

QFuture<Result<LoginStep>> AgentService::verifyMfa(const PendingMfa& pending, const QString& code,
                                                   bool rememberDevice)
{
    using R = Result<LoginStep>;
    if (m_account && !isSharedWorkstation())
        return readyFuture(R(fail(ErrorCode::Conflict, QStringLiteral("already signed in"))));
    if (m_handoverInProgress)
        return readyFuture(R(fail(ErrorCode::Conflict, QStringLiteral("a switch of user is in progress"))));
    if (m_loginInProgress)
        return readyFuture(R(fail(ErrorCode::Conflict, QStringLiteral("another sign-in is in progress"))));
    m_loginInProgress = true;
    return m_server
        .verifyMfa(pending.server, pending.mfaToken, code, pending.deviceCredential, rememberDevice)
        .then(this,
              [this, pending](const Result<LoginOutcome>& outcome) {
                  return completeLogin(pending.server, pending.email, pending.deviceCredential, outcome);
              })
        .unwrap();
}

QFuture<Result<LoginStep>> AgentService::completeLogin(const QUrl& server, const QString& email,
                                                       const QString& deviceCredential,
                                                       const Result<LoginOutcome>& outcome)
{
    using R = Result<LoginStep>;
    m_loginInProgress = false;
    if (!outcome)
        return readyFuture(R(fail(outcome.error())));
    if (const auto* challenge = std::get_if<MfaChallenge>(&*outcome)) {
        LoginStep step;
        step.reply.requiresMfa = true;
        step.reply.methods = challenge->methods;
        step.pendingMfa = PendingMfa{server, email, challenge->mfaToken, deviceCredential};
        return readyFuture(R(std::move(step)));
    }
    const AuthTokens tokens = std::get<AuthTokens>(*outcome);
    const std::optional<SessionPolicyInfo> newPolicy = std::exchange(m_loginPolicy, std::nullopt);
    if (m_account && !isSharedWorkstation())
        return readyFuture(
            R(fail(ErrorCode::Conflict, QStringLiteral("signed in by another client meanwhile"))));
    if (m_account) {
        // A shared workstation: the clinician active until now steps aside, then this one is in.
        m_handoverInProgress = true;
        return vacate(email)
            .then(this,
                  [this, server, email, deviceCredential, tokens, newPolicy] {
                      m_handoverInProgress = false;
                      if (newPolicy && !m_account)
                          m_policy = newPolicy;
                      return adoptLogin(server, email, deviceCredential, tokens);
                  })
            .unwrap();
    }
    return adoptLogin(server, email, deviceCredential, tokens);
}

QFuture<Result<LoginStep>> AgentService::adoptLogin(const QUrl& server, const QString& email,
                                                    const QString& deviceCredential, const AuthTokens& tokens)
{
    using R = Result<LoginStep>;
    if (m_account) // signed in meanwhile by another client (a shared workstation parks it first)
        return readyFuture(
            R(fail(ErrorCode::Conflict, QStringLiteral("signed in by another client meanwhile"))));
    StoredAccount account;
    account.serverUrl = accountServerUrl(server);
    account.userId = tokens.user ? tokens.user->id : subjectOf(tokens.accessToken);
    account.email = tokens.user && !tokens.user->email.isEmpty() ? tokens.user->email : email;
    account.sessionId = tokens.sessionId;
    account.refreshToken = tokens.refreshToken;
    account.policy = m_policy; // came with this answer, if the server sends one
    ++m_generation;
    m_watcher.reset(); // drop answers about the previous account
    const quint64 generation = m_generation;
    auto promise = startedPromise<R>();
    // The device credential outlives this session (sign-out keeps it). Queued before the account,
    // so it is stored by the time the account is; failing to store it only makes the next login
    // an unknown client's.
    if (!tokens.deviceCredential.isEmpty() && tokens.deviceCredential != deviceCredential) {
        m_store.saveDeviceCredential(account.serverUrl, email, tokens.deviceCredential)
            .then(this, [](const Result<void>& stored) {
                if (!stored)
                    qCWarning(lcAgentStorage)
                        << "cannot store the device credential:" << stored.error().message;
            });
    }
    m_store.save(account).then(this, [this, promise, generation, account, tokens](const Result<void>& saved) {
        if (generation != m_generation) {
            finishPromise(*promise, R(fail(ErrorCode::Conflict, QStringLiteral("state changed during sign-in"))));
            return;
        }
        if (!saved) {
            qCWarning(lcAgentStorage) << "cannot store the new session:" << saved.error().message;
            // Without a stored refresh token the session would silently end with this process;
            // end it on the server now instead of leaving it dangling.
            (void)m_server.logout(QUrl(account.serverUrl), tokens.accessToken);
            finishPromise(*promise, R(fail(saved.error())));
            return;
        }
        LoginStep step = activate(account, tokens);
        qCInfo(lcAgent) << "signed in as" << account.email << "on" << account.serverUrl;
        finishPromise(*promise, R(std::move(step)));
        announceTokens();
    });
    return promise->future();
}

LoginStep AgentService::activate(const StoredAccount& account, const AuthTokens& tokens)
{
    m_account = account;
    // A parked session of the same clinician is replaced by this one (save() took its entry).
    if (auto same = findParked(account.storageKey()); same != m_parked.end())
        m_parked.erase(same);
    m_watcher.reset();
    // The sign-in told the server the clinician is here; the next refresh needs activity after it.
    m_lastRefreshSentMs = m_clock.elapsedMs();
    adoptTokens(tokens);
    noteActiveClinician();
    LoginStep step;
    step.reply.email = account.email;
    step.reply.userId = account.userId;
    step.reply.sessionId = account.sessionId;
    step.reply.deviceRemembered = tokens.deviceRemembered;
    return step;
}

QFuture<Result<void>> AgentService::logout()
{
    return endSession(QStringLiteral("logout"), QStringLiteral("signed out by the user"));
}

QFuture<Result<void>> AgentService::endSession(const QString& reason, const QString& message)
{
    using R = Result<void>;
    // Already signed out (the event stream may have told of the session's end a moment ago):
    // nothing to do, and the reason stays what happened.
    if (!m_account) // answered once a sign-out still deleting the keychain entry is done
        return m_signOutDone.then(this, [] { return R{}; });
    const StoredAccount account = *m_account;
    auto promise = startedPromise<R>();
    obtainToken(0).then(this, [this, promise, account, reason,
                               message](const Result<ipc::TokenReply>& access) {
        // Answered once the keychain entry is gone: "signed out" means the refresh token is too.
        auto finishLocally = [this, promise, reason, message](R serverResult) {
            if (!m_account) {
                // Signed out meanwhile (the event stream told of this very logout first): answer
                // once that sign-out has deleted the keychain entry.
                m_signOutDone.then(this, [promise, serverResult]() mutable {
                    finishPromise(*promise, std::move(serverResult));
                });
                return;
            }
            signOut(reason, message, false).then(this, [promise, serverResult]() mutable {
                finishPromise(*promise, std::move(serverResult));
            });
        };
        if (!access) {
            // The session is already over on the server, or the server cannot be reached.
            if (endsSession(access.error().code) || !m_account)
                finishLocally(R{});
            else
                finishLocally(R(fail(access.error().code,
                                     QStringLiteral("signed out locally, but the server could not revoke the "
                                                    "session: %1")
                                         .arg(access.error().message))));
            return;
        }
        m_server.logout(QUrl(account.serverUrl), access->accessToken)
            .then(this, [this, promise, finishLocally](const Result<void>& r) mutable {
                if (!r && endsSession(r.error().code) && r.error().code != ErrorCode::Unauthenticated &&
                    m_account) {
                    // Ended on the server before this sign-out (from another device, by IT):
                    // keep that reason, which is what happened, rather than "logout".
                    signOut(QString::fromLatin1(errorCodeName(r.error().code).data()), r.error().message,
                            true)
                        .then(this, [promise]() { finishPromise(*promise, R{}); });
                } else if (!r && !endsSession(r.error().code))
                    finishLocally(R(fail(r.error().code, QStringLiteral("signed out locally, but the server could "
                                                                        "not revoke the session: %1")
                                                             .arg(r.error().message))));
                else
                    finishLocally(R{});
            });
    });
    return promise->future();
}

} // namespace ehrs::agent
