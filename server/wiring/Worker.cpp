// SPDX-License-Identifier: Apache-2.0
#include "Worker.h"

#include "LogHandler.h"
#include "Logging.h"

#include <QElapsedTimer>
#include <QThreadStorage>
#include <exception>

namespace ehrs::server {
namespace {
/// What the API uses of the process's shared state and of this thread's services.
ApiDeps apiDepsOf(ServiceBundle& s)
{
    SharedState& shared = s.shared;
    return ApiDeps{.config = shared.config(),
                   .clock = shared.clock(),
                   .service = s.service,
                   .mfa = s.mfa,
                   .passwords = s.passwords,
                   .users = s.users,
                   .db = s.db.get(),
                   .redis = s.redis.get(),
                   .store = s.store,
                   .keyRing = shared.keyRing(),
                   .hasher = shared.hasher(),
                   .hashingPool = shared.hashingPool(),
                   .sqlPool = shared.sqlPool(),
                   .metricsRegistry = shared.metricsRegistry(),
                   .activeSessionsGauge = shared.activeSessionsGauge(),
                   .revocationFeed = shared.revocationFeed(),
                   .workstation = &s.workstation};
}

/// The routes and services of one pool thread (ApiDeps::poolRoutes): synchronous ones, on the
/// thread's own database connection. QThreadStorage deletes them in the thread itself as it
/// finishes, before the pool's destructor has joined it (a thread_local would be destroyed only
/// after that, possibly after exit() has torn Qt SQL's globals down).
struct PoolThreadApi
{
    SharedState* owner = nullptr;
    std::unique_ptr<ServiceBundle> services;
    std::unique_ptr<ApiRoutes> api;
};
QThreadStorage<PoolThreadApi*> s_poolApi;

PoolThreadApi* poolThreadApiFor(SharedState& shared)
{
    if (s_poolApi.hasLocalData() && s_poolApi.localData() && s_poolApi.localData()->owner == &shared)
        return s_poolApi.localData();
    s_poolApi.setLocalData(nullptr); // deletes what another server of this process left here
    auto services = ServiceBundle::create(shared, /*requestPath=*/false);
    if (!services) {
        qCWarning(lcHttp) << "a pool thread cannot open its database connection:" << services.error().message;
        return nullptr;
    }
    auto* state = new PoolThreadApi;
    state->owner = &shared;
    state->services = std::move(*services);
    state->api = std::make_unique<ApiRoutes>(apiDepsOf(*state->services));
    s_poolApi.setLocalData(state);
    return state;
}

ApiRoutes* poolRoutesFor(SharedState& shared)
{
    PoolThreadApi* state = poolThreadApiFor(shared);
    return state ? state->api.get() : nullptr;
}
} // namespace

Worker::Worker(SharedState& shared, qintptr listenSocket, HttpLimits limits,
               std::shared_ptr<ClientConnectionCounter> connections)
    : m_shared(shared), m_socket(listenSocket), m_limits(limits), m_connections(std::move(connections))
{
}

Worker::~Worker() = default;

QString Worker::start()
{
    auto services = ServiceBundle::create(m_shared);
    if (!services)
        return services.error().message;
    m_services = std::move(*services);
    // The request path's Redis commands go out on this thread's event loop (see RedisStore).
    if (m_services->redis)
        m_services->redis->startAsync();
    ApiDeps deps = apiDepsOf(*m_services);
    deps.poolRoutes = [shared = &m_shared] { return poolRoutesFor(*shared); };
    m_events = std::make_unique<EventStreams>(m_services->service, *m_services->queries, m_shared.events(),
                                              m_shared.clock(), EventStreams::Options{});
    deps.eventStreams = m_events.get();
    m_api = std::make_unique<ApiRoutes>(deps);
    m_api->registerAll(m_router);
    m_listener = std::make_unique<HttpListener>(
        m_limits, [this](HttpRequest& r, HttpResponder responder) { handle(r, std::move(responder)); },
        m_shared.tls(), m_connections);
    if (auto r = m_listener->listen(m_socket); !r)
        return r.error().message;
    // Invalidations an outage kept from Redis go out as soon as it answers, even when this worker
    // has no requests to carry them (other instances trust Redis's positive entries until then).
    m_replayTimer.setInterval(kReplayIntervalMs);
    connect(&m_replayTimer, &QTimer::timeout, this, [this] { m_services->cache.replayPending(); });
    m_replayTimer.start();
    return {};
}

void Worker::shutdown()
{
    m_replayTimer.stop();
    m_listener.reset();
    m_api.reset();
    m_events.reset();
    m_services.reset();
}

void Worker::runCleanup()
{
    if (!m_services)
        return;
    // Its SQL is synchronous: on the SQL pool, with that thread's services, not on this loop.
    auto queued = m_shared.sqlPool().run<Result<int>>(
        this,
        [shared = &m_shared]() -> Result<int> {
            PoolThreadApi* state = poolThreadApiFor(*shared);
            if (!state)
                return fail(ErrorCode::Unavailable, QStringLiteral("no database connection"));
            return state->services->service.cleanup(
                AuditActor{{}, {}, QStringLiteral("system"), QStringLiteral("cleanup-job")});
        },
        [](Result<int> n) {
            if (n)
                qCInfo(lcSessions) << "cleanup deleted" << *n << "old sessions";
            else
                qCWarning(lcSessions) << "cleanup failed:" << n.error().message;
        });
    if (!queued)
        qCWarning(lcSessions) << "cleanup skipped:" << queued.error().message;
}

HttpResponse Worker::corsPreflight(bool allowed) const
{
    if (!allowed) // no CORS headers: the browser refuses the real request
        return HttpResponse::error(
            Error{ErrorCode::Forbidden, QStringLiteral("This origin may not call the API")});
    HttpResponse r;
    r.status = 204;
    r.setHeader("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
    r.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id");
    r.setHeader("Access-Control-Max-Age", "600");
    return r;
}

void Worker::handle(HttpRequest& request, HttpResponder responder)
{
    RequestScope scope(request.requestId);
    QElapsedTimer timer;
    timer.start();
    const QByteArray origin = request.header("origin");
    const bool corsAllowed =
        !origin.isEmpty() && m_shared.config().corsOrigins.contains(QString::fromLatin1(origin));
    // What the answer needs once it is ready, which may be after this function has returned.
    auto done = [this, responder, origin, corsAllowed, timer, id = request.requestId, method = request.method,
                 route = m_router.patternFor(request)](HttpResponse response) {
        RequestScope answerScope(id);
        if (corsAllowed) {
            response.setHeader("Access-Control-Allow-Origin", origin);
            response.setHeader("Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
        }
        if (!origin.isEmpty())
            response.setHeader("Vary", "Origin");
        if (!response.hasHeader("Cache-Control")) // tokens and personal data are never cached
            response.setHeader("Cache-Control", "no-store");
        response.setHeader("Pragma", "no-cache");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
        response.setHeader("Referrer-Policy", "no-referrer");
        // The path only: query strings are never logged (they could carry secrets by mistake).
        m_shared.metrics().observeRequest(route, method, response.status, double(timer.nsecsElapsed()) / 1e9);
        qCDebug(lcHttp).noquote() << method << route << response.status << timer.nsecsElapsed() / 1000
                                  << "us";
        responder.send(std::move(response));
    };
    try {
        if (request.method == "OPTIONS" && !origin.isEmpty() &&
            !request.header("access-control-request-method").isEmpty())
            done(corsPreflight(corsAllowed));
        else
            m_router.dispatch(request, done);
    } catch (const std::exception& e) {
        // A bug, not bad input: keep serving, log it, never show details to the client. (An
        // answer already sent for this request makes this one a no-op.)
        qCCritical(lcHttp) << "unhandled exception for" << request.method << request.path << ":" << e.what();
        done(HttpResponse::error(Error{ErrorCode::Internal, QStringLiteral("Internal error")}));
    }
}

} // namespace ehrs::server
