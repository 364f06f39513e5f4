// SPDX-License-Identifier: Apache-2.0
// AgentService, issue 14 point 4: shared workstations (nurse stations). Several clinicians on one
// OS login: each signs in fully once per shift and sets a PIN; "switch user" parks the active one
// on the server (their tokens stop working at once, their account stays in the keychain, marked
// parked) and "resume" brings a parked one back with the PIN. Split from AgentService.cpp, which is
// about sign-in, refresh and sign-out themselves. docs/agent-api.md, "Shared workstations".
#include "AgentService.h"
#include "Logging.h"
#include "core/Clock.h"
#include "core/Futures.h"
#include "storage/TokenStore.h"

#include <QScopeGuard>

namespace ehrs::agent {
namespace {
QString sharedWorkstationOnly()
{
    return QStringLiteral(
        "switching user is for shared workstations: this agent's device class is personal (set [workstation] "
        "deviceClass=shared_workstation in agent.conf, or EHRS_AGENT_DEVICE_CLASS=shared_workstation)");
}

Error fullSignInRequired(const QString& message)
{
    Error e{ErrorCode::Forbidden, message};
    e.name = QString::fromLatin1(ipc::kFullSignInRequiredCode);
    return e;
}

Error notNow()
{
    return Error{ErrorCode::Unavailable, QStringLiteral("the agent is starting; try again in a moment"), 1};
}
} // namespace

bool AgentService::isSharedWorkstation() const
{
    static const QString shared = QStringLiteral("shared_workstation");
    return m_config.deviceClass == shared || (m_policy && m_policy->deviceClass == shared) ||
           !m_parked.empty();
}

std::vector<StoredAccount>::iterator AgentService::findParked(const QString& keyOrEmail)
{
    return std::find_if(m_parked.begin(), m_parked.end(), [&keyOrEmail](const StoredAccount& a) {
        return a.storageKey() == keyOrEmail || a.email.compare(keyOrEmail, Qt::CaseInsensitive) == 0;
    });
}

void AgentService::noteActiveClinician()
{
    const QString email = m_account ? m_account->email : QString();
    const QString userId = m_account ? m_account->userId : QString();
    if (email == m_announcedEmail && userId == m_announcedUserId)
        return;
    m_announcedEmail = email;
    m_announcedUserId = userId;
    if (isSharedWorkstation())
        Q_EMIT eventOccurred(ipc::UserSwitchedEvent{email, userId});
}

QFuture<Result<ipc::SetPinReply>> AgentService::setPin(const QString& pin)
{
    using R = Result<ipc::SetPinReply>;
    if (m_starting)
        return readyFuture(R(fail(notNow())));
    if (!m_account)
        return readyFuture(
            R(fail(m_parked.empty() ? Error{ErrorCode::Unauthenticated, QStringLiteral("not signed in")}
                                    : ipc::noActiveClinicianError())));
    if (m_config.workstationId.isEmpty())
        return readyFuture(
            R(fail(ErrorCode::Unavailable,
                   QStringLiteral("this machine has no workstation id (/etc/machine-id is missing or "
                                  "unreadable): set EHRS_AGENT_WORKSTATION_ID for the agent"))));
    const StoredAccount account = *m_account;
    const quint64 generation = m_generation;
    auto promise = startedPromise<R>();
    obtainToken(0).then(this, [this, promise, account, generation,
                               pin](const Result<ipc::TokenReply>& access) {
        if (!access)
            return finishPromise(*promise, R(fail(access.error())));
        m_server.setWorkstationPin(QUrl(account.serverUrl), access->accessToken, pin, m_config.workstationId)
            .then(this, [this, promise, generation, account](const Result<qint64>& until) {
                if (!until)
                    return finishPromise(*promise, R(fail(until.error())));
                if (generation != m_generation || !m_account) // switched or signed out meanwhile
                    return finishPromise(
                        *promise,
                        R(fail(ErrorCode::Conflict,
                               QStringLiteral("the PIN of %1 was set, but %1 is no longer the active "
                                              "clinician here")
                                   .arg(account.email))));
                qCInfo(lcAgent) << "the PIN of" << account.email << "is set for this shift";
                m_account->pinValidUntilMs = *until;
                persistPin(*until);
                finishPromise(*promise, R(ipc::SetPinReply{QDateTime::fromMSecsSinceEpoch(*until, Qt::UTC)}));
            });
    });
    return promise->future();
}

void AgentService::persistPin(qint64 validUntilMs)
{
    // A refresh in flight saves the account with its rotated token; a save of our own now could
    // land after it and bring the old refresh token back. So: after it.
    const quint64 generation = m_generation;
    auto save = [this, generation, validUntilMs] {
        if (generation != m_generation || !m_account)
            return;
        m_account->pinValidUntilMs = validUntilMs;
        m_store.save(*m_account).then(this, [](const Result<void>& saved) {
            if (!saved)
                qCWarning(lcAgentStorage) << "cannot store the PIN's end:" << saved.error().message;
        });
    };
    if (m_refreshInFlight)
        refresh().then(this, [save](const Result<QString>&) { save(); });
    else
        save();
}

QFuture<Result<StoredAccount>> AgentService::parkActive()
{
    using R = Result<StoredAccount>;
    if (!m_account)
        return readyFuture(R(fail(ipc::noActiveClinicianError())));
    // A refresh in flight first: its rotated token must be the one kept for the resume.
    if (m_refreshInFlight)
        return refresh().then(this, [this](const Result<QString>&) { return parkActive(); }).unwrap();
    const StoredAccount account = *m_account;
    const quint64 generation = m_generation;
    auto promise = startedPromise<R>();
    obtainToken(0).then(this, [this, promise, account, generation](const Result<ipc::TokenReply>& access) {
        if (generation != m_generation)
            return finishPromise(*promise, R(fail(ErrorCode::Conflict,
                                                  QStringLiteral("the active clinician changed meanwhile"))));
        if (!access)
            return finishPromise(*promise, R(fail(access.error())));
        // No refresh while the park is on its way: one the server ran first would rotate the
        // refresh token under the park, and its answer would arrive for an account parked here.
        auto gate = startedPromise<void>();
        m_parkGate = gate;
        m_server.parkSession(QUrl(account.serverUrl), access->accessToken)
            .then(this, [this, promise, generation, gate](const Result<void>& parked) {
                auto openGate = qScopeGuard([this, gate] {
                    if (m_parkGate == gate)
                        m_parkGate.reset();
                    gate->finish();
                });
                if (generation != m_generation || !m_account)
                    return finishPromise(*promise,
                                         R(fail(ErrorCode::Conflict,
                                                QStringLiteral("the active clinician changed meanwhile"))));
                if (!parked) {
                    const Error e = parked.error();
                    if (endsSession(e.code)) // over on the server already (revoked, expired)
                        signOut(QString::fromLatin1(errorCodeName(e.code).data()), e.message, true);
                    return finishPromise(*promise, R(fail(e)));
                }
                // From here on the parked clinician's token is never handed out: it is gone from
                // memory before anyone is answered.
                StoredAccount p = *m_account;
                p.parkedAtMs = m_clock.now().toMSecsSinceEpoch();
                qCInfo(lcAgent) << "parked the session of" << p.email << "(switch user)";
                m_signedOutReason.clear();
                m_lastError.clear();
                dropActive(ipc::noActiveClinicianError());
                m_parked.push_back(p);
                noteActiveClinician();
                m_store.park(p).then(this, [promise, p](const Result<void>& saved) {
                    if (!saved)
                        qCWarning(lcAgentStorage)
                            << "cannot mark the account parked in the keychain:" << saved.error().message;
                    finishPromise(*promise, R(p));
                });
            });
    });
    return promise->future();
}

void AgentService::parkedByServer()
{
    if (!m_account)
        return;
    StoredAccount p = *m_account;
    qCInfo(lcAgent) << "the server says the session of" << p.email << "is parked: waiting for the PIN";
    p.parkedAtMs = m_clock.now().toMSecsSinceEpoch();
    dropActive(ipc::noActiveClinicianError());
    m_parked.push_back(p);
    noteActiveClinician();
    m_store.park(p).then(this, [](const Result<void>& saved) {
        if (!saved)
            qCWarning(lcAgentStorage)
                << "cannot mark the account parked in the keychain:" << saved.error().message;
    });
}

QFuture<Result<ipc::SwitchUserReply>> AgentService::switchUser()
{
    using R = Result<ipc::SwitchUserReply>;
    if (m_starting)
        return readyFuture(R(fail(notNow())));
    if (m_handoverInProgress || m_loginInProgress)
        return readyFuture(
            R(fail(ErrorCode::Conflict, QStringLiteral("a sign-in or switch of user is in progress"))));
    if (!m_account)
        return readyFuture(
            R(fail(m_parked.empty() ? Error{ErrorCode::Unauthenticated, QStringLiteral("not signed in")}
                                    : ipc::noActiveClinicianError())));
    if (!isSharedWorkstation())
        return readyFuture(R(fail(ErrorCode::Conflict, sharedWorkstationOnly())));
    if (m_account->pinValidUntilMs <= 0)
        return readyFuture(
            R(fail(ErrorCode::Conflict,
                   QStringLiteral("Set a PIN first (ehr-sessions-agent pin, or Set PIN in the app): "
                                  "%1 comes back with it after the switch")
                       .arg(m_account->email))));
    m_handoverInProgress = true;
    return parkActive().then(this, [this](const Result<StoredAccount>& parked) -> R {
        m_handoverInProgress = false;
        if (!parked)
            return fail(parked.error());
        return ipc::SwitchUserReply{parked->email, parked->userId};
    });
}

QFuture<void> AgentService::vacate(const QString& forWhom)
{
    if (!m_account)
        return readyFuture();
    const QString who = m_account->email;
    auto logOut = [this, who, forWhom]() -> QFuture<void> {
        if (!m_account)
            return readyFuture();
        qCInfo(lcAgent) << "signing" << who << "out: another clinician is signing in and" << who
                        << "has no PIN to come back with";
        return endSession(
                   QStringLiteral("logout"),
                   QStringLiteral("signed out: %1 signed in on this shared workstation, and no PIN was set "
                                  "to park the session")
                       .arg(forWhom))
            .then(this, [](const Result<void>&) {});
    };
    if (m_account->pinValidUntilMs <= 0)
        return logOut();
    return parkActive()
        .then(this,
              [this, logOut, who](const Result<StoredAccount>& parked) -> QFuture<void> {
                  if (parked)
                      return readyFuture();
                  qCWarning(lcAgent) << "cannot park the session of" << who << ":" << parked.error().message;
                  return logOut();
              })
        .unwrap();
}

QFuture<Result<LoginStep>> AgentService::resume(const QString& email, const QString& pin)
{
    using R = Result<LoginStep>;
    if (m_starting)
        return readyFuture(R(fail(notNow())));
    if (m_handoverInProgress || m_loginInProgress)
        return readyFuture(
            R(fail(ErrorCode::Conflict, QStringLiteral("a sign-in or switch of user is in progress"))));
    if (m_account && m_account->email.compare(email, Qt::CaseInsensitive) == 0)
        return readyFuture(
            R(fail(ErrorCode::Conflict, QStringLiteral("%1 is the active clinician already").arg(email))));
    const auto parked = findParked(email);
    if (parked == m_parked.end()) // the server is not asked: it would tell who works here
        return readyFuture(R(fail(fullSignInRequired(
            QStringLiteral("%1 has no parked session on this workstation; sign in with your password")
                .arg(email)))));
    const QString key = parked->storageKey();
    m_handoverInProgress = true;
    return vacate(email)
        .then(this,
              [this, key, pin] {
                  return resumeParked(key, pin).then(this, [this](const R& r) {
                      m_handoverInProgress = false;
                      return r;
                  });
              })
        .unwrap();
}

QFuture<Result<LoginStep>> AgentService::resumeParked(const QString& key, const QString& pin)
{
    using R = Result<LoginStep>;
    const auto found = findParked(key);
    if (found == m_parked.end())
        return readyFuture(
            R(fail(fullSignInRequired(QStringLiteral("the parked session is gone; sign in with your "
                                                     "password")))));
    if (m_account) // vacate() could not make room (the agent is signing someone in meanwhile)
        return readyFuture(R(fail(ErrorCode::Conflict, QStringLiteral("another clinician is active"))));
    const StoredAccount parked = *found;
    m_policy = parked.policy; // the resume's answer brings the current one (policyChanged)
    const quint64 generation = m_generation;
    auto promise = startedPromise<R>();
    m_server.resumeSession(QUrl(parked.serverUrl), parked.refreshToken, pin)
        .then(this, [this, promise, parked, generation](const Result<AuthTokens>& tokens) {
            if (generation != m_generation || m_account)
                return finishPromise(
                    *promise,
                    R(fail(ErrorCode::Conflict, QStringLiteral("another clinician signed in meanwhile"))));
            if (!tokens) {
                Error e = tokens.error();
                const bool overForGood =
                    ipc::isFullSignInRequired(e) || (endsSession(e.code) && !ipc::isInvalidPin(e));
                if (overForGood) {
                    // Too many wrong PINs, the shift is over, or the session ended: only the
                    // password brings this clinician back. The stored pair is of no use now.
                    qCInfo(lcAgent) << "the parked session of" << parked.email
                                    << "cannot be resumed with a PIN:" << ipc::errorWireName(e);
                    if (auto it = findParked(parked.storageKey()); it != m_parked.end())
                        m_parked.erase(it);
                    if (!ipc::isFullSignInRequired(e))
                        e = fullSignInRequired(e.message);
                    m_store.remove(parked).then(this, [this, promise, e](const Result<void>& removed) {
                        if (!removed)
                            qCWarning(lcAgentStorage)
                                << "cannot delete the keychain entry:" << removed.error().message;
                        finishPromise(*promise, R(fail(e)));
                    });
                    return;
                }
                if (ipc::isInvalidPin(e))
                    qCInfo(lcAgent) << "wrong PIN for" << parked.email << "(" << e.attemptsLeft
                                    << "attempts left)";
                return finishPromise(*promise, R(fail(e)));
            }
            StoredAccount account = parked;
            account.refreshToken = tokens->refreshToken;
            account.sessionId = tokens->sessionId.isEmpty() ? parked.sessionId : tokens->sessionId;
            account.parkedAtMs = 0;
            account.policy = m_policy;
            const AuthTokens pair = *tokens;
            m_store.save(account).then(this, [this, promise, account, pair](const Result<void>& saved) {
                if (m_account)
                    return finishPromise(*promise,
                                         R(fail(ErrorCode::Conflict,
                                                QStringLiteral("another clinician signed in meanwhile"))));
                if (!saved) // the session is live on the server now: go on, from memory
                    qCWarning(lcAgentStorage) << "cannot store the resumed session:" << saved.error().message;
                ++m_generation;
                LoginStep step = activate(account, pair);
                qCInfo(lcAgent) << "resumed the session of" << account.email << "with the PIN";
                finishPromise(*promise, R(std::move(step)));
                announceTokens();
            });
        });
    return promise->future();
}

} // namespace ehrs::agent
