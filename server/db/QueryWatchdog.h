// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace ehrs::server {

/// A deadline for blocking database calls (Qt SQL on the pool threads). A caller arms it with its
/// connection's socket before a call and disarms it after; if the deadline passes first, the
/// watchdog's thread shuts the socket down (shutdown(2), not close: the descriptor stays the
/// caller's), so the blocked libpq call returns at once with a connection error that the caller
/// reports as 503 + Retry-After and replaces the connection. This is what bounds a call to a
/// database host that stopped answering (frozen, partitioned) without closing its TCP connection:
/// neither statement_timeout (enforced by the frozen server) nor TCP timeouts fire then.
/// One thread, started on first use, sleeping until the earliest armed deadline.
class QueryWatchdog
{
public:
    QueryWatchdog() = default;
    ~QueryWatchdog();
    QueryWatchdog(const QueryWatchdog&) = delete;
    QueryWatchdog& operator=(const QueryWatchdog&) = delete;

    /// Returns a ticket for disarm().
    std::uint64_t arm(int socket, int deadlineMs);
    /// True if the deadline passed and the socket was shut down.
    bool disarm(std::uint64_t ticket);

    /// Deadlines that fired since the start (for tests and logs).
    std::uint64_t fired() const;

private:
    using Clock = std::chrono::steady_clock;
    struct Entry
    {
        int socket;
        Clock::time_point deadline;
        bool fired = false;
    };
    void run();

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<std::uint64_t, Entry> m_entries;
    std::uint64_t m_next = 1;
    std::uint64_t m_fired = 0;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace ehrs::server
