// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace ehrs::server {

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

} // namespace ehrs::server
