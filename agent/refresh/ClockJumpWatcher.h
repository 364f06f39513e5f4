// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QObject>

class QSocketNotifier;

namespace ehrs::agent {

/// Tells when the wall clock jumps: after a resume from suspend, or when the time is set. It costs
/// no periodic wake-up: on Linux it is a timerfd armed on CLOCK_REALTIME with
/// TFD_TIMER_CANCEL_ON_SET, which the kernel cancels (and so wakes us) on every discontinuous
/// change, including the one made on resume.
class ClockJumpWatcher : public QObject
{
    Q_OBJECT
public:
    explicit ClockJumpWatcher(QObject* parent = nullptr);
    ~ClockJumpWatcher() override;

    /// False when the platform offers no such notification (the agent then relies on its timer).
    bool isActive() const { return m_fd >= 0; }

Q_SIGNALS:
    void clockJumped();

private:
    void arm();
    void onActivated();

    int m_fd = -1;
    QSocketNotifier* m_notifier = nullptr;
};

} // namespace ehrs::agent
