// SPDX-License-Identifier: Apache-2.0
#include "MemoryStore.h"

#include "Clock.h"

namespace ehrs::server {

Result<std::vector<std::optional<QByteArray>>> MemoryStore::get(const QList<QByteArray>& keys)
{
    const qint64 now = m_clock.nowMs();
    QMutexLocker lock(&m_mutex);
    std::vector<std::optional<QByteArray>> out;
    out.reserve(size_t(keys.size()));
    for (const QByteArray& key : keys) {
        auto it = m_entries.constFind(key);
        if (it == m_entries.cend() || it->expiresAtMs <= now)
            out.emplace_back(std::nullopt);
        else
            out.emplace_back(it->value);
    }
    return out;
}

Result<void> MemoryStore::apply(const QList<Write>& writes)
{
    const qint64 now = m_clock.nowMs();
    QMutexLocker lock(&m_mutex);
    for (const Write& w : writes) {
        if (w.publish)
            continue; // one process: nobody else to tell
        if (w.ttlSeconds > 0)
            m_entries.insert(w.key, Entry{w.value, now + qint64(w.ttlSeconds) * 1000});
        else
            m_entries.remove(w.key);
    }
    if (now >= m_nextPurgeMs) {
        purgeExpiredLocked(now);
        m_nextPurgeMs = now + 60'000;
    }
    return {};
}

void MemoryStore::purgeExpiredLocked(qint64 now)
{
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (it->expiresAtMs <= now)
            it = m_entries.erase(it);
        else
            ++it;
    }
}

Result<QPair<qint64, qint64>> MemoryStore::incrementWindow(const QByteArray& currentKey, const QByteArray& previousKey,
                                                          int ttlSeconds)
{
    const qint64 now = m_clock.nowMs();
    QMutexLocker lock(&m_mutex);
    auto value = [&](const QByteArray& key) -> qint64 {
        auto it = m_entries.constFind(key);
        return it == m_entries.cend() || it->expiresAtMs <= now ? 0 : it->value.toLongLong();
    };
    const qint64 current = value(currentKey) + 1;
    auto it = m_entries.find(currentKey);
    const qint64 expires = it != m_entries.end() && it->expiresAtMs > now ? it->expiresAtMs : now + qint64(ttlSeconds) * 1000;
    m_entries.insert(currentKey, Entry{QByteArray::number(current), expires});
    return qMakePair(current, value(previousKey));
}

qsizetype MemoryStore::size() const
{
    QMutexLocker lock(&m_mutex);
    return m_entries.size();
}

} // namespace ehrs::server
