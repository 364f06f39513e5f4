// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QObject>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>
#include <atomic>
#include <functional>

namespace ehrs::server {

/// Threads for work that takes milliseconds of CPU (argon2id: ~55 ms per password), so that the
/// HTTP workers' event loops never run it: a worker hands the work over, keeps serving, and gets
/// the result back on its own loop. The queue is bounded: past it, work is refused at once
/// (ErrorCode::Unavailable, 503 + Retry-After) instead of piling up. Thread-safe; one per process.
class HashingPool
{
public:
    /// `threads` 0: one per CPU. `maxQueued`: work accepted beyond the running threads.
    /// `yieldToEventLoops`: the threads run at a lower priority (nice 10) than the HTTP workers'
    /// event loops (for CPU-heavy work; a pool for work that mostly waits keeps normal priority).
    explicit HashingPool(int threads = 0, int maxQueued = 64, bool yieldToEventLoops = true);
    ~HashingPool();

    /// Runs `work` on a hashing thread, then `done(result)` in `context`'s thread (not at all if
    /// `context` is gone by then). Returns an Unavailable error, and runs nothing, when the queue
    /// is full.
    template <typename T>
    [[nodiscard]] Result<void> run(QObject* context, std::function<T()> work, std::function<void(T)> done)
    {
        if (!admit())
            return ehrs::fail(busy());
        // QFuture::then with a context: the continuation runs in the context's thread and is
        // dropped if the context dies first (no raw pointer crosses threads).
        QtConcurrent::run(&m_pool, [this, work = std::move(work)]() mutable {
            if (m_yield)
                yieldToEventLoops();
            T value = work();
            m_inFlight.fetch_sub(1, std::memory_order_relaxed);
            return value;
        }).then(context, [done = std::move(done)](T value) mutable { done(std::move(value)); });
        return {};
    }

    int threads() const { return m_pool.maxThreadCount(); }
    /// Work accepted and not finished (running or queued).
    int inFlight() const { return m_inFlight.load(std::memory_order_relaxed); }
    int capacity() const { return m_capacity; }

private:
    bool admit();
    static Error busy();
    /// Lowers the calling hashing thread's scheduling weight once (Linux: nice 10 for this
    /// thread only), so that the HTTP workers' event loops get a core as soon as they have work
    /// while sign-ins still use every idle cycle.
    static void yieldToEventLoops();

    QThreadPool m_pool;
    int m_capacity;
    bool m_yield;
    std::atomic<int> m_inFlight{0};
};

} // namespace ehrs::server
