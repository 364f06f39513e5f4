// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "RefreshPolicy.h"
#include "Result.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <optional>

namespace ehrs::agent {

class Clock;

/// Decides when the next refresh happens and says so with refreshDue(). It owns exactly one
/// single-shot timer and no other wake-up, so an idle agent sleeps until its next refresh.
///
/// Deadlines are kept on the clock that counts suspend (Clock::elapsedMs()); the timer only
/// approximates them. poll() re-evaluates against the clock, and is what a clock-jump or resume
/// notification calls. Tests drive it with a fake clock and call poll() instead of waiting.
class RefreshScheduler : public QObject
{
    Q_OBJECT
public:
    /// `random` returns a uniform draw in [0, 1) for jitter.
    RefreshScheduler(const Clock& clock, RefreshPolicy policy, std::function<double()> random,
                     QObject* parent = nullptr);

    /// A fresh token with `lifetimeSeconds` arrived: resets the backoff and schedules its refresh.
    void tokenReceived(qint64 lifetimeSeconds);
    /// A refresh failed transiently: schedules the next attempt with backoff (Retry-After honoured).
    void refreshFailed(const Error& error);
    /// Due as soon as the event loop runs (start-up with a stored refresh token, a `token` request).
    void refreshNow();
    /// Signed out: nothing to refresh until the next tokenReceived().
    void stop();

    /// The network came back: when a retry is pending, retry now rather than at the backoff's end.
    void networkAvailable();
    /// The wall clock jumped (resume from suspend, time set by hand/NTP): a sleep refreshes at
    /// once (the session may have been revoked meanwhile, the token may have expired); a plain
    /// clock change only re-checks the deadline.
    void clockChanged();
    /// Emits refreshDue() if the deadline has passed; re-arms the timer otherwise.
    void poll();

    bool isScheduled() const { return m_deadlineMs.has_value(); }
    /// Deadline on Clock::elapsedMs(); empty when nothing is scheduled.
    std::optional<qint64> deadlineMs() const { return m_deadlineMs; }
    /// Failed attempts since the last token; 0 when the last refresh succeeded.
    int failedAttempts() const { return m_attempt; }
    /// Milliseconds the agent was suspended in total, as observed (for status/diagnostics).
    qint64 observedSleepMs() const { return m_sleptMs; }

Q_SIGNALS:
    void refreshDue();
    /// A suspend of `ms` was detected.
    void resumedFromSleep(qint64 ms);

private:
    void scheduleIn(qint64 delayMs);
    void armTimer();

    const Clock& m_clock;
    RefreshPolicy m_policy;
    std::function<double()> m_random;
    QTimer m_timer;
    std::optional<qint64> m_deadlineMs;
    int m_attempt = 0;
    qint64 m_sleepBaselineMs = 0; // elapsed - awake at the last check
    qint64 m_sleptMs = 0;
};

} // namespace ehrs::agent
