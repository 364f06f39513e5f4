// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QtGlobal>

namespace ehrs::agent {

/// The arithmetic of when to refresh, free of clocks and timers so it can be tested exhaustively.
/// Every function takes the random draw `u` in [0, 1) as an argument.
class RefreshPolicy
{
public:
    struct Settings
    {
        double refreshFractionMin = 0.75; // refresh between 75% ...
        double refreshFractionMax = 0.85; // ... and 85% of the lifetime (about 80%, with jitter)
        qint64 minRefreshDelayMs = 1000;  // never hammer the server, even for absurd lifetimes
        qint64 initialBackoffMs = 1000;
        qint64 maxBackoffMs = 5 * 60 * 1000;
        qint64 maxRetryAfterMs = 60 * 60 * 1000; // a server asking for more is capped here
    };

    RefreshPolicy() = default;
    explicit RefreshPolicy(Settings settings) : m_settings(settings) {}

    /// Delay from receiving a token of `lifetimeMs` until its refresh. Jitter spreads the
    /// refreshes of many agents that signed in at the same moment (a ward's morning shift).
    qint64 refreshDelayMs(qint64 lifetimeMs, double u) const;
    /// Delay before retry number `attempt` (1 for the first retry): exponential with "equal
    /// jitter" (half fixed, half random) capped at maxBackoffMs; a server's Retry-After is a
    /// floor, since retrying earlier is pointless.
    qint64 backoffDelayMs(int attempt, double u, int retryAfterSeconds = 0) const;

    const Settings& settings() const { return m_settings; }

private:
    Settings m_settings;
};

} // namespace ehrs::agent
