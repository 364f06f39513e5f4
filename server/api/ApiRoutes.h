// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "api/ApiDeps.h"
#include "http/Router.h"

#include <QObject>

namespace ehrs::server {

/// Registers the HTTP API (docs/api.md) on a router, bound to one thread's services. Each
/// handler is a request -> response function; identity comes only from a verified access token.
class ApiRoutes
{
public:
    /// Constructed in the worker's thread: continuations of asynchronous handlers run there.
    explicit ApiRoutes(ApiDeps deps) : m_s(deps) {}
    void registerAll(Router& router);

    /// Client address: the socket peer, or the last untrusted hop of the forwarding chain
    /// (TRUSTED_PROXY_HEADER, all its lines) when the peer is a configured trusted proxy.
    static QString clientAddress(const HttpRequest& request, const ServerConfig& config);

private:
    /// Runs on a pool thread's routes (`api`), not on the worker's: see onPool().
    using AuthedHandler = std::function<HttpResponse(ApiRoutes& api, const HttpRequest&, const RouteParams&,
                                                     const AuthContext&)>;
    using PoolRoute = std::function<void(ApiRoutes& api, const HttpRequest&, Router::Respond)>;
    using AsyncAuthedHandler =
        std::function<void(const HttpRequest&, const RouteParams&, const AuthContext&, Router::Respond)>;
    /// Authenticates the request, then runs the handler: at once when this process or Redis
    /// knows the token, after a database read otherwise (the worker serves others meanwhile).
    Router::AsyncHandler authedAsync(AsyncAuthedHandler handler);
    /// authedAsync(), then `handler` on the hashing pool (onPool()): its SQL is synchronous.
    Router::AsyncHandler authed(AuthedHandler handler);
    Router::AsyncHandler adminOnly(AuthedHandler handler);
    /// authedAsync(), then `route` of a pool thread's routes (onPool()).
    Router::AsyncHandler pooledAuthed(void (ApiRoutes::*route)(const HttpRequest&, const AuthContext&,
                                                               Router::Respond));
    /// Runs `route` on a hashing-pool thread, with that thread's own routes and services, and
    /// answers on this worker: routes whose SQL is synchronous (sign-in, MFA, re-authentication,
    /// rename, the admin routes, readiness) never hold up the worker's event loop, also while
    /// the database hangs. On a pool thread's routes (no ApiDeps::poolRoutes), `route` runs here
    /// and must answer before returning. 503 + Retry-After at once when the pool's queue is full.
    /// `hashing`: the route checks or hashes passwords (the hashing pool); otherwise the SQL pool.
    void onPool(const HttpRequest& request, Router::Respond respond, PoolRoute route, bool hashing = false);
    /// Runs `work` (argon2id) on the hashing pool, then answers with `finish(result)` on this
    /// worker under the request's id; 503 + Retry-After at once when the pool's queue is full.
    /// On a pool thread's routes, both run here at once.
    template <typename T>
    void offload(const HttpRequest& request, Router::Respond respond, std::function<T()> work,
                 std::function<HttpResponse(T)> finish, HashingPool* pool = nullptr);
    /// A re-authentication's password check on the hashing pool (offload()), then `finish`
    /// with its outcome on this worker; `begun`'s error is answered at once.
    void checkPasswordThen(const HttpRequest& request, Router::Respond respond, Result<ReauthAttempt> begun,
                           std::function<HttpResponse(const ReauthAttempt&, bool passwordOk)> finish);
    RequestInfo infoOf(const HttpRequest& request) const;

    void login(const HttpRequest& request, Router::Respond respond);
    void refresh(const HttpRequest& request, Router::Respond respond);
    /// Shared workstations (server/workstation/): PUT /api/workstation/pin, POST
    /// /api/workstation/park, POST /api/workstation/resume.
    HttpResponse setWorkstationPin(const HttpRequest& request, const AuthContext& who);
    HttpResponse parkWorkstationSession(const HttpRequest& request, const AuthContext& who);
    void resumeWorkstationSession(const HttpRequest& request, Router::Respond respond);
    void logout(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    void listSessions(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    void renameSession(const HttpRequest& request, const QString& id, const AuthContext& who,
                       Router::Respond respond);
    void revokeSession(const HttpRequest& request, const QString& id, const AuthContext& who, Router::Respond respond);
    void revokeOthers(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    HttpResponse cleanup(const HttpRequest& request, const AuthContext& who);
    HttpResponse adminRevokeUser(const HttpRequest& request, const QString& userId, const AuthContext& who);
    HttpResponse ready();
    HttpResponse verifyMfa(const HttpRequest& request);
    void mfaSetup(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    HttpResponse mfaEnable(const HttpRequest& request, const AuthContext& who);
    void mfaDisable(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    void newBackupCodes(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    HttpResponse activity(const HttpRequest& request, const AuthContext& who);
    void changePassword(const HttpRequest& request, const AuthContext& who, Router::Respond respond);
    HttpResponse me(const AuthContext& who);
    HttpResponse metrics(const HttpRequest& request);
    void introspect(const HttpRequest& request, Router::Respond respond);
    /// The RFC 7662 client behind HTTP Basic credentials, or empty.
    QString introspectionClient(const HttpRequest& request) const;

    ApiDeps m_s;
    QObject m_context; // asynchronous work delivers its results here; dropped with the routes
};

} // namespace ehrs::server
