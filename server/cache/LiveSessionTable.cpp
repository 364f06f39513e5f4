// SPDX-License-Identifier: Apache-2.0
#include "LiveSessionTable.h"

namespace ehrs::server {

std::optional<LiveSessionTable::Entry> LiveSessionTable::find(const QString& sessionId) const
{
    QReadLocker lock(&m_lock);
    auto it = m_entries.constFind(sessionId);
    if (it == m_entries.cend())
        return std::nullopt;
    return *it;
}

void LiveSessionTable::remember(const QString& sessionId, const Entry& entry)
{
    QWriteLocker lock(&m_lock);
    auto it = m_entries.find(sessionId);
    if (it != m_entries.end() && it->revoked)
        return; // a revocation is final
    if (it == m_entries.end() && m_entries.size() >= m_maxEntries)
        m_entries.clear(); // crude but safe: everything is re-learned from the database
    m_entries.insert(sessionId, entry);
}

void LiveSessionTable::markRevoked(const QString& sessionId, qint64 nowMs)
{
    QWriteLocker lock(&m_lock);
    Entry& e = m_entries[sessionId];
    e.revoked = true;
    e.checkedAtMs = nowMs;
}

void LiveSessionTable::markRotated(const QString& sessionId, const QByteArray& newAccessHash, qint64 nowMs)
{
    QWriteLocker lock(&m_lock);
    auto it = m_entries.find(sessionId);
    if (it == m_entries.end() || it->revoked)
        return;
    if (it->accessHash != newAccessHash) {
        it->previousAccessHash = it->accessHash;
        it->rotatedAtMs = nowMs;
    }
    it->accessHash = newAccessHash;
    it->confirmed = false;
}

void LiveSessionTable::markTouched(const QString& sessionId, qint64 nowMs)
{
    QWriteLocker lock(&m_lock);
    auto it = m_entries.find(sessionId);
    if (it == m_entries.end())
        return;
    it->touchedAtMs = nowMs;
    it->confirmed = true;
}

void LiveSessionTable::clear()
{
    QWriteLocker lock(&m_lock);
    m_entries.clear();
}

qsizetype LiveSessionTable::size() const
{
    QReadLocker lock(&m_lock);
    return m_entries.size();
}

} // namespace ehrs::server
