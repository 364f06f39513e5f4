// SPDX-License-Identifier: Apache-2.0
#include "RefreshScheduler.h"

#include "Logging.h"
#include "core/Clock.h"

#include <algorithm>

namespace ehrs::agent {
namespace {
// Suspends shorter than this are noise (clock granularity, a stalled VM) and change nothing.
constexpr qint64 kSleepThresholdMs = 5000;
} // namespace

RefreshScheduler::RefreshScheduler(const Clock& clock, RefreshPolicy policy, std::function<double()> random,
                                   QObject* parent)
    : QObject(parent), m_clock(clock), m_policy(policy), m_random(std::move(random))
{
    m_timer.setSingleShot(true);
    // PreciseTimer: a coarse timer may fire up to 5% late, which for a 6 s test token is too much.
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &RefreshScheduler::poll);
    m_sleepBaselineMs = m_clock.elapsedMs() - m_clock.awakeMs();
}

void RefreshScheduler::tokenReceived(qint64 lifetimeSeconds)
{
    m_attempt = 0;
    const qint64 delay = m_policy.refreshDelayMs(lifetimeSeconds * 1000, m_random());
    qCDebug(lcAgentRefresh) << "token valid for" << lifetimeSeconds << "s; refresh in" << delay << "ms";
    scheduleIn(delay);
}

void RefreshScheduler::refreshFailed(const Error& error)
{
    ++m_attempt;
    const qint64 delay = m_policy.backoffDelayMs(m_attempt, m_random(), error.retryAfterSeconds);
    qCInfo(lcAgentRefresh) << "refresh attempt" << m_attempt << "failed:" << error.message << "- retry in" << delay
                           << "ms";
    scheduleIn(delay);
}

void RefreshScheduler::refreshNow()
{
    scheduleIn(0);
}

void RefreshScheduler::stop()
{
    m_deadlineMs.reset();
    m_attempt = 0;
    m_timer.stop();
}

void RefreshScheduler::networkAvailable()
{
    if (m_deadlineMs && m_attempt > 0) {
        qCInfo(lcAgentRefresh) << "network is back: retrying now";
        scheduleIn(0);
    }
}

void RefreshScheduler::clockChanged()
{
    const qint64 baseline = m_clock.elapsedMs() - m_clock.awakeMs();
    const qint64 slept = baseline - m_sleepBaselineMs;
    m_sleepBaselineMs = baseline;
    if (slept >= kSleepThresholdMs) {
        m_sleptMs += slept;
        qCInfo(lcAgentRefresh) << "resumed after" << slept / 1000 << "s asleep";
        Q_EMIT resumedFromSleep(slept);
        if (m_deadlineMs) {
            scheduleIn(0);
            return;
        }
    } else {
        qCDebug(lcAgentRefresh) << "wall clock set without a suspend: re-checking the deadline";
    }
    poll();
}

void RefreshScheduler::poll()
{
    if (!m_deadlineMs)
        return;
    if (m_clock.elapsedMs() >= *m_deadlineMs) {
        m_deadlineMs.reset();
        m_timer.stop();
        Q_EMIT refreshDue();
        return;
    }
    armTimer();
}

void RefreshScheduler::scheduleIn(qint64 delayMs)
{
    m_deadlineMs = m_clock.elapsedMs() + std::max<qint64>(delayMs, 0);
    armTimer();
}

void RefreshScheduler::armTimer()
{
    const qint64 remaining = std::max<qint64>(*m_deadlineMs - m_clock.elapsedMs(), 0);
    // QTimer takes an int; a far deadline is simply re-checked when this shorter timer fires.
    m_timer.start(static_cast<int>(std::min<qint64>(remaining, 24LL * 3600 * 1000)));
}

} // namespace ehrs::agent
