// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "KeyValueStore.h"
#include "RedisEndpoint.h"

#include <QList>
#include <QPair>
#include <QString>
#include <atomic>
#include <deque>
#include <memory>

struct redisContext;

namespace ehrs::server {

class AsyncRedis;

/// Process-wide view of Redis health, for /readyz and metrics.
struct RedisHealth
{
    std::atomic<bool> configured{false};
    std::atomic<bool> up{false};
};

/// A synchronous hiredis connection owned by one thread. Commands time out after a short bound. A
/// command that fails on a connection that was up is tried once more on a new connection at once
/// (a restarted Redis leaves every idle connection stale); after that the connection is retried
/// at most once per second, so a dead Redis costs one failed attempt per second instead of a
/// timeout per request.
///
/// On a thread with an event loop (an HTTP worker), startAsync() adds a second, non-blocking
/// connection (AsyncRedis) for the asynchronous forms, so that the request path never waits on
/// Redis: reads and counts that fail there answer "unavailable" (the caller falls back to the
/// database or to a per-instance count), and writes that fail there are tried once more at once,
/// on a new connection, so that an invalidation is not lost to a connection that went stale while
/// Redis restarted.
class RedisStore final : public KeyValueStore
{
public:
    /// `clientName` (CLIENT SETNAME) tells operators, and tests, whose connection is whose.
    RedisStore(RedisEndpoint endpoint, RedisHealth& health, int timeoutMs = 250, QByteArray clientName = {});
    ~RedisStore() override;

    /// Connects the non-blocking connection on the calling thread's event loop (see above).
    void startAsync();
    void getAsync(const QList<QByteArray>& keys, Done<Values> done) override;
    void applyAsync(const QList<Write>& writes, Done<void> done) override;
    void incrementWindowAsync(const QByteArray& currentKey, const QByteArray& previousKey, int ttlSeconds,
                              Done<QPair<qint64, qint64>> done) override;

    Result<std::vector<std::optional<QByteArray>>> get(const QList<QByteArray>& keys) override;
    Result<void> apply(const QList<Write>& writes) override;
    Result<QPair<qint64, qint64>> incrementWindow(const QByteArray& currentKey, const QByteArray& previousKey,
                                                  int ttlSeconds) override;
    QByteArray mode() const override;

    /// Runs one arbitrary command (tests, PING); the reply as text or an error.
    [[nodiscard]] Result<QByteArray> command(const QList<QByteArray>& argv);

private:
    Result<void> ensureConnected();
    template <typename Call>
    auto withRetry(Call call) -> decltype(call());
    Result<std::vector<std::optional<QByteArray>>> getOnce(const QList<QByteArray>& keys);
    Result<void> applyOnce(const QList<Write>& writes);
    Result<QPair<qint64, qint64>> incrementWindowOnce(const QByteArray& currentKey, const QByteArray& previousKey,
                                                      int ttlSeconds);
    void dropConnection(const char* why);
    /// A READONLY error: drops the connection (the next command asks the Sentinels) and says so.
    bool wrongServer(const void* reply);
    void applyAsyncOnce(const QList<Write>& writes, Done<void> done);
    void applyAsyncTwice(const QList<Write>& writes, Done<void> done);
    /// Keeps the invalidations among `writes` (deletes, blacklist entries) for kReplayWindowMs.
    void remember(const QList<Write>& writes);
    /// After a Sentinel switch: the invalidations of the last kReplayWindowMs again, on the new
    /// primary. Those written to the old primary after the promotion and before this instance heard
    /// of it are lost with it, and a stale cache entry would let a revoked token through.
    void replayRecent();

    RedisEndpoint m_endpoint;
    RedisHealth& m_health;
    int m_timeoutMs;
    QByteArray m_clientName;
    redisContext* m_context = nullptr;
    RedisEndpoint::Address m_connectedTo;
    quint64 m_generation = 0; // of m_endpoint.primary when m_context was made
    qint64 m_nextAttemptMs = 0;
    bool m_hadOutage = false;
    std::unique_ptr<AsyncRedis> m_async;
    static constexpr qint64 kReplayWindowMs = 30'000;
    struct Recent
    {
        qint64 atMs;
        QList<Write> writes;
    };
    std::deque<Recent> m_recent; // on the thread of m_async
    int m_primaryListener = 0;
};

} // namespace ehrs::server
