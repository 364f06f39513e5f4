// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cache/LiveSessionTable.h"
#include "cache/RedisStore.h"

#include <QByteArray>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

class QThread;

namespace ehrs::server {

class AsyncRedis;
class SentinelWatch;

/// Subscribes to the revocation channel on Redis and applies the events ("revoke <sid>",
/// "rotate <sid> <access-hash>") to the LiveSessionTable. The subscriber is an AsyncRedis on the
/// event loop of a thread the feed owns: it costs nothing while idle but a keepalive every 15 s.
/// The table is cleared each time the subscription is (re)established, because events may have
/// been missed; while the feed is down isUp() is false and validation falls back to per-request
/// lookups (fail closed).
class RevocationFeed
{
public:
    static constexpr const char* kChannel = "ehrs:revocations";

    RevocationFeed(RedisEndpoint endpoint, LiveSessionTable& table);
    ~RevocationFeed();
    RevocationFeed(const RevocationFeed&) = delete;
    RevocationFeed& operator=(const RevocationFeed&) = delete;

    /// Who else hears the channel: the account event hub, told `user <id>` (an account changed,
    /// EventHub::userMessage), `revoke <id>` (a session ended) and `resync` (subscribed again:
    /// announcements may have been missed). Called on the feed's thread; set before start().
    using EventListener = std::function<void(const QByteArray& kind, const QString& id)>;
    void setEventListener(EventListener listener) { m_listener = std::move(listener); }
    /// Publishes `message` on the channel from this feed's own connection: from any thread, without
    /// waiting; best effort (lost while Redis is down, as the listeners' resync covers).
    void publish(const QByteArray& message);

    void start();
    void stop();
    bool isUp() const { return m_up.load(std::memory_order_acquire); }
    /// How many times the subscription was (re)established (tests, metrics).
    int connects() const { return m_connects.load(); }

    static QByteArray revokeMessage(const QString& sessionId);
    static QByteArray rotateMessage(const QString& sessionId, const QByteArray& accessHash);

private:
    void handleMessage(const QByteArray& payload);
    void handleState(bool up);

    RedisEndpoint m_endpoint;
    LiveSessionTable& m_table;
    std::atomic<bool> m_up{false};
    std::atomic<int> m_connects{0};
    std::unique_ptr<QThread> m_thread;
    AsyncRedis* m_subscriber = nullptr; // lives on m_thread
    AsyncRedis* m_publisher = nullptr;  // lives on m_thread
    SentinelWatch* m_watch = nullptr;   // lives on m_thread; with Sentinel only
    EventListener m_listener;
};

} // namespace ehrs::server
