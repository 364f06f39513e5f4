// SPDX-License-Identifier: Apache-2.0
#include "refresh/ClockJumpWatcher.h"

#include "Logging.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <sys/timerfd.h>
#include <unistd.h>

namespace ehrs::agent {

ClockJumpWatcher::ClockJumpWatcher(QObject* parent) : QObject(parent)
{
    m_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (m_fd < 0) {
        qCWarning(lcAgentRefresh) << "no timerfd: resume from sleep will be noticed at the next timer";
        return;
    }
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &ClockJumpWatcher::onActivated);
    arm();
}

ClockJumpWatcher::~ClockJumpWatcher()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void ClockJumpWatcher::arm()
{
    // An absolute expiry as far in the future as time_t goes (the kernel clamps it): the timer
    // never fires by itself, it only gets cancelled when the clock is set. Not INT32_MAX: from
    // 2038 on (or with the clock set past it) that expiry would be due at once, every time.
    itimerspec spec{};
    spec.it_value.tv_sec = std::numeric_limits<time_t>::max();
    if (timerfd_settime(m_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr) != 0)
        qCWarning(lcAgentRefresh) << "timerfd_settime failed:" << errno;
}

void ClockJumpWatcher::onActivated()
{
    std::uint64_t expirations = 0;
    const ssize_t n = ::read(m_fd, &expirations, sizeof expirations);
    if (n < 0 && errno == ECANCELED) {
        arm();
        Q_EMIT clockJumped();
        return;
    }
    arm();
}

} // namespace ehrs::agent
