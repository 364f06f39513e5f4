// SPDX-License-Identifier: Apache-2.0
#include "RefreshPolicy.h"

#include <algorithm>
#include <cmath>

namespace ehrs::agent {
namespace {
double clampUnit(double u)
{
    if (!(u >= 0.0)) // also NaN
        return 0.0;
    return std::min(u, 0.999999);
}
} // namespace

qint64 RefreshPolicy::refreshDelayMs(qint64 lifetimeMs, double u) const
{
    if (lifetimeMs <= 0)
        return 0; // already expired: refresh now
    const double fraction = m_settings.refreshFractionMin +
                            (m_settings.refreshFractionMax - m_settings.refreshFractionMin) * clampUnit(u);
    const auto delay = static_cast<qint64>(std::llround(static_cast<double>(lifetimeMs) * fraction));
    // The floor must not push the refresh past the expiry of a very short-lived token.
    const qint64 floor = std::min(m_settings.minRefreshDelayMs, lifetimeMs / 2);
    return std::max(delay, floor);
}

qint64 RefreshPolicy::backoffDelayMs(int attempt, double u, int retryAfterSeconds) const
{
    const int exponent = std::clamp(attempt - 1, 0, 30);
    const double raw = static_cast<double>(m_settings.initialBackoffMs) * std::ldexp(1.0, exponent);
    const auto base = static_cast<qint64>(std::min(raw, static_cast<double>(m_settings.maxBackoffMs)));
    const qint64 jittered = base / 2 + static_cast<qint64>(std::llround(static_cast<double>(base / 2) * clampUnit(u)));
    const qint64 retryAfter = std::min(static_cast<qint64>(std::max(retryAfterSeconds, 0)) * 1000,
                                       m_settings.maxRetryAfterMs);
    return std::max(jittered, retryAfter);
}

} // namespace ehrs::agent
