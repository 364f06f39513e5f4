// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "KeyValueStore.h"

#include <QMutex>
#include <QString>

namespace ehrs::server {

/// Invalidations that could not reach the cache (Redis down). They are replayed as soon as a
/// connection to Redis is back, before the cache is trusted again. Shared by all threads.
class PendingInvalidations
{
public:
    void add(const QList<KeyValueStore::Write>& writes);
    QList<KeyValueStore::Write> snapshot() const;
    void dropFirst(qsizetype count);
    qsizetype size() const;

private:
    mutable QMutex m_mutex;
    QList<KeyValueStore::Write> m_writes;
};

/// The session facts kept in Redis (or in process) in front of the database:
///  - `session:access:{sha256(access token)}`  -> session id: token known live (short TTL)
///  - `session:refresh:{sha256(refresh token)}` -> session id
///  - `blacklist:{sha256(access token)}`        -> why it is dead ("revoked", "rotated")
/// A miss always falls through to the database, so the cache can be lost at any time; the
/// blacklist is checked first, so a stale positive entry cannot outlive a revocation.
class SessionCache
{
public:
    enum class AccessState { Unknown, Live, Revoked, Rotated };

    SessionCache(KeyValueStore& store, PendingInvalidations& pending) : m_store(store), m_pending(pending) {}

    AccessState checkAccess(const QByteArray& accessHash);
    void markLive(const QByteArray& accessHash, const QString& sessionId, int ttlSeconds);
    void rememberRefresh(const QByteArray& refreshHash, const QString& sessionId, int ttlSeconds);
    /// Forgets an access/refresh pair and blacklists the access token for what is left of its life.
    /// `reason` is "revoked" or "rotated".
    void invalidate(const QByteArray& accessHash, const QByteArray& refreshHash, int blacklistTtlSeconds,
                    const QByteArray& reason);
    QByteArray mode() const { return m_store.mode(); }

    static QByteArray accessKey(const QByteArray& hash) { return "session:access:" + hash; }
    static QByteArray refreshKey(const QByteArray& hash) { return "session:refresh:" + hash; }
    static QByteArray blacklistKey(const QByteArray& hash) { return "blacklist:" + hash; }

private:
    void replayIfRecovered();

    KeyValueStore& m_store;
    PendingInvalidations& m_pending;
};

} // namespace ehrs::server
