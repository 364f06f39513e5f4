// SPDX-License-Identifier: Apache-2.0
#include "SessionCache.h"

#include "Logging.h"
#include "RevocationFeed.h"

#include <QDateTime>

namespace ehrs::server {

void PendingInvalidations::add(const QList<KeyValueStore::Write>& writes)
{
    QMutexLocker lock(&m_mutex);
    m_writes += writes;
    m_size.store(m_writes.size(), std::memory_order_release);
}

void PendingInvalidations::replay(const std::function<bool(const QList<KeyValueStore::Write>&)>& apply)
{
    if (!m_replaying.tryLock())
        return; // another thread is at it
    QList<KeyValueStore::Write> writes;
    {
        QMutexLocker lock(&m_mutex);
        writes = m_writes;
    }
    // Applied before they are dropped: until then no thread trusts a positive cache entry.
    if (!writes.isEmpty() && apply(writes)) {
        QMutexLocker lock(&m_mutex);
        m_writes.remove(0, writes.size()); // only this thread removes, others only append
        m_size.store(m_writes.size(), std::memory_order_release);
        qCInfo(lcCache) << "replayed" << writes.size() << "cache invalidations missed during the Redis outage";
    }
    m_replaying.unlock();
}

void SessionCache::replayPending()
{
    if (m_pending.size() == 0)
        return;
    m_pending.replay([this](const QList<KeyValueStore::Write>& writes) { return bool(m_store.apply(writes)); });
}

SessionCache::AccessState SessionCache::checkAccess(const QByteArray& accessHash)
{
    replayPending();
    auto values = m_store.get({blacklistKey(accessHash), accessKey(accessHash)});
    if (!values)
        return AccessState::Unknown;
    if ((*values)[0])
        return *(*values)[0] == "rotated" ? AccessState::Rotated : AccessState::Revoked;
    // A positive entry counts only in a shared store and while nothing is waiting to be replayed.
    if ((*values)[1] && m_store.isShared() && m_pending.size() == 0)
        return AccessState::Live;
    return AccessState::Unknown;
}

void SessionCache::markLive(const QByteArray& accessHash, const QString& sessionId, int ttlSeconds)
{
    if (ttlSeconds <= 0)
        return;
    (void)m_store.apply({{accessKey(accessHash), sessionId.toLatin1(), ttlSeconds}});
}

void SessionCache::rememberRefresh(const QByteArray& refreshHash, const QString& sessionId, int ttlSeconds)
{
    if (ttlSeconds <= 0)
        return;
    (void)m_store.apply({{refreshKey(refreshHash), sessionId.toLatin1(), ttlSeconds}});
}

void SessionCache::revoked(const QString& sessionId, const QByteArray& accessHash, const QByteArray& refreshHash,
                           int blacklistTtlSeconds)
{
    if (m_live)
        m_live->markRevoked(sessionId, QDateTime::currentMSecsSinceEpoch());
    QList<KeyValueStore::Write> writes{{accessKey(accessHash), {}, 0}, {refreshKey(refreshHash), {}, 0}};
    if (blacklistTtlSeconds > 0)
        writes.append({blacklistKey(accessHash), QByteArrayLiteral("revoked"), blacklistTtlSeconds});
    writes.append({RevocationFeed::kChannel, RevocationFeed::revokeMessage(sessionId), 0, true});
    invalidate(std::move(writes));
}

void SessionCache::rotated(const QString& sessionId, const QByteArray& oldAccessHash, const QByteArray& oldRefreshHash,
                           const QByteArray& newAccessHash, int blacklistTtlSeconds)
{
    if (m_live)
        m_live->markRotated(sessionId, newAccessHash);
    QList<KeyValueStore::Write> writes{{accessKey(oldAccessHash), {}, 0}, {refreshKey(oldRefreshHash), {}, 0}};
    if (blacklistTtlSeconds > 0)
        writes.append({blacklistKey(oldAccessHash), QByteArrayLiteral("rotated"), blacklistTtlSeconds});
    writes.append({RevocationFeed::kChannel, RevocationFeed::rotateMessage(sessionId, newAccessHash), 0, true});
    invalidate(std::move(writes));
}

void SessionCache::invalidate(QList<KeyValueStore::Write> writes)
{
    replayPending(); // older invalidations first
    if (auto r = m_store.apply(writes); !r) {
        // The database already holds the truth; remember to fix the cache when it is back.
        m_pending.add(writes);
    }
}

} // namespace ehrs::server
