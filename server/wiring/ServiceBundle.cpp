// SPDX-License-Identifier: Apache-2.0
#include "ServiceBundle.h"

#include <functional>

namespace ehrs::server {
namespace {
std::unique_ptr<PgPool> makePool(const ServerConfig& config, const Database& db, bool requestPath)
{
    if (!db.isPostgres() || !requestPath)
        return nullptr;
    PgConnection::Options options;
    options.deadlineMs = config.databaseQueryTimeoutMs;
    options.applicationName = "ehr-sessions-worker";
    auto pool = std::make_unique<PgPool>(config.effectiveDatabaseUrl().toUtf8(), config.databasePoolSize, options);
    pool->start();
    return pool;
}
} // namespace

ServiceBundle::ServiceBundle(SharedState& s, std::unique_ptr<Database> database,
                             std::unique_ptr<RedisStore> redisStore, KeyValueStore& kv, bool requestPath)
    : shared(s), db(std::move(database)), redis(std::move(redisStore)), store(kv), users(*db), sessions(*db),
      devices(*db), policies(*db), cache(kv, s.pendingInvalidations(), s.liveSessions()),
      audit(*db,
            [hub = &s.events()](const QString& event, const AuditActor& actor, const nlohmann::json&) {
                if (SessionEvents::isAccountEvent(event))
                    hub->userChanged(actor.userId);
            }),
      pool(makePool(s.config(), *db, requestPath)),
      queries(pool ? std::unique_ptr<SessionQueries>(std::make_unique<PostgresSessionQueries>(*pool))
                   : std::make_unique<SqlSessionQueries>(*db, sessions, audit)),
      limiter(redis.get(), s.localRateCounts(), s.clock()),
      service(SessionService::Deps{s.config(), *db, users, sessions, cache, s.tokens(), s.hasher(), audit,
                                   s.clock(), s.liveSessions(), s.revocationFeed(), &limiter,
                                   &s.mfaChallenges(), &s.metrics(), &s.geo(), &devices, queries.get(),
                                   &policies}),
      mfa(MfaService::Deps{*db, users, service, kv, audit, s.clock(), s.mfaKeys(), s.mfaChallenges(),
                           &limiter, s.config()}),
      passwords(PasswordChange::Deps{users, service, mfa, audit, s.clock()}),
      workstation(WorkstationService::Deps{*db, sessions, cache, s.hasher(), audit, s.clock(), &limiter,
                                           s.config().accessTokenTtl})
{
}

Result<std::unique_ptr<ServiceBundle>> ServiceBundle::create(SharedState& shared, bool requestPath)
{
    auto db = Database::open(shared.config().effectiveDatabaseUrl());
    if (!db)
        return fail(db.error());
    // No blocking call waits on a database that stopped answering for longer than a request's
    // deadline: the pools' threads serve requests too.
    (*db)->setDeadline(&shared.queryWatchdog(), shared.config().databaseQueryTimeoutMs);
    std::unique_ptr<RedisStore> redis;
    KeyValueStore* kv = shared.memoryStore();
    if (auto endpoint = shared.redisEndpoint()) {
        redis = std::make_unique<RedisStore>(*endpoint, shared.redisHealth(), 250, shared.redisClientName());
        kv = redis.get();
    }
    return std::unique_ptr<ServiceBundle>(
        new ServiceBundle(shared, std::move(*db), std::move(redis), *kv, requestPath));
}

} // namespace ehrs::server
