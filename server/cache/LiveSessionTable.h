// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QHash>
#include <QReadWriteLock>
#include <QString>

#include <optional>

namespace ehrs::server {

/// What this process knows about sessions it has validated, kept current by the revocation feed
/// (Redis pub/sub), so that validating a token costs no network round trip. Only trusted while
/// the feed is up; cleared whenever the feed (re)connects, since events may have been missed.
/// Thread-safe: a read lock on the hot path.
class LiveSessionTable
{
public:
    struct Entry
    {
        QString userId;
        QByteArray accessHash; // the session's current access token
        bool revoked = false;
        bool confirmed = true;  // the current pair has been used (previous refresh token retired)
        qint64 checkedAtMs = 0; // last time the database confirmed the entry
        qint64 touchedAtMs = 0; // last time last_activity_at was written
        QByteArray previousAccessHash; // the one the last rotation replaced, accepted until
        qint64 rotatedAtMs = 0;        // rotatedAtMs + SessionCache::kRotationOverlapMs
    };

    explicit LiveSessionTable(qsizetype maxEntries = 1'000'000) : m_maxEntries(maxEntries) {}

    std::optional<Entry> find(const QString& sessionId) const;
    /// Records what the database just said about a live session.
    void remember(const QString& sessionId, const Entry& entry);
    /// Feed events.
    void markRevoked(const QString& sessionId, qint64 nowMs);
    void markRotated(const QString& sessionId, const QByteArray& newAccessHash, qint64 nowMs);
    void markTouched(const QString& sessionId, qint64 nowMs);
    void clear();
    qsizetype size() const;

private:
    mutable QReadWriteLock m_lock;
    QHash<QString, Entry> m_entries;
    qsizetype m_maxEntries;
};

} // namespace ehrs::server
