// SPDX-License-Identifier: Apache-2.0
#include "HashingPool.h"

#include <QThread>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ehrs::server {

HashingPool::HashingPool(int threads, int maxQueued, bool yieldToEventLoops) : m_yield(yieldToEventLoops)
{
    const int n = threads > 0 ? threads : qMax(1, QThread::idealThreadCount());
    m_pool.setMaxThreadCount(n);
    m_pool.setExpiryTimeout(-1); // threads stay: no thread creation on the login path
    m_capacity = n + qMax(0, maxQueued);
}

HashingPool::~HashingPool()
{
    m_pool.waitForDone();
}

bool HashingPool::admit()
{
    int current = m_inFlight.load(std::memory_order_relaxed);
    do {
        if (current >= m_capacity)
            return false;
    } while (!m_inFlight.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
    return true;
}

void HashingPool::yieldToEventLoops()
{
    thread_local bool done = false;
    if (done)
        return;
    done = true;
    // On Linux the nice value is per thread (the tid as the "process").
    (void)::setpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)), 10);
}

Error HashingPool::busy()
{
    return Error{ErrorCode::Unavailable,
                 QStringLiteral("The server is busy checking other passwords; retry shortly"), 1};
}

} // namespace ehrs::server
