// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "KeyValueStore.h"

#include <QHash>
#include <QMutex>

namespace ehrs {
class Clock;
}

namespace ehrs::server {

/// In-process KeyValueStore with TTLs, shared by all worker threads of one server when no Redis
/// is configured.
class MemoryStore final : public KeyValueStore
{
public:
    explicit MemoryStore(const Clock& clock) : m_clock(clock) {}
    Result<std::vector<std::optional<QByteArray>>> get(const QList<QByteArray>& keys) override;
    Result<void> apply(const QList<Write>& writes) override;
    Result<QPair<qint64, qint64>> incrementWindow(const QByteArray& currentKey, const QByteArray& previousKey,
                                                  int ttlSeconds) override;
    QByteArray mode() const override { return QByteArrayLiteral("in-process"); }
    bool isShared() const override { return false; }
    qsizetype size() const;

private:
    void purgeExpiredLocked(qint64 now);

    struct Entry
    {
        QByteArray value;
        qint64 expiresAtMs;
    };
    const Clock& m_clock;
    mutable QMutex m_mutex;
    QHash<QByteArray, Entry> m_entries;
    qint64 m_nextPurgeMs = 0;
};

} // namespace ehrs::server
