// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "wiring/SharedState.h"
#include "audit/AuditLog.h"
#include "auth/DeviceCredentialStore.h"
#include "account/PasswordChange.h"
#include "auth/UserStore.h"
#include "db/Database.h"
#include "db/PgPool.h"
#include "mfa/MfaService.h"
#include "ratelimit/RateLimiter.h"
#include "sessions/SessionService.h"
#include "workstation/WorkstationService.h"
#include "sessions/SessionQueries.h"
#include "sessions/SessionStore.h"

#include <memory>

namespace ehrs::server {

/// The services of one thread: its own database connection and Redis connection, and the
/// stores and session logic on top of them. Used by each HTTP worker and by the CLI.
class ServiceBundle
{
public:
    /// `requestPath`: also the asynchronous request path's PostgreSQL connections (an HTTP
    /// worker's event loop); without it, synchronous services only (the CLI, a pool thread).
    [[nodiscard]] static Result<std::unique_ptr<ServiceBundle>> create(SharedState& shared,
                                                                       bool requestPath = true);

    SharedState& shared;
    std::unique_ptr<Database> db;
    std::unique_ptr<RedisStore> redis; // null without REDIS_URL
    KeyValueStore& store;
    UserStore users;
    SessionStore sessions;
    DeviceCredentialStore devices;
    PolicyStore policies;
    SessionCache cache;
    AuditLog audit;
    /// The request path's connections (PostgreSQL only) and queries.
    std::unique_ptr<PgPool> pool;
    std::unique_ptr<SessionQueries> queries;
    RateLimiter limiter;
    SessionService service;
    MfaService mfa;
    PasswordChange passwords;
    WorkstationService workstation; // shared workstations: PIN, park, resume

private:
    ServiceBundle(SharedState& shared, std::unique_ptr<Database> db, std::unique_ptr<RedisStore> redis,
                  KeyValueStore& store, bool requestPath);
};

} // namespace ehrs::server
