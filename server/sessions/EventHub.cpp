// SPDX-License-Identifier: Apache-2.0
#include "EventHub.h"

namespace ehrs::server {

Result<quint64> EventHub::subscribe(const QString& userId, const QString& sessionId, QObject* context,
                                    Wake wake)
{
    QMutexLocker lock(&m_mutex);
    if (m_listeners.size() >= m_limits.perProcess)
        return fail(ErrorCode::Unavailable, QStringLiteral("This server holds too many event streams"), 30);
    if (m_byUser.count(userId) >= m_limits.perUser)
        return fail(
            ErrorCode::RateLimited,
            QStringLiteral("Too many event streams for this account (at most %1)").arg(m_limits.perUser), 30);
    const quint64 id = ++m_nextId;
    m_listeners.insert(id, Listener{id, userId, sessionId, context, std::move(wake)});
    m_byUser.insert(userId, id);
    m_bySession.insert(sessionId, id);
    return id;
}

void EventHub::unsubscribe(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_listeners.constFind(id);
    if (it == m_listeners.cend())
        return;
    m_byUser.remove(it->userId, id);
    m_bySession.remove(it->sessionId, id);
    m_listeners.erase(it);
}

void EventHub::setPublisher(std::function<void(const QByteArray&)> publish)
{
    QMutexLocker lock(&m_mutex);
    m_publish = std::move(publish);
}

int EventHub::streams() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_listeners.size());
}

void EventHub::userChanged(const QString& userId)
{
    if (userId.isEmpty())
        return;
    std::function<void(const QByteArray&)> publish;
    {
        QMutexLocker lock(&m_mutex);
        publish = m_publish;
    }
    remoteUserChanged(userId);
    if (publish)
        publish(userMessage(userId));
}

// Wake-ups are posted under the lock: a listener's context unsubscribes (under the same lock)
// before it is deleted, so it cannot go away between the look-up and the post. Queued, never called
// inside: the caller may hold a transaction or be another thread.
void EventHub::remoteUserChanged(const QString& userId)
{
    QMutexLocker lock(&m_mutex);
    for (auto it = m_byUser.constFind(userId); it != m_byUser.cend() && it.key() == userId; ++it)
        wake(m_listeners[*it]);
}

void EventHub::sessionEnded(const QString& sessionId)
{
    QMutexLocker lock(&m_mutex);
    for (auto it = m_bySession.constFind(sessionId); it != m_bySession.cend() && it.key() == sessionId; ++it)
        wake(m_listeners[*it]);
}

void EventHub::wakeAll()
{
    QMutexLocker lock(&m_mutex);
    for (const Listener& l : std::as_const(m_listeners))
        wake(l);
}

void EventHub::wake(const Listener& l)
{
    QMetaObject::invokeMethod(
        l.context, [wake = l.wake, id = l.id] { wake(id); }, Qt::QueuedConnection);
}

} // namespace ehrs::server
