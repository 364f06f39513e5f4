// SPDX-License-Identifier: Apache-2.0
#include "ClinicianActivity.h"

#include "core/Clock.h"

#include <algorithm>

namespace ehrs::agent {

void ClinicianActivity::note(qint64 atMs)
{
    m_lastActivityMs = m_lastActivityMs ? std::max(*m_lastActivityMs, atMs) : atMs;
}

void ClinicianActivity::localRequest()
{
    note(m_clock.elapsedMs());
}

void ClinicianActivity::userAction()
{
    note(m_clock.elapsedMs());
}

void ClinicianActivity::desktopIdleMs(qint64 idleMs)
{
    note(m_clock.elapsedMs() - std::max<qint64>(idleMs, 0));
}

bool ClinicianActivity::activeSince(qint64 sinceElapsedMs) const
{
    return m_lastActivityMs && *m_lastActivityMs >= sinceElapsedMs;
}

} // namespace ehrs::agent
