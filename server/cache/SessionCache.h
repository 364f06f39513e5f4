// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "KeyValueStore.h"
#include "LiveSessionTable.h"

#include <QMutex>
#include <QString>

#include <atomic>
#include <functional>

namespace ehrs::server {

/// Invalidations that could not reach the cache (Redis down or unreachable from this process).
/// Until they are replayed this process trusts no positive cache entry; every worker retries them
/// on its next cache operation and on a timer (SessionCache::replayPending), so they reach Redis,
/// and through the revocation channel the other instances, as soon as it answers. Shared by all
/// threads of a process.
class PendingInvalidations
{
public:
    void add(const QList<KeyValueStore::Write>& writes);
    /// Hands the writes to `apply` and forgets them if it succeeds. One thread replays at a time
    /// (others return at once), so writes added meanwhile are neither lost nor replayed twice.
    void replay(const std::function<bool(const QList<KeyValueStore::Write>&)>& apply);
    qsizetype size() const { return m_size.load(std::memory_order_acquire); }

private:
    QMutex m_replaying;
    mutable QMutex m_mutex;
    QList<KeyValueStore::Write> m_writes;
    std::atomic<qsizetype> m_size{0};
};

/// The session facts kept in Redis (or in process) in front of the database:
///  - `session:access:{sha256(access token)}`  -> session id: token known live (short TTL)
///  - `session:refresh:{sha256(refresh token)}` -> session id
///  - `blacklist:{sha256(access token)}`        -> why it is dead ("revoked", or "rotated:<ms>"
///    with the time of the rotation: the token is still accepted for kRotationOverlapMs after it)
/// A miss always falls through to the database, so the cache can be lost at any time; the
/// blacklist is checked first, so a stale positive entry cannot outlive a revocation.
class SessionCache
{
public:
    /// RecentlyRotated: replaced by a refresh less than kRotationOverlapMs ago; the database
    /// decides whether it is still accepted (the session may have been revoked since).
    enum class AccessState { Unknown, Live, Revoked, Rotated, RecentlyRotated };
    /// How long the access token a refresh replaced stays accepted (capped by its own expiry), so
    /// that a token handed out just before a refresh does not die in the caller's hands.
    /// Revocation and refresh-token re-use still end it at once.
    static constexpr qint64 kRotationOverlapMs = 30'000;

    /// `live` (may be null) is this process's table of validated sessions; it is updated at once
    /// for changes made here, and through the revocation feed for changes made elsewhere.
    SessionCache(KeyValueStore& store, PendingInvalidations& pending, LiveSessionTable* live = nullptr)
        : m_store(store), m_pending(pending), m_live(live)
    {
    }

    /// What the cache knows of an access token, answered through `done` (at once without Redis,
    /// from the event loop with it).
    void checkAccess(const QByteArray& accessHash, std::function<void(AccessState)> done);
    /// Positive entries are written without waiting: losing one costs a database read later.
    void markLive(const QByteArray& accessHash, const QString& sessionId, int ttlSeconds);
    void rememberRefresh(const QByteArray& refreshHash, const QString& sessionId, int ttlSeconds);
    /// A session ended: forget its pair, blacklist its access token for what is left of its life
    /// and tell every instance (revocation channel). With `done`, the writes are asynchronous and
    /// `done` is called once they reached Redis or, Redis failing, were kept for replay: a caller
    /// that answers its client then knows that no instance trusts the session any more. Without
    /// it (synchronous callers: revoke-all, admin, CLI), they are made before this returns.
    void revoked(const QString& sessionId, const QByteArray& accessHash, const QByteArray& refreshHash,
                 int blacklistTtlSeconds, std::function<void()> done = {});
    /// A session rotated to a new pair: the previous access token stops working everywhere. With a
    /// `newRefreshHash`, its entry is written in the same round trip (as rememberRefresh()).
    /// `done` as for revoked().
    void rotated(const QString& sessionId, const QByteArray& oldAccessHash, const QByteArray& oldRefreshHash,
                 const QByteArray& newAccessHash, int blacklistTtlSeconds, std::function<void()> done = {},
                 const QByteArray& newRefreshHash = {}, int refreshTtlSeconds = 0);
    QByteArray mode() const { return m_store.mode(); }
    /// Writes what an outage kept from the cache, if anything; cheap when nothing is pending.
    void replayPending();

    static QByteArray accessKey(const QByteArray& hash) { return "session:access:" + hash; }
    static QByteArray refreshKey(const QByteArray& hash) { return "session:refresh:" + hash; }
    static QByteArray blacklistKey(const QByteArray& hash) { return "blacklist:" + hash; }

private:
    void invalidate(QList<KeyValueStore::Write> writes, std::function<void()> done);

    KeyValueStore& m_store;
    PendingInvalidations& m_pending;
    LiveSessionTable* m_live;
};

} // namespace ehrs::server
