// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <functional>
#include <optional>
#include <vector>

namespace ehrs::server {

/// The few cache operations the server needs, implemented by Redis (shared by instances) and by
/// an in-process map (single instance, no Redis configured). Every call is bounded in time; a
/// failure means "cache unavailable", never "no such key".
///
/// Each operation also has an asynchronous form for the request path: its answer goes to `done`
/// on the calling thread. Here they run the synchronous call and answer before returning (right
/// for the in-process map, and for threads without an event loop such as the CLI's); RedisStore
/// answers them from its thread's event loop once Redis replies, so a worker keeps serving while
/// they are in flight.
class KeyValueStore
{
public:
    template <typename T> using Done = std::function<void(Result<T>)>;
    using Values = std::vector<std::optional<QByteArray>>;

    struct Write
    {
        QByteArray key;
        QByteArray value;   // ignored for deletes
        int ttlSeconds = 0; // > 0: SET key value EX ttl; 0: DEL key
        bool publish = false; // PUBLISH key value (key is the channel); TTL ignored
    };

    virtual ~KeyValueStore() = default;
    [[nodiscard]] virtual Result<std::vector<std::optional<QByteArray>>> get(const QList<QByteArray>& keys) = 0;
    /// Applies writes in order (pipelined for Redis).
    [[nodiscard]] virtual Result<void> apply(const QList<Write>& writes) = 0;
    /// Rate-limit counting: increments `currentKey` (created with `ttlSeconds`) and reads
    /// `previousKey`; returns {current count, previous count}.
    [[nodiscard]] virtual Result<QPair<qint64, qint64>> incrementWindow(const QByteArray& currentKey,
                                                                        const QByteArray& previousKey, int ttlSeconds) = 0;
    /// True when every process serving this database sees the same store (Redis). A
    /// process-local store cannot know of revocations made by another process (the CLI, a second
    /// instance), so its positive entries must not be trusted.
    virtual bool isShared() const { return true; }

    virtual void getAsync(const QList<QByteArray>& keys, Done<Values> done) { done(get(keys)); }
    virtual void applyAsync(const QList<Write>& writes, Done<void> done) { done(apply(writes)); }
    virtual void incrementWindowAsync(const QByteArray& currentKey, const QByteArray& previousKey,
                                      int ttlSeconds, Done<QPair<qint64, qint64>> done)
    {
        done(incrementWindow(currentKey, previousKey, ttlSeconds));
    }
    /// "redis", "in-process" or "database-fallback" (Redis configured but unreachable).
    virtual QByteArray mode() const = 0;
};

} // namespace ehrs::server
