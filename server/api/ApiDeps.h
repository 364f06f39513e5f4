// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "account/PasswordChange.h"
#include "auth/HashingPool.h"
#include "auth/PasswordHasher.h"
#include "auth/UserStore.h"
#include "cache/KeyValueStore.h"
#include "cache/RedisStore.h"
#include "cache/RevocationFeed.h"
#include "config/ServerConfig.h"
#include "db/Database.h"
#include "keys/KeyRing.h"
#include "metrics/MetricsRegistry.h"
#include "mfa/MfaService.h"
#include "sessions/SessionService.h"
#include "workstation/WorkstationService.h"

#include <atomic>
#include <functional>

namespace ehrs::server {

class ApiRoutes;
class EventStreams;

/// What the HTTP API of one worker thread uses, and nothing more. The wiring (server/wiring/)
/// fills it in from the process's shared state and the thread's services, so that api/ knows
/// the services it calls but not how they are assembled. The services keep ServiceBundle's names.
struct ApiDeps
{
    const ServerConfig& config;
    const Clock& clock;
    SessionService& service;
    MfaService& mfa;
    PasswordChange& passwords;
    UserStore& users;
    Database* db;
    RedisStore* redis; // null without REDIS_URL
    KeyValueStore& store;
    KeyRing& keyRing;
    const PasswordHasher& hasher;
    HashingPool& hashingPool;
    HashingPool& sqlPool; // synchronous SQL off the event loop (ApiRoutes::onPool())
    MetricsRegistry& metricsRegistry;
    std::atomic<double>& activeSessionsGauge; // live sessions in the database, for /metrics
    RevocationFeed* revocationFeed;           // null without Redis
    /// On an HTTP worker: the calling hashing-pool thread's own routes and services (its own
    /// database connection), created on first use, null if they cannot be; work that waits on
    /// synchronous SQL runs there (ApiRoutes::onPool()). Empty on those routes themselves.
    std::function<ApiRoutes*()> poolRoutes = {};
    /// On an HTTP worker: its account event streams (GET /api/sessions/events); null elsewhere.
    EventStreams* eventStreams = nullptr;
    /// Shared workstations (PIN switch-user); null: the /api/workstation routes answer 503.
    WorkstationService* workstation = nullptr;
};

} // namespace ehrs::server
