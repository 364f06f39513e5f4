// SPDX-License-Identifier: Apache-2.0
#include "QueryWatchdog.h"

#include <sys/socket.h>

namespace ehrs::server {

QueryWatchdog::~QueryWatchdog()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

std::uint64_t QueryWatchdog::arm(int socket, int deadlineMs)
{
    std::lock_guard lock(m_mutex);
    if (!m_thread.joinable())
        m_thread = std::thread([this] { run(); });
    const std::uint64_t ticket = m_next++;
    m_entries.emplace(ticket, Entry{socket, Clock::now() + std::chrono::milliseconds(deadlineMs)});
    m_wake.notify_all();
    return ticket;
}

bool QueryWatchdog::disarm(std::uint64_t ticket)
{
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(ticket);
    if (it == m_entries.end())
        return false;
    const bool fired = it->second.fired;
    m_entries.erase(it);
    return fired;
}

std::uint64_t QueryWatchdog::fired() const
{
    std::lock_guard lock(m_mutex);
    return m_fired;
}

void QueryWatchdog::run()
{
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        auto earliest = Clock::time_point::max();
        const auto now = Clock::now();
        for (auto& [ticket, entry] : m_entries) {
            if (entry.fired)
                continue;
            if (entry.deadline <= now) {
                // Under the mutex: the owner cannot disarm and close the descriptor meanwhile.
                ::shutdown(entry.socket, SHUT_RDWR);
                entry.fired = true;
                ++m_fired;
            } else if (entry.deadline < earliest) {
                earliest = entry.deadline;
            }
        }
        if (earliest == Clock::time_point::max())
            m_wake.wait(lock);
        else
            m_wake.wait_until(lock, earliest);
    }
}

} // namespace ehrs::server
