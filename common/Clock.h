// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDateTime>

namespace ehrs {

/// Wall-clock time, injected so tests can move it.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual qint64 nowMs() const = 0;
    qint64 nowSeconds() const { return nowMs() / 1000; }
};

class SystemClock final : public Clock
{
public:
    qint64 nowMs() const override { return QDateTime::currentMSecsSinceEpoch(); }
};

} // namespace ehrs
