// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QString>
#include <functional>

namespace ehrs::server {

/// Who is listening to account events in this process (GET /api/sessions/events), and the wake-up
/// calls that tell them to look. One per process, shared by the workers; thread-safe. The events
/// themselves are rows of `audit_events` (SessionEvents): the hub carries no data, only "user U
/// has something new" (from this process's committed audit rows, or from another instance through
/// the revocation channel's `user <id>` messages) and "session S ended" (`revoke <id>`, also
/// published by the CLI). A listener woken for nothing finds no new row and goes back to sleep.
class EventHub
{
public:
    struct Limits
    {
        int perUser = 8;        // streams of one account in this process
        int perProcess = 10000; // streams in this process
    };
    /// Called in the listener's thread (queued to its context). `resync`: events may have been
    /// missed (the feed reconnected), look even if nothing was announced. Gets the listener's id.
    using Wake = std::function<void(quint64 id)>;

    explicit EventHub(Limits limits) : m_limits(limits) {}
    EventHub() : EventHub(Limits{}) {}

    /// Registers a listener; `context` must unsubscribe before it is deleted. RateLimited when the account or
    /// the process holds too many streams.
    [[nodiscard]] Result<quint64> subscribe(const QString& userId, const QString& sessionId, QObject* context,
                                            Wake wake);
    void unsubscribe(quint64 id);
    /// A change of `userId`'s account was committed in this process: wakes its listeners here and
    /// tells the other instances (the publisher, when there is Redis).
    void userChanged(const QString& userId);
    /// From the revocation channel: another instance (or this one) announced a change.
    void remoteUserChanged(const QString& userId);
    void sessionEnded(const QString& sessionId);
    /// Every listener looks (the feed reconnected: announcements may have been lost).
    void wakeAll();
    /// Sends "user <id>" to the other instances; unset without Redis.
    void setPublisher(std::function<void(const QByteArray& message)> publish);
    int streams() const;

    static QByteArray userMessage(const QString& userId) { return "user " + userId.toLatin1(); }

private:
    struct Listener
    {
        quint64 id;
        QString userId;
        QString sessionId;
        QObject* context; // unsubscribes before it is deleted
        Wake wake;
    };
    void wake(const Listener& listener); // under m_mutex

    Limits m_limits;
    mutable QMutex m_mutex;
    quint64 m_nextId = 0;
    QHash<quint64, Listener> m_listeners;
    QMultiHash<QString, quint64> m_byUser;
    QMultiHash<QString, quint64> m_bySession;
    std::function<void(const QByteArray&)> m_publish;
};

} // namespace ehrs::server
