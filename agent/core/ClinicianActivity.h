// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QtGlobal>
#include <optional>

namespace ehrs::agent {

class Clock;

/// The agent's decision "is the clinician still here?" (issue 14), free of D-Bus and timers so that
/// it can be tested with a fake clock. A refresh tells the server the session is in use, so the
/// agent refreshes only when the clinician was active since the previous refresh: a local app asked
/// for a token, the desktop saw input, or the clinician signed in or unlocked the screen. Otherwise
/// it holds back and the server's idle timeout runs; the next sign of activity refreshes at once.
class ClinicianActivity
{
public:
    explicit ClinicianActivity(const Clock& clock) : m_clock(clock) {}

    /// A local app asked for a token (not while locked: the agent refuses those).
    void localRequest();
    /// The clinician acted on the agent itself or the desktop: signed in, unlocked.
    void userAction();
    /// The desktop's idle time now (0: in use). Records the moment of its last input.
    void desktopIdleMs(qint64 idleMs);

    /// Whether there was activity at or after `sinceElapsedMs` (on Clock::elapsedMs()).
    bool activeSince(qint64 sinceElapsedMs) const;
    /// The last sign of activity on Clock::elapsedMs(); empty before any.
    std::optional<qint64> lastActivityMs() const { return m_lastActivityMs; }

private:
    void note(qint64 atMs);

    const Clock& m_clock;
    std::optional<qint64> m_lastActivityMs;
};

} // namespace ehrs::agent
