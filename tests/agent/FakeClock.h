// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "core/Clock.h"

namespace ehrs::agent::test {

/// A clock the test moves by hand. advance() is time passing while awake; sleep() is a suspend:
/// elapsed and wall time move, awake time does not.
class FakeClock final : public Clock
{
public:
    qint64 elapsedMs() const override { return m_elapsed; }
    qint64 awakeMs() const override { return m_awake; }
    QDateTime now() const override { return m_wall; }

    void advance(qint64 ms)
    {
        m_elapsed += ms;
        m_awake += ms;
        m_wall = m_wall.addMSecs(ms);
    }
    void sleep(qint64 ms)
    {
        m_elapsed += ms;
        m_wall = m_wall.addMSecs(ms);
    }
    void setWall(const QDateTime& wall) { m_wall = wall; }

private:
    qint64 m_elapsed = 1'000'000;
    qint64 m_awake = 1'000'000;
    QDateTime m_wall = QDateTime(QDate(2026, 1, 5), QTime(8, 0), Qt::UTC);
};

} // namespace ehrs::agent::test
