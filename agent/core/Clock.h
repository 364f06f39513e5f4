// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDateTime>

namespace ehrs::agent {

/// Time as the refresh logic needs it, injected so tests can move it by hand.
/// Token deadlines use elapsedMs(): it keeps counting while the machine sleeps, so a token that
/// expired during suspend is seen as expired on resume. awakeMs() stops during suspend; the
/// difference between the two growing reveals a sleep.
class Clock
{
public:
    virtual ~Clock() = default;
    /// Milliseconds since an arbitrary origin, including time spent suspended (CLOCK_BOOTTIME).
    virtual qint64 elapsedMs() const = 0;
    /// Milliseconds since an arbitrary origin, excluding suspend (CLOCK_MONOTONIC).
    virtual qint64 awakeMs() const = 0;
    /// Wall-clock time, for display only.
    virtual QDateTime now() const = 0;
};

} // namespace ehrs::agent
