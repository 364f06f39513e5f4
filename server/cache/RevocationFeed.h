// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cache/LiveSessionTable.h"
#include "cache/RedisStore.h"

#include <QByteArray>

#include <atomic>
#include <thread>

namespace ehrs::server {

/// Subscribes to the revocation channel on Redis in a thread of its own and applies the events
/// ("revoke <sid>", "rotate <sid> <access-hash>") to the LiveSessionTable. The table is cleared
/// each time the subscription is (re)established, because events may have been missed; while the
/// feed is down isUp() is false and validation falls back to per-request lookups (fail closed).
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
    void run();
    void handleMessage(const QByteArray& payload);

    RedisEndpoint m_endpoint;
    LiveSessionTable& m_table;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_up{false};
    std::atomic<int> m_connects{0};
    std::thread m_thread;
};

} // namespace ehrs::server
