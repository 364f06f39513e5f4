// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "KeyValueStore.h"

#include <QList>
#include <QPair>
#include <QString>
#include <atomic>
#include <memory>

struct redisContext;

namespace ehrs::server {

class AsyncRedis;

/// Where Redis is and how to log in, parsed from REDIS_URL: redis://[user:password@]host:port/db,
/// or through Sentinel, redis-sentinel://[:password@]s1:26379,s2:26379,s3:26379/mymaster[/db]
/// (the password is the data nodes'; the Sentinels are asked without one).
struct RedisEndpoint
{
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString user;
    QString password;
    int db = 0;
    QList<QPair<QString, int>> sentinels; // set: host/port are found through them
    QString masterName;

    [[nodiscard]] static Result<RedisEndpoint> parse(const QString& url);
    bool usesSentinel() const { return !sentinels.isEmpty(); }
    /// The primary to connect to now: host/port, or with Sentinel the answer of the first
    /// Sentinel that knows `masterName` (SENTINEL get-master-addr-by-name, each asked with
    /// `timeoutMs`). Blocking; called when a connection is (re)established, so every connection
    /// follows a failover (+switch-master) at its next reconnect. Empty host: no Sentinel answered.
    QPair<QByteArray, int> resolve(int timeoutMs = 200) const;
    /// What a new connection sends before anything else: AUTH (when a password is set) and SELECT
    /// (when the database is not 0).
    QList<QList<QByteArray>> setupCommands() const;

private:
    [[nodiscard]] static Result<RedisEndpoint> parseSentinel(const QString& url);
};

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
    void applyAsyncOnce(const QList<Write>& writes, Done<void> done);

    RedisEndpoint m_endpoint;
    RedisHealth& m_health;
    int m_timeoutMs;
    QByteArray m_clientName;
    redisContext* m_context = nullptr;
    qint64 m_nextAttemptMs = 0;
    bool m_hadOutage = false;
    std::unique_ptr<AsyncRedis> m_async;
};

} // namespace ehrs::server
