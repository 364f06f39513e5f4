// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "auth/HashingPool.h"
#include "auth/MfaChallengeCodec.h"
#include "auth/PasswordHasher.h"
#include "cache/MemoryStore.h"
#include "cache/RedisStore.h"
#include "cache/RevocationFeed.h"
#include "cache/SessionCache.h"
#include "config/ServerConfig.h"
#include "db/QueryWatchdog.h"
#include "geo/GeoLocator.h"
#include "keys/KeyHierarchy.h"
#include "metrics/HttpMetrics.h"
#include "metrics/MetricsRegistry.h"
#include "sessions/EventHub.h"
#include "sessions/TokenService.h"

#include <QSslConfiguration>
#include <atomic>
#include <memory>
#include <optional>

namespace ehrs::server {

/// What every thread of one server process shares: configuration, keys, the password hasher,
/// the in-process cache (when there is no Redis) and health flags. Immutable after creation
/// except for the members that are thread-safe by themselves.
class SharedState
{
public:
    /// Loads or creates key material (the embedded default keeps a generated secret in the data dir).
    [[nodiscard]] static Result<std::unique_ptr<SharedState>> create(ServerConfig config,
                                                                     std::shared_ptr<const Clock> clock = nullptr);

    const ServerConfig& config() const { return m_config; }
    const Clock& clock() const { return *m_clock; }
    const TokenService& tokens() const { return *m_tokens; }
    KeyRing& keyRing() { return *m_keyRing; }
    const GeoLocator& geo() const { return *m_geo; }
    /// The TLS configuration of the listeners, when TLS_CERT_FILE/TLS_KEY_FILE are set.
    const std::optional<QSslConfiguration>& tls() const { return m_tls; }
    const PasswordHasher& hasher() const { return m_hasher; }
    /// Threads for password checks, so that no HTTP worker's event loop runs argon2id.
    HashingPool& hashingPool() { return m_hashingPool; }
    /// Threads for requests whose SQL is still synchronous (rename, /api/auth/me, admin routes,
    /// readiness): off the event loops, and not queued behind sign-ins' argon2id.
    HashingPool& sqlPool() { return m_sqlPool; }
    /// Cuts off the pools' blocking SQL calls at DATABASE_QUERY_TIMEOUT_MS (Database::setDeadline).
    QueryWatchdog& queryWatchdog() { return m_queryWatchdog; }
    PendingInvalidations& pendingInvalidations() { return m_pending; }
    RedisHealth& redisHealth() { return m_redisHealth; }
    /// The shared in-process store, or nullptr when Redis is configured.
    MemoryStore* memoryStore() { return m_memory.get(); }
    std::optional<RedisEndpoint> redisEndpoint() const { return m_redis; }
    /// The name this instance's Redis connections carry in CLIENT LIST ("ehrs-<pid>-<n>").
    QByteArray redisClientName() const { return m_redisClientName; }
    /// With Redis: the table of validated sessions and the feed that keeps it current.
    LiveSessionTable* liveSessions() { return m_feed ? &m_live : nullptr; }
    RevocationFeed* revocationFeed() { return m_feed.get(); }
    /// Listeners of the account event stream (GET /api/sessions/events) in this process.
    EventHub& events() { return m_events; }
    /// Rate-limit counts of this process: used without Redis and while Redis is down.
    KeyValueStore& localRateCounts() { return *m_localRates; }
    /// One key per secret purpose, each derived from the root secret (JWT_SECRET).
    const KeyHierarchy& keys() const { return m_keys; }
    const MfaKeys& mfaKeys() const { return m_mfaKeys; }
    const MfaChallengeCodec& mfaChallenges() const { return *m_mfaChallenges; }
    MetricsRegistry& metricsRegistry() { return m_registry; }
    HttpMetrics& metrics() { return *m_metrics; }
    /// Live sessions in the database, refreshed by /metrics at most every 30 s.
    std::atomic<double>& activeSessionsGauge() { return m_activeSessions; }

private:
    static constexpr int kSqlPoolThreads = 2;
    static constexpr int kSqlPoolQueue = 256;
    SharedState(ServerConfig config, std::shared_ptr<const Clock> clock);

    ServerConfig m_config;
    std::shared_ptr<const Clock> m_clock;
    KeyHierarchy m_keys;
    std::unique_ptr<KeyRing> m_keyRing;
    std::unique_ptr<GeoLocator> m_geo;
    std::optional<QSslConfiguration> m_tls;
    std::unique_ptr<TokenService> m_tokens;
    PasswordHasher m_hasher;
    PendingInvalidations m_pending;
    RedisHealth m_redisHealth;
    std::unique_ptr<MemoryStore> m_memory;
    std::optional<RedisEndpoint> m_redis;
    QByteArray m_redisClientName;
    LiveSessionTable m_live;
    std::unique_ptr<MemoryStore> m_localRates;
    MfaKeys m_mfaKeys;
    std::unique_ptr<MfaChallengeCodec> m_mfaChallenges;
    MetricsRegistry m_registry;
    std::unique_ptr<HttpMetrics> m_metrics;
    std::atomic<double> m_activeSessions{0};
    EventHub m_events; // before the feed, which calls it
    std::unique_ptr<RevocationFeed> m_feed;
    QueryWatchdog m_queryWatchdog; // outlives the pools' connections below
    // Last, so destroyed first: its threads' own services (see ServiceBundle::forPoolThread())
    // end with them and still find everything above.
    HashingPool m_hashingPool;
    HashingPool m_sqlPool;
};

} // namespace ehrs::server
