// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cache/LiveSessionTable.h"
#include "cache/RedisStore.h"

#include <QByteArray>
#include <atomic>
#include <chrono>
#include <memory>

class QThread;

namespace ehrs::server {

class AsyncRedis;

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
};

} // namespace ehrs::server
