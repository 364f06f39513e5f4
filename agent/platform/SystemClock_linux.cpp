// SPDX-License-Identifier: Apache-2.0
#include "core/SystemClock.h"

#include <time.h>

namespace ehrs::agent {
namespace {
qint64 readClockMs(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<qint64>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
} // namespace

qint64 SystemClock::elapsedMs() const
{
    return readClockMs(CLOCK_BOOTTIME);
}

qint64 SystemClock::awakeMs() const
{
    return readClockMs(CLOCK_MONOTONIC);
}

QDateTime SystemClock::now() const
{
    return QDateTime::currentDateTimeUtc();
}

} // namespace ehrs::agent
