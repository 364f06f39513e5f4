// SPDX-License-Identifier: Apache-2.0
// AgentService, issue 14: refresh only while the clinician is active, no tokens while the desktop
// is locked, and "end on lock" by policy. Split from AgentService.cpp, which is about sign-in,
// refresh and sign-out themselves.
#include "AgentService.h"
#include "DesktopActivity.h"
#include "Logging.h"
#include "core/Clock.h"
#include "refresh/RefreshScheduler.h"
#include "storage/TokenStore.h"

namespace ehrs::agent {

void AgentService::setDesktopActivity(DesktopActivity* desktop)
{
    if (m_desktop)
        disconnect(m_desktop, nullptr, this, nullptr);
    m_desktop = desktop;
    if (!m_desktop || !m_desktop->isAvailable()) {
        // Said once: the agent then cannot tell a clinician reading a chart from an empty room.
        qCWarning(lcAgent).noquote()
            << "no desktop activity source (neither logind nor a screensaver answered on D-Bus): only "
               "local apps' token requests count as activity, and screen locks are not seen";
        return;
    }
    qCInfo(lcAgent).noquote() << "desktop activity from" << m_desktop->sources();
    connect(m_desktop, &DesktopActivity::idleChanged, this, &AgentService::onDesktopIdleChanged);
    connect(m_desktop, &DesktopActivity::lockedChanged, this, &AgentService::onLockedChanged);
}

bool AgentService::isLocked() const
{
    return m_desktop && m_desktop->isLocked();
}

bool AgentService::endsOnLock() const
{
    return m_config.endOnLock || (m_policy && m_policy->endOnLock);
}

bool AgentService::activeSinceLastRefresh()
{
    if (m_desktop && m_desktop->isAvailable()) {
        if (const auto idle = m_desktop->idleMs())
            m_activity.desktopIdleMs(*idle);
    }
    return m_activity.activeSince(m_lastRefreshSentMs);
}

void AgentService::onRefreshDue()
{
    if (!m_account)
        return;
    // A due refresh with no token in hand is a retry or a restart: still only for a clinician who is
    // there, since any refresh moves the server's idle clock.
    if (isLocked()) {
        if (!m_held)
            qCInfo(lcAgentRefresh) << "the workstation is locked: not refreshing until it is unlocked";
        m_held = true;
        return;
    }
    if (!activeSinceLastRefresh()) {
        if (!m_held)
            qCInfo(lcAgentRefresh) << "no activity since the last refresh: not refreshing, so the server's "
                                      "idle timeout runs; the next activity refreshes";
        m_held = true;
        return;
    }
    m_held = false;
    (void)refresh();
}

void AgentService::resumeIfHeld(const char* why)
{
    if (!m_held || !m_account || isLocked())
        return;
    qCInfo(lcAgentRefresh) << "activity again (" << why << "): refreshing";
    m_held = false;
    (void)refresh();
}

void AgentService::sessionMayHaveEnded()
{
    if (!m_account || m_held || isLocked())
        return; // told by the next refresh, when the clinician is back
    (void)refresh();
}

void AgentService::onDesktopIdleChanged(bool idle)
{
    if (idle || !m_account)
        return;
    m_activity.desktopIdleMs(0);
    resumeIfHeld("input on the desktop");
}

void AgentService::onLockedChanged(bool locked)
{
    // Apps show their lock screen from this (the switch-user screen too has nothing to show on a
    // locked desktop), so it goes out whether or not anyone is signed in.
    Q_EMIT eventOccurred(ipc::LockChangedEvent{locked});
    applyLock(locked);
}

void AgentService::applyLock(bool locked)
{
    if (!m_account)
        return;
    if (locked) {
        qCInfo(lcAgent) << "the workstation was locked: no tokens until it is unlocked";
        if (endsOnLock() && !m_endingOnLock) {
            qCInfo(lcAgent) << "policy: the session ends on lock; signing out"
                            << (m_config.endOnLock ? "(the agent's own setting)" : "(the server's policy)");
            m_endingOnLock = true;
            endSession(QStringLiteral("ended_on_lock"), endedOnLockMessage())
                .then(this, [this](const Result<void>& r) {
                    m_endingOnLock = false;
                    if (!r)
                        qCWarning(lcAgent) << "ending the session on lock:" << r.error().message;
                });
        }
        return;
    }
    qCInfo(lcAgent) << "the workstation was unlocked";
    m_activity.userAction();
    resumeIfHeld("unlocked");
}

void AgentService::policyChanged(const SessionPolicyInfo& policy)
{
    // A shared workstation: the policy of the next clinician's sign-in, which arrives while the
    // active one is still active; it is theirs once they are in (completeLogin()).
    if (m_loginInProgress && m_account) {
        m_loginPolicy = policy;
        return;
    }
    if (m_policy == policy)
        return;
    const bool first = !m_policy;
    m_policy = policy;
    qCInfo(lcAgent) << (first ? "session policy:" : "session policy changed:") << "end on lock"
                    << policy.endOnLock << "idle timeout" << policy.idleTimeoutSeconds << "s, device class"
                    << policy.deviceClass;
    if (!m_account || m_account->policy == m_policy)
        return;
    // A refresh in flight saves the policy with its rotated token (onRefreshResult); a save of its
    // own now could land after that one and bring the old refresh token back.
    if (m_refreshInFlight) {
        if (m_policy->endOnLock && isLocked())
            applyLock(true);
        return;
    }
    // Remembered with the account, so that a restarted agent applies it before its first refresh.
    m_account->policy = m_policy;
    const quint64 generation = m_generation;
    m_store.save(*m_account).then(this, [generation, this](const Result<void>& saved) {
        if (generation == m_generation && !saved)
            qCWarning(lcAgentStorage) << "cannot store the session policy:" << saved.error().message;
    });
    if (m_policy->endOnLock && isLocked())
        applyLock(true);
}

} // namespace ehrs::agent
