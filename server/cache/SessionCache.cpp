// SPDX-License-Identifier: Apache-2.0
#include "SessionCache.h"

#include "Logging.h"
#include "RevocationFeed.h"

#include <QDateTime>

namespace ehrs::server {
namespace {
// "rotated:<ms>" (the rotation's time), or "rotated" as written by earlier versions.
SessionCache::AccessState deadState(const QByteArray& value)
{
    if (!value.startsWith("rotated"))
        return SessionCache::AccessState::Revoked;
    bool ok = false;
    const qint64 at = value.mid(8).toLongLong(&ok);
    if (value.size() > 8 && value[7] == ':' && ok &&
        QDateTime::currentMSecsSinceEpoch() - at <= SessionCache::kRotationOverlapMs)
        return SessionCache::AccessState::RecentlyRotated;
    return SessionCache::AccessState::Rotated;
}
} // namespace

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

void SessionCache::checkAccess(const QByteArray& accessHash, std::function<void(AccessState)> done)
{
    replayPending();
    m_store.getAsync({blacklistKey(accessHash), accessKey(accessHash)},
                     [this, done = std::move(done)](Result<KeyValueStore::Values> values) {
                         if (!values)
                             return done(AccessState::Unknown);
                         if ((*values)[0])
                             return done(deadState(*(*values)[0]));
                         // A positive entry counts only in a shared store and while nothing is
                         // waiting to be replayed (checked now, when the answer is in).
                         if ((*values)[1] && m_store.isShared() && m_pending.size() == 0)
                             return done(AccessState::Live);
                         done(AccessState::Unknown);
                     });
}

void SessionCache::markLive(const QByteArray& accessHash, const QString& sessionId, int ttlSeconds)
{
    if (ttlSeconds <= 0)
        return;
    m_store.applyAsync({{accessKey(accessHash), sessionId.toLatin1(), ttlSeconds}}, [](Result<void>) {});
}

void SessionCache::rememberRefresh(const QByteArray& refreshHash, const QString& sessionId, int ttlSeconds)
{
    if (ttlSeconds <= 0)
        return;
    m_store.applyAsync({{refreshKey(refreshHash), sessionId.toLatin1(), ttlSeconds}}, [](Result<void>) {});
}

void SessionCache::revoked(const QString& sessionId, const QByteArray& accessHash,
                           const QByteArray& refreshHash, int blacklistTtlSeconds, std::function<void()> done)
{
    if (m_live)
        m_live->markRevoked(sessionId, QDateTime::currentMSecsSinceEpoch());
    QList<KeyValueStore::Write> writes{{accessKey(accessHash), {}, 0}, {refreshKey(refreshHash), {}, 0}};
    if (blacklistTtlSeconds > 0)
        writes.append({blacklistKey(accessHash), QByteArrayLiteral("revoked"), blacklistTtlSeconds});
    writes.append({RevocationFeed::kChannel, RevocationFeed::revokeMessage(sessionId), 0, true});
    invalidate(std::move(writes), std::move(done));
}

void SessionCache::rotated(const QString& sessionId, const QByteArray& oldAccessHash,
                           const QByteArray& oldRefreshHash, const QByteArray& newAccessHash,
                           int blacklistTtlSeconds, std::function<void()> done,
                           const QByteArray& newRefreshHash, int refreshTtlSeconds)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (m_live)
        m_live->markRotated(sessionId, newAccessHash, now);
    QList<KeyValueStore::Write> writes{{accessKey(oldAccessHash), {}, 0}, {refreshKey(oldRefreshHash), {}, 0}};
    if (blacklistTtlSeconds > 0)
        writes.append(
            {blacklistKey(oldAccessHash), "rotated:" + QByteArray::number(now), blacklistTtlSeconds});
    writes.append({RevocationFeed::kChannel, RevocationFeed::rotateMessage(sessionId, newAccessHash), 0, true});
    if (!newRefreshHash.isEmpty() && refreshTtlSeconds > 0)
        writes.append({refreshKey(newRefreshHash), sessionId.toLatin1(), refreshTtlSeconds});
    invalidate(std::move(writes), std::move(done));
}

void SessionCache::invalidate(QList<KeyValueStore::Write> writes, std::function<void()> done)
{
    replayPending(); // older invalidations first
    if (!done) {
        if (auto r = m_store.apply(writes); !r)
            m_pending.add(writes);
        return;
    }
    m_store.applyAsync(writes, [this, writes, done = std::move(done)](Result<void> r) {
        // The database already holds the truth; when Redis did not take it, remember to fix the
        // cache when it is back.
        if (!r)
            m_pending.add(writes);
        done();
    });
}

} // namespace ehrs::server
