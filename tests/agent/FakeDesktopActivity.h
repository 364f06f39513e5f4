// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "core/DesktopActivity.h"

namespace ehrs::agent::test {

/// A desktop for unit tests: its idle time and lock state are set by hand and announced as the
/// Linux implementation announces them.
class FakeDesktopActivity final : public DesktopActivity
{
    Q_OBJECT
public:
    bool isAvailable() const override { return available; }
    QString sources() const override { return available ? QStringLiteral("fake") : QString(); }
    std::optional<qint64> idleMs() const override { return idle; }
    bool isLocked() const override { return locked; }

    void setIdle(std::optional<qint64> ms)
    {
        const bool was = idle && *idle > 0;
        idle = ms;
        const bool now = idle && *idle > 0;
        if (was != now)
            Q_EMIT idleChanged(now);
    }
    void setLocked(bool on)
    {
        if (on == locked)
            return;
        locked = on;
        Q_EMIT lockedChanged(on);
    }

    bool available = true;
    std::optional<qint64> idle = 0;
    bool locked = false;
};

} // namespace ehrs::agent::test
