// SPDX-License-Identifier: Apache-2.0
#include "RevocationFeed.h"

#include "AsyncRedis.h"
#include "Logging.h"
#include "SentinelWatch.h"

#include <QDateTime>
#include <QThread>

namespace ehrs::server {
namespace {
qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}
} // namespace

RevocationFeed::RevocationFeed(RedisEndpoint endpoint, LiveSessionTable& table)
    : m_endpoint(std::move(endpoint)), m_table(table)
{
}

RevocationFeed::~RevocationFeed()
{
    stop();
}

void RevocationFeed::start()
{
    if (m_thread)
        return;
    m_thread = std::make_unique<QThread>();
    m_thread->setObjectName(QStringLiteral("revocation-feed"));
    AsyncRedisOptions options;
    options.clientName = "ehrs-revocation-feed";
    m_subscriber = new AsyncRedis(m_endpoint, options);
    m_subscriber->moveToThread(m_thread.get());
    options.clientName = "ehrs-event-publisher";
    m_publisher = new AsyncRedis(m_endpoint, options);
    m_publisher->moveToThread(m_thread.get());
    m_thread->start();
    AsyncRedis* subscriber = m_subscriber;
    QMetaObject::invokeMethod(
        subscriber,
        [this, subscriber] {
            // With Sentinel, follow +switch-master from here: every connection of the instance
            // (this feed's and the request path's) moves to a new primary at once.
            if (m_endpoint.usesSentinel()) {
                m_watch = new SentinelWatch(m_endpoint);
                m_watch->start();
            }
            subscriber->subscribe(
                kChannel, subscriber, [this](const QByteArray& payload) { handleMessage(payload); },
                [this](bool up) { handleState(up); });
        },
        Qt::QueuedConnection);
}

void RevocationFeed::stop()
{
    if (!m_thread)
        return;
    AsyncRedis* subscriber = std::exchange(m_subscriber, nullptr);
    AsyncRedis* publisher = std::exchange(m_publisher, nullptr);
    QMetaObject::invokeMethod(
        subscriber,
        [this, subscriber, publisher] {
            delete std::exchange(m_watch, nullptr);
            delete subscriber;
            delete publisher;
        },
        Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    m_thread.reset();
    m_up = false;
}

void RevocationFeed::publish(const QByteArray& message)
{
    if (!m_publisher)
        return;
    AsyncRedis* publisher = m_publisher;
    QMetaObject::invokeMethod(
        publisher,
        [publisher, message] {
            publisher->command({"PUBLISH", kChannel, message}, publisher, [](Result<RedisReply> r) {
                if (!r)
                    qCWarning(lcCache) << "could not publish an account event:" << r.error().message;
            });
        },
        Qt::QueuedConnection);
}

QByteArray RevocationFeed::revokeMessage(const QString& sessionId)
{
    return "revoke " + sessionId.toLatin1();
}

QByteArray RevocationFeed::rotateMessage(const QString& sessionId, const QByteArray& accessHash)
{
    return "rotate " + sessionId.toLatin1() + ' ' + accessHash;
}

void RevocationFeed::handleState(bool up)
{
    if (up) {
        // Subscribed: anything learnt before may be stale, so start from nothing.
        m_table.clear();
        m_up.store(true, std::memory_order_release);
        ++m_connects;
        qCInfo(lcCache) << "revocation feed subscribed";
        if (m_listener)
            m_listener("resync", {});
        return;
    }
    m_up.store(false, std::memory_order_release);
    qCWarning(lcCache) << "revocation feed lost; validating against Redis/the database until it is back";
}

void RevocationFeed::handleMessage(const QByteArray& payload)
{
    const QList<QByteArray> parts = payload.split(' ');
    if (parts.size() == 2 && parts[0] == "revoke") {
        m_table.markRevoked(QString::fromLatin1(parts[1]), nowMs());
        if (m_listener)
            m_listener("revoke", QString::fromLatin1(parts[1]));
    } else if (parts.size() == 2 && parts[0] == "user") {
        if (m_listener)
            m_listener("user", QString::fromLatin1(parts[1]));
    } else if (parts.size() == 3 && parts[0] == "rotate")
        m_table.markRotated(QString::fromLatin1(parts[1]), parts[2], nowMs());
    else
        qCWarning(lcCache) << "ignoring malformed revocation event";
}

} // namespace ehrs::server
