// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "KeyValueStore.h"

#include <QString>

#include <atomic>

struct redisContext;

namespace ehrs::server {

/// Where Redis is and how to log in, parsed from REDIS_URL (redis://[user:password@]host:port/db).
struct RedisEndpoint
{
    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString user;
    QString password;
    int db = 0;

    [[nodiscard]] static Result<RedisEndpoint> parse(const QString& url);
    /// What a new connection sends before anything else: AUTH (when a password is set) and SELECT
    /// (when the database is not 0).
    QList<QList<QByteArray>> setupCommands() const;
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
class RedisStore final : public KeyValueStore
{
public:
    /// `clientName` (CLIENT SETNAME) tells operators, and tests, whose connection is whose.
    RedisStore(RedisEndpoint endpoint, RedisHealth& health, int timeoutMs = 250, QByteArray clientName = {});
    ~RedisStore() override;

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

    RedisEndpoint m_endpoint;
    RedisHealth& m_health;
    int m_timeoutMs;
    QByteArray m_clientName;
    redisContext* m_context = nullptr;
    qint64 m_nextAttemptMs = 0;
    bool m_hadOutage = false;
};

} // namespace ehrs::server
