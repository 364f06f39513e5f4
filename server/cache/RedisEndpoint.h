// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QPair>
#include <QString>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace ehrs::server {

/// Where Redis is and how to log in, parsed from REDIS_URL: redis://[user:password@]host:port/db,
/// or through Sentinel, redis-sentinel://[:password@]s1:26379,s2:26379,s3:26379/mymaster[/db]
/// (the password is the data nodes'; the Sentinels are asked without one).
struct RedisEndpoint
{
    using Address = QPair<QByteArray, int>;

    /// With Sentinel: where the primary is, as last announced (`+switch-master`, SentinelWatch) or
    /// answered by a Sentinel, shared by every copy of one parsed endpoint (every connection of an
    /// instance). A change is told to the listeners at once, so that each connection moves to the
    /// new primary without waiting for an error. Thread-safe; listeners are called on the
    /// announcing thread, under the lock: they only post to their own thread.
    class Primary
    {
    public:
        using Listener = std::function<void(const Address&)>;
        int listen(Listener listener);
        void unlisten(int token);
        /// The primary is at `address` now; listeners hear of it when it differs from the last one.
        void announce(const Address& address);
        /// The address to connect to without asking the Sentinels, if one is known and trusted.
        std::optional<Address> trusted() const;
        /// `address` answered as a replica (READONLY) or refused us: ask the Sentinels next time.
        void distrust(const Address& address);
        /// Counts the announced changes (connections that have no event loop compare it).
        quint64 generation() const;

    private:
        mutable QMutex m_mutex;
        Address m_address;
        bool m_trusted = false;
        quint64 m_generation = 0;
        int m_nextToken = 0;
        std::map<int, Listener> m_listeners;
    };

    QString host = QStringLiteral("127.0.0.1");
    int port = 6379;
    QString user;
    QString password;
    int db = 0;
    QList<QPair<QString, int>> sentinels; // set: host/port are found through them
    QString masterName;
    std::shared_ptr<Primary> primary; // set with Sentinel

    [[nodiscard]] static Result<RedisEndpoint> parse(const QString& url);
    bool usesSentinel() const { return !sentinels.isEmpty(); }
    /// The primary to connect to now: host/port, or with Sentinel the answer of the first
    /// Sentinel that knows `masterName` (SENTINEL get-master-addr-by-name, each asked with
    /// `timeoutMs`), unless `primary` holds a trusted address (announced by `+switch-master` or
    /// answered before). Blocking when it asks; called when a connection is (re)established.
    /// Empty host: no Sentinel answered.
    Address resolve(int timeoutMs = 200) const;
    /// What a new connection sends before anything else: AUTH (when a password is set) and SELECT
    /// (when the database is not 0).
    QList<QList<QByteArray>> setupCommands() const;

private:
    [[nodiscard]] static Result<RedisEndpoint> parseSentinel(const QString& url);
};

} // namespace ehrs::server
