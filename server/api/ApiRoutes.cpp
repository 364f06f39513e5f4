// SPDX-License-Identifier: Apache-2.0
#include "ApiRoutes.h"

#include "Crypto.h"
#include "ForwardedChain.h"
#include "LogHandler.h"
#include "SessionListJson.h"
#include "account/AccountActivity.h"
#include "ForwardedChain.h"
#include "api/EventStreams.h"

#include <QDateTime>
#include <QFile>
#include <atomic>
#include <nlohmann/json.hpp>

static void initApiResources()
{
    Q_INIT_RESOURCE(api);
}

namespace ehrs::server {
namespace {
/// The body of a request that may have none (the re-authenticating routes): empty reads as {}.
auto optionalBody(const HttpRequest& request)
{
    return json::parseObject(request.body.isEmpty() ? QByteArrayView("{}") : QByteArrayView(request.body));
}

HttpResponse tokenResponse(const nlohmann::json& body)
{
    return HttpResponse::json(200, body);
}

/// A sign-in's or refresh's tokens with the session's policy (`policy`, SessionPolicy::toJson()).
HttpResponse tokenResponse(const AuthTokens& tokens, nlohmann::json policy)
{
    nlohmann::json body = tokens;
    body["policy"] = std::move(policy);
    return HttpResponse::json(200, body);
}

template <typename T>
HttpResponse errorOf(const Result<T>& r)
{
    return HttpResponse::error(r.error());
}

/// A workstation refusal: the ErrorCode's name, or the workstation route's own (`name`).
HttpResponse workstationError(const Error& e, const char* name)
{
    if (!name)
        return HttpResponse::error(e);
    nlohmann::json body{{"error", name}, {"message", e.message.toStdString()}};
    if (e.attemptsLeft >= 0)
        body["attemptsLeft"] = e.attemptsLeft;
    return HttpResponse::json(std::string_view(name) == WorkstationService::kInvalidPin ? 401 : 403, body);
}

HttpResponse refreshError(const Error& e)
{
    if (e.code == ErrorCode::Forbidden && e.message == QLatin1String(SessionService::kSessionParkedMessage))
        return workstationError(e, WorkstationService::kSessionParked);
    return HttpResponse::error(e);
}

/// The password and code of a re-authenticating request (turning two-step off, new backup codes).
/// Missing fields read as empty: they are refused like wrong ones (403) by the re-authentication.
struct PasswordAndCode
{
    QString password;
    QString code;
};
Result<PasswordAndCode> passwordAndCodeOf(const HttpRequest& request)
{
    auto body = optionalBody(request);
    if (!body)
        return fail(body.error());
    auto password = json::optionalString(*body, "password", 1024);
    if (!password)
        return fail(password.error());
    auto code = json::optionalString(*body, "code", 64);
    if (!code)
        return fail(code.error());
    return PasswordAndCode{*password, code->trimmed()};
}

HttpResponse backupCodesResponse(const QStringList& codes)
{
    nlohmann::json list = nlohmann::json::array();
    for (const QString& c : codes)
        list.push_back(c.toStdString());
    return HttpResponse::json(200, {{"success", true}, {"backupCodes", list}});
}
} // namespace

QString ApiRoutes::clientAddress(const HttpRequest& request, const ServerConfig& config)
{
    return resolveClientAddress(request, config.trustedProxies, config.forwardedHeader).toString();
}

RequestInfo ApiRoutes::infoOf(const HttpRequest& request) const
{
    return RequestInfo{clientAddress(request, m_s.config),
                       QString::fromUtf8(request.header("user-agent").left(512))};
}

Router::AsyncHandler ApiRoutes::authedAsync(AsyncAuthedHandler handler)
{
    return [this, handler = std::move(handler)](const HttpRequest& request, const RouteParams& params,
                                                Router::Respond respond) {
        AuthContext parsed;
        if (auto now = m_s.service.authenticateCached(request.header("authorization"), &parsed)) {
            if (!*now)
                return respond(HttpResponse::error(now->error()));
            return handler(request, params, **now, std::move(respond));
        }
        // Redis or the database decides; the request outlives this call, so it is kept until then.
        auto saved = std::make_shared<const std::pair<HttpRequest, RouteParams>>(request, params);
        m_s.service.authenticateShared(
            parsed, [handler, saved, respond = std::move(respond)](Result<AuthContext> who) mutable {
                RequestScope scope(saved->first.requestId);
                if (!who)
                    return respond(HttpResponse::error(who.error()));
                handler(saved->first, saved->second, *who, std::move(respond));
            });
    };
}

Router::AsyncHandler ApiRoutes::authed(AuthedHandler handler)
{
    return authedAsync([this, handler = std::move(handler)](const HttpRequest& request,
                                                            const RouteParams& params, const AuthContext& who,
                                                            Router::Respond respond) {
        onPool(request, std::move(respond),
               [handler, params, who](ApiRoutes& api, const HttpRequest& r, Router::Respond answer) {
                   answer(handler(api, r, params, who));
               });
    });
}

Router::AsyncHandler ApiRoutes::adminOnly(AuthedHandler handler)
{
    return authed([handler = std::move(handler)](ApiRoutes& api, const HttpRequest& request,
                                                 const RouteParams& params, const AuthContext& who) {
        auto admin = api.m_s.service.isAdmin(who);
        if (!admin)
            return HttpResponse::error(admin.error());
        if (!*admin)
            return HttpResponse::error(Error{ErrorCode::Forbidden, QStringLiteral("Administrators only")});
        return handler(api, request, params, who);
    });
}

Router::AsyncHandler ApiRoutes::pooledAuthed(void (ApiRoutes::*route)(const HttpRequest&, const AuthContext&,
                                                                      Router::Respond))
{
    return authedAsync([this, route](const HttpRequest& request, const RouteParams&, const AuthContext& who,
                                     Router::Respond respond) {
        onPool(
            request, std::move(respond),
            [route, who](ApiRoutes& api, const HttpRequest& r, Router::Respond answer) {
                (api.*route)(r, who, std::move(answer));
            },
            /*hashing=*/true);
    });
}

void ApiRoutes::onPool(const HttpRequest& request, Router::Respond respond, PoolRoute route, bool hashing)
{
    if (!m_s.poolRoutes)
        return route(*this, request, std::move(respond));
    offload<HttpResponse>(
        request, std::move(respond),
        [pool = m_s.poolRoutes, route = std::move(route), request] {
            RequestScope scope(request.requestId);
            ApiRoutes* api = pool();
            if (!api)
                return HttpResponse::error(Error{
                    ErrorCode::Unavailable, QStringLiteral("Database unavailable, try again shortly"), 2});
            std::optional<HttpResponse> out;
            route(*api, request, [&out](HttpResponse r) { out = std::move(r); });
            if (!out) // a bug: every route answers before returning on a pool thread
                return HttpResponse::error(Error{ErrorCode::Internal, QStringLiteral("Internal error")});
            return std::move(*out);
        },
        [](HttpResponse response) { return response; }, hashing ? &m_s.hashingPool : &m_s.sqlPool);
}

template <typename T>
void ApiRoutes::offload(const HttpRequest& request, Router::Respond respond, std::function<T()> work,
                        std::function<HttpResponse(T)> finish, HashingPool* pool)
{
    if (!m_s.poolRoutes) // already on a pool thread (onPool())
        return respond(finish(work()));
    auto queued = (pool ? *pool : m_s.hashingPool)
                      .run<T>(&m_context, std::move(work),
                              [respond, finish = std::move(finish), id = request.requestId](T value) {
                                  RequestScope scope(id);
                                  respond(finish(std::move(value)));
                              });
    if (!queued)
        respond(errorOf(queued));
}

void ApiRoutes::checkPasswordThen(const HttpRequest& request, Router::Respond respond, Result<ReauthAttempt> begun,
                                  std::function<HttpResponse(const ReauthAttempt&, bool)> finish)
{
    if (!begun)
        return respond(errorOf(begun));
    auto attempt = std::make_shared<const ReauthAttempt>(std::move(*begun));
    const PasswordHasher& hasher = m_s.hasher;
    offload<bool>(
        request, std::move(respond), [attempt, &hasher] { return attempt->checkPassword(hasher); },
        [attempt, finish = std::move(finish)](bool passwordOk) { return finish(*attempt, passwordOk); });
}

void ApiRoutes::registerAll(Router& router)
{
    // Sign-in, MFA and re-authentication run on the hashing pool as a whole (onPool()): argon2id
    // and their synchronous SQL.
    router.addAsync("POST", "/api/auth/login",
                    [this](const HttpRequest& r, const RouteParams&, Router::Respond respond) {
                        onPool(
                            r, std::move(respond),
                            [](ApiRoutes& api, const HttpRequest& req, Router::Respond answer) {
                                api.login(req, std::move(answer));
                            },
                            /*hashing=*/true);
                    });
    router.addAsync("POST", "/api/auth/verify-mfa",
                    [this](const HttpRequest& r, const RouteParams&, Router::Respond respond) {
                        onPool(
                            r, std::move(respond),
                            [](ApiRoutes& api, const HttpRequest& req, Router::Respond answer) {
                                answer(api.verifyMfa(req));
                            },
                            /*hashing=*/true);
                    });
    // The routes that check the password again: argon2id on the hashing pool (offload()).
    router.addAsync("POST", "/api/auth/mfa/setup", pooledAuthed(&ApiRoutes::mfaSetup));
    router.addAsync("POST", "/api/auth/mfa/enable",
                    authed([](ApiRoutes& api, const HttpRequest& r, const RouteParams&,
                              const AuthContext& w) { return api.mfaEnable(r, w); }));
    router.addAsync("POST", "/api/auth/mfa/disable", pooledAuthed(&ApiRoutes::mfaDisable));
    router.addAsync("POST", "/api/auth/mfa/backup-codes", pooledAuthed(&ApiRoutes::newBackupCodes));
    router.addAsync("GET", "/api/account/activity",
                    authed([](ApiRoutes& api, const HttpRequest& r, const RouteParams&,
                              const AuthContext& w) { return api.activity(r, w); }));
    router.addAsync("POST", "/api/auth/password", pooledAuthed(&ApiRoutes::changePassword));
    router.addAsync("GET", "/api/auth/me",
                    authed([](ApiRoutes& api, const HttpRequest&, const RouteParams&, const AuthContext& w) {
                        return api.me(w);
                    }));
    router.addAsync("POST", "/api/auth/logout",
                    authedAsync([this](const HttpRequest& r, const RouteParams&, const AuthContext& w,
                                       Router::Respond respond) { logout(r, w, std::move(respond)); }));
    router.addAsync("POST", "/api/sessions/refresh", [this](const HttpRequest& r, const RouteParams&, Router::Respond respond) {
        refresh(r, std::move(respond));
    });
    // Shared workstations: argon2id (PIN) on the hashing pool.
    router.addAsync("PUT", "/api/workstation/pin",
                    authedAsync([this](const HttpRequest& r, const RouteParams&, const AuthContext& w,
                                       Router::Respond respond) {
                        onPool(
                            r, std::move(respond),
                            [w](ApiRoutes& api, const HttpRequest& req, Router::Respond answer) {
                                answer(api.setWorkstationPin(req, w));
                            },
                            /*hashing=*/true);
                    }));
    router.addAsync("POST", "/api/workstation/park",
                    authed([](ApiRoutes& api, const HttpRequest& r, const RouteParams&, const AuthContext& w) {
                        return api.parkWorkstationSession(r, w);
                    }));
    router.addAsync("POST", "/api/workstation/resume",
                    [this](const HttpRequest& r, const RouteParams&, Router::Respond respond) {
                        resumeWorkstationSession(r, std::move(respond));
                    });
    router.addAsync("GET", "/api/sessions/events",
                    authedAsync([this](const HttpRequest& r, const RouteParams&, const AuthContext& w,
                                       Router::Respond respond) {
                        if (!m_s.eventStreams)
                            return respond(HttpResponse::error(
                                Error{ErrorCode::Unavailable, QStringLiteral("No event streams here"), 5}));
                        m_s.eventStreams->open(r, w, std::move(respond));
                    }));
    router.addAsync("GET", "/api/sessions",
                    authedAsync([this](const HttpRequest& r, const RouteParams&, const AuthContext& w,
                                       Router::Respond respond) { listSessions(r, w, std::move(respond)); }));
    router.addAsync("DELETE", "/api/sessions", pooledAuthed(&ApiRoutes::revokeOthers));
    router.addAsync("POST", "/api/sessions/cleanup",
                    adminOnly([](ApiRoutes& api, const HttpRequest& r, const RouteParams&,
                                 const AuthContext& w) { return api.cleanup(r, w); }));
    router.addAsync("PATCH", "/api/sessions/:id",
                    authedAsync([this](const HttpRequest& r, const RouteParams& p, const AuthContext& w,
                                       Router::Respond respond) {
                        renameSession(r, QString::fromLatin1(p.value("id")), w, std::move(respond));
                    }));
    router.addAsync("DELETE", "/api/sessions/:id",
                    authedAsync([this](const HttpRequest& r, const RouteParams& p, const AuthContext& w,
                                       Router::Respond respond) {
                        revokeSession(r, QString::fromLatin1(p.value("id")), w, std::move(respond));
                    }));
    router.addAsync(
        "DELETE", "/api/admin/users/:id/sessions",
        adminOnly([](ApiRoutes& api, const HttpRequest& r, const RouteParams& p, const AuthContext& w) {
            return api.adminRevokeUser(r, QString::fromLatin1(p.value("id")), w);
        }));
    // Remembered devices (issue 18): synchronous SQL on the pool.
    router.addAsync(
        "GET", "/api/account/devices",
        authed([](ApiRoutes& api, const HttpRequest&, const RouteParams&, const AuthContext& w) {
            auto devices = api.m_s.service.rememberedDevices(w);
            if (!devices)
                return errorOf(devices);
            nlohmann::json list = nlohmann::json::array();
            auto iso = [](qint64 ms) {
                return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toStdString();
            };
            for (const RememberedDevice& d : *devices)
                list.push_back({{"id", d.id.toStdString()},
                                {"label", d.label.toStdString()},
                                {"rememberedAt", iso(d.rememberedAt)},
                                {"rememberedUntil", iso(d.rememberedUntil)},
                                {"lastUsedAt", iso(d.lastUsedAt)},
                                {"ipAddress", d.ipAddress.toStdString()},
                                {"location", d.place.toStdString()}});
            return HttpResponse::json(200, {{"success", true}, {"devices", list}, {"total", list.size()}});
        }));
    router.addAsync(
        "DELETE", "/api/account/devices/:id",
        authed([](ApiRoutes& api, const HttpRequest& r, const RouteParams& p, const AuthContext& w) {
            auto forgotten =
                api.m_s.service.forgetDevice(w, QString::fromLatin1(p.value("id")), api.infoOf(r));
            if (!forgotten)
                return errorOf(forgotten);
            return HttpResponse::json(200, {{"success", true}, {"message", "Device forgotten"}});
        }));
    router.add("GET", "/healthz", [](const HttpRequest&, const RouteParams&) {
        return HttpResponse::json(200, {{"status", "ok"}});
    });
    router.addAsync(
        "GET", "/readyz", [this](const HttpRequest& r, const RouteParams&, Router::Respond respond) {
            onPool(r, std::move(respond),
                   [](ApiRoutes& api, const HttpRequest&, Router::Respond answer) { answer(api.ready()); });
        });
    router.add("GET", "/.well-known/jwks.json", [this](const HttpRequest&, const RouteParams&) {
        HttpResponse r = HttpResponse::text(200, m_s.keyRing.jwks(), "application/json");
        r.setHeader("Cache-Control", "public, max-age=60");
        return r;
    });
    router.addAsync("POST", "/api/sessions/introspect",
                    [this](const HttpRequest& r, const RouteParams&, Router::Respond respond) {
                        introspect(r, std::move(respond));
                    });
    router.add("GET", "/api/openapi.json", [](const HttpRequest&, const RouteParams&) {
        // docs/openapi.yaml is written in YAML's JSON subset, so it is served as it is.
        static const QByteArray spec = [] {
            initApiResources();
            QFile f(QStringLiteral(":/api/openapi.json"));
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        HttpResponse r = HttpResponse::text(200, spec, "application/json");
        r.setHeader("Cache-Control", "public, max-age=3600");
        return r;
    });
    router.add("GET", "/metrics", [this](const HttpRequest& r, const RouteParams&) { return metrics(r); });
}

void ApiRoutes::login(const HttpRequest& request, Router::Respond respond)
{
    auto body = json::parseObject(request.body);
    if (!body)
        return respond(errorOf(body));
    auto login = loginRequestFromJson(*body);
    if (!login)
        return respond(errorOf(login));
    // The device class the client claims (docs/workstation-policy.md): checked here, pinned
    // networks applied when the session starts.
    auto deviceClass = json::optionalString(*body, "deviceClass", 32);
    if (!deviceClass)
        return respond(errorOf(deviceClass));
    if (!deviceClass->isEmpty() && !deviceclass::isKnown(*deviceClass))
        return respond(HttpResponse::error(
            Error{ErrorCode::InvalidRequest,
                  QStringLiteral("deviceClass must be \"personal\" or \"shared_workstation\"")}));
    auto begun = m_s.service.beginLogin(*login, infoOf(request));
    if (begun)
        begun->deviceClass = *deviceClass;
    if (!begun) {
        // Sign-in paused: what IT says to do (LOCKOUT_HELP_TEXT), whatever the email.
        Error e = begun.error();
        if (e.code == ErrorCode::RateLimited)
            e.helpText = m_s.config.lockoutHelpText;
        return respond(HttpResponse::error(e));
    }
    // argon2id on a hashing thread; this worker serves other requests meanwhile and finishes the
    // sign-in when the check is done (in its own thread, under this request's id).
    auto attempt = std::make_shared<const LoginAttempt>(std::move(*begun));
    const PasswordHasher& hasher = m_s.hasher;
    offload<bool>(
        request, std::move(respond), [attempt, &hasher] { return attempt->checkPassword(hasher); },
        [this, attempt](bool passwordOk) {
            auto result = m_s.service.finishLogin(*attempt, passwordOk);
            if (!result)
                return errorOf(result);
            if (const auto* tokens = std::get_if<AuthTokens>(&*result)) {
                auto policy = m_s.service.sessionPolicy(tokens->sessionId);
                if (!policy)
                    return errorOf(policy);
                return tokenResponse(*tokens, *policy);
            }
            return tokenResponse(std::get<MfaChallenge>(*result));
        });
}

void ApiRoutes::refresh(const HttpRequest& request, Router::Respond respond)
{
    auto body = json::parseObject(request.body);
    if (!body)
        return respond(errorOf(body));
    auto token = json::requiredString(*body, "refreshToken", 256);
    if (!token)
        return respond(errorOf(token));
    auto policy = std::make_shared<nlohmann::json>();
    m_s.service.refresh(
        token->toLatin1(), infoOf(request),
        [respond = std::move(respond), id = request.requestId, policy](Result<AuthTokens> tokens) {
            RequestScope scope(id);
            if (!tokens)
                return respond(refreshError(tokens.error()));
            respond(tokenResponse(*tokens, *policy));
        },
        0, policy);
}


HttpResponse ApiRoutes::setWorkstationPin(const HttpRequest& request, const AuthContext& who)
{
    if (!m_s.workstation)
        return HttpResponse::error(Error{ErrorCode::Unavailable, QStringLiteral("Not available here"), 5});
    auto body = json::parseObject(request.body);
    if (!body)
        return errorOf(body);
    auto pin = json::requiredString(*body, "pin", 16);
    if (!pin)
        return errorOf(pin);
    auto workstationId = json::requiredString(*body, "workstationId", 64);
    if (!workstationId)
        return errorOf(workstationId);
    auto validUntil = m_s.workstation->setPin(who, *pin, *workstationId, infoOf(request));
    if (!validUntil)
        return errorOf(validUntil);
    return HttpResponse::json(200, {{"success", true},
                                    {"validUntil", QDateTime::fromMSecsSinceEpoch(*validUntil, Qt::UTC)
                                                       .toString(Qt::ISODateWithMs)
                                                       .toStdString()}});
}

HttpResponse ApiRoutes::parkWorkstationSession(const HttpRequest& request, const AuthContext& who)
{
    if (!m_s.workstation)
        return HttpResponse::error(Error{ErrorCode::Unavailable, QStringLiteral("Not available here"), 5});
    auto parked = m_s.workstation->park(who, infoOf(request));
    if (!parked)
        return errorOf(parked);
    return HttpResponse::json(200, {{"success", true}, {"parked", true}});
}

void ApiRoutes::resumeWorkstationSession(const HttpRequest& request, Router::Respond respond)
{
    auto body = json::parseObject(request.body);
    if (!body)
        return respond(errorOf(body));
    auto token = json::requiredString(*body, "refreshToken", 256);
    if (!token)
        return respond(errorOf(token));
    auto pin = json::requiredString(*body, "pin", 16);
    if (!pin)
        return respond(errorOf(pin));
    const RequestInfo info = infoOf(request);
    using Outcome = std::optional<WorkstationService::Refusal>;
    // The PIN check (argon2id) and its SQL on a hashing thread; the rotation on this worker,
    // exactly as a refresh (theft detection included).
    auto check = [pool = m_s.poolRoutes, self = this, token = token->toLatin1(), pin = *pin, info]() -> Outcome {
        ApiRoutes* api = pool ? pool() : self;
        if (!api || !api->m_s.workstation)
            return WorkstationService::Refusal{
                Error{ErrorCode::Unavailable, QStringLiteral("Database unavailable, try again shortly"), 2}};
        return api->m_s.workstation->resume(token, pin, info);
    };
    auto rotate = [this, respond, token = token->toLatin1(), info, id = request.requestId](Outcome refused) {
        RequestScope scope(id);
        if (refused)
            return respond(workstationError(refused->error, refused->name));
        auto policy = std::make_shared<nlohmann::json>();
        m_s.service.refresh(
            token, info,
            [respond, id, policy](Result<AuthTokens> tokens) {
                RequestScope inner(id);
                if (!tokens)
                    return respond(refreshError(tokens.error()));
                respond(tokenResponse(*tokens, *policy));
            },
            0, policy);
    };
    if (!m_s.poolRoutes)
        return rotate(check());
    auto queued = m_s.hashingPool.run<Outcome>(&m_context, std::move(check), std::move(rotate));
    if (!queued)
        respond(errorOf(queued));
}

void ApiRoutes::logout(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    m_s.service.logout(who, infoOf(request),
                       [respond = std::move(respond), id = request.requestId](Result<void> r) {
                           RequestScope scope(id);
                           if (!r)
                               return respond(errorOf(r));
                           respond(HttpResponse::json(200, {{"success", true}}));
                       });
}

void ApiRoutes::listSessions(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    m_s.service.list(who, [respond = std::move(respond), id = request.requestId](Result<std::vector<SessionDto>> sessions) {
        RequestScope scope(id);
        if (!sessions)
            return respond(errorOf(sessions));
        respond(HttpResponse::text(200, sessionListJson(*sessions), "application/json"));
    });
}

void ApiRoutes::renameSession(const HttpRequest& request, const QString& id, const AuthContext& who,
                              Router::Respond respond)
{
    // Bad input is answered here, at once; only the update waits for a pool thread.
    auto body = json::parseObject(request.body);
    if (!body)
        return respond(errorOf(body));
    auto name = json::optionalString(*body, "name", 100);
    if (!name)
        return respond(errorOf(name));
    onPool(request, std::move(respond),
           [id, who, name = *name](ApiRoutes& api, const HttpRequest&, Router::Respond answer) {
               auto session = api.m_s.service.rename(who, id, name);
               if (!session)
                   return answer(errorOf(session));
               answer(HttpResponse::json(200, {{"success", true}, {"session", *session}}));
           });
}

void ApiRoutes::revokeSession(const HttpRequest& request, const QString& id, const AuthContext& who,
                              Router::Respond respond)
{
    m_s.service.revoke(who, id, infoOf(request), [respond = std::move(respond), rid = request.requestId](Result<void> r) {
        RequestScope scope(rid);
        if (!r)
            return respond(errorOf(r));
        respond(HttpResponse::json(200, {{"success", true}, {"message", "Session revoked"}}));
    });
}

void ApiRoutes::revokeOthers(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    auto body = optionalBody(request);
    if (!body)
        return respond(errorOf(body));
    auto password = json::requiredString(*body, "password", 1024);
    if (!password)
        return respond(HttpResponse::error(Error{
            ErrorCode::InvalidRequest,
            QStringLiteral("Signing out all other devices needs your password: send {\"password\": ...}")}));
    auto begun = m_s.service.beginReauth(who, *password, infoOf(request), "revoke_all_others");
    checkPasswordThen(
        request, std::move(respond), std::move(begun),
        [this](const ReauthAttempt& attempt, bool passwordOk) {
            auto count = m_s.service.revokeOthers(attempt, passwordOk);
            if (!count)
                return errorOf(count);
            return HttpResponse::json(
                200,
                {{"success", true},
                 {"revokedCount", *count},
                 {"message", QStringLiteral("Signed out %1 other session(s)").arg(*count).toStdString()}});
        });
}

HttpResponse ApiRoutes::cleanup(const HttpRequest& request, const AuthContext& who)
{
    const RequestInfo info = infoOf(request);
    auto n = m_s.service.cleanup(AuditActor{who.userId, who.sessionId, info.ipAddress, info.userAgent});
    if (!n)
        return errorOf(n);
    return HttpResponse::json(200, {{"success", true}, {"cleanedCount", *n}});
}

HttpResponse ApiRoutes::adminRevokeUser(const HttpRequest& request, const QString& userId, const AuthContext& who)
{
    auto user = m_s.users.findById(userId);
    if (!user)
        return errorOf(user);
    if (!*user)
        return HttpResponse::error(Error{ErrorCode::NotFound, QStringLiteral("No such user")});
    const RequestInfo info = infoOf(request);
    auto n = m_s.service.revokeAllForUser(userId, QStringLiteral("revoked_by_admin"),
                                          AuditActor{who.userId, who.sessionId, info.ipAddress, info.userAgent});
    if (!n)
        return errorOf(n);
    return HttpResponse::json(200, {{"success", true}, {"revokedCount", *n}});
}

HttpResponse ApiRoutes::verifyMfa(const HttpRequest& request)
{
    auto body = json::parseObject(request.body);
    if (!body)
        return errorOf(body);
    auto token = json::requiredString(*body, "mfaToken", 2048);
    if (!token)
        return errorOf(token);
    auto code = json::requiredTrimmed(*body, "code", 64);
    if (!code)
        return errorOf(code);
    auto device = json::optionalString(*body, "deviceCredential", 256);
    if (!device)
        return errorOf(device);
    const auto remember = body->find("rememberDevice");
    if (remember != body->end() && !remember->is_boolean())
        return HttpResponse::error(
            Error{ErrorCode::InvalidRequest, QStringLiteral("rememberDevice must be true or false")});
    const bool rememberDevice = remember != body->end() && remember->get<bool>();
    auto step = m_s.mfa.verifyLogin(token->toLatin1(), *code, infoOf(request), *device, rememberDevice);
    if (!step)
        return errorOf(step);
    auto policy = m_s.service.sessionPolicy(step->tokens.sessionId);
    if (!policy)
        return errorOf(policy);
    nlohmann::json answer = step->tokens;
    answer["policy"] = std::move(*policy);
    if (rememberDevice)
        answer["deviceRemembered"] = !step->rememberedDeviceId.isEmpty();
    return tokenResponse(answer);
}

void ApiRoutes::mfaSetup(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    // Re-authentication: a missing body or password is refused like a wrong one (403).
    auto body = optionalBody(request);
    if (!body)
        return respond(errorOf(body));
    auto password = json::optionalString(*body, "password", 1024);
    if (!password)
        return respond(errorOf(password));
    auto begun = m_s.mfa.beginSetup(who, *password, infoOf(request));
    checkPasswordThen(
        request, std::move(respond), std::move(begun),
        [this](const ReauthAttempt& attempt, bool passwordOk) {
            auto e = m_s.mfa.finishSetup(attempt, passwordOk);
            if (!e)
                return errorOf(e);
            return HttpResponse::json(200, {{"success", true},
                                            {"secret", e->secretBase32.toStdString()},
                                            {"otpauthUri", e->otpauthUri.toStdString()},
                                            {"issuer", e->issuer.toStdString()},
                                            {"account", e->account.toStdString()}});
        });
}

HttpResponse ApiRoutes::mfaEnable(const HttpRequest& request, const AuthContext& who)
{
    auto body = json::parseObject(request.body);
    if (!body)
        return errorOf(body);
    auto code = json::requiredTrimmed(*body, "code", 64);
    if (!code)
        return errorOf(code);
    auto codes = m_s.mfa.enable(who, *code, infoOf(request));
    if (!codes)
        return errorOf(codes);
    return backupCodesResponse(*codes);
}

void ApiRoutes::mfaDisable(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    auto fields = passwordAndCodeOf(request);
    if (!fields)
        return respond(errorOf(fields));
    auto begun = m_s.mfa.beginDisable(who, fields->password, infoOf(request));
    checkPasswordThen(
        request, std::move(respond), std::move(begun),
        [this, code = fields->code](const ReauthAttempt& attempt, bool passwordOk) {
            auto r = m_s.mfa.finishDisable(attempt, passwordOk, code);
            if (!r)
                return errorOf(r);
            return HttpResponse::json(200, {{"success", true}});
        });
}

void ApiRoutes::newBackupCodes(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    auto fields = passwordAndCodeOf(request);
    if (!fields)
        return respond(errorOf(fields));
    auto begun = m_s.mfa.beginNewBackupCodes(who, fields->password, infoOf(request));
    checkPasswordThen(request, std::move(respond), std::move(begun),
                      [this, code = fields->code](const ReauthAttempt& attempt, bool passwordOk) {
                          auto codes = m_s.mfa.finishNewBackupCodes(attempt, passwordOk, code);
                          if (!codes)
                              return errorOf(codes);
                          return backupCodesResponse(*codes);
                      });
}

HttpResponse ApiRoutes::activity(const HttpRequest& request, const AuthContext& who)
{
    auto query = ActivityQuery::parse(request.query);
    if (!query)
        return errorOf(query);
    auto page = AccountActivity(*m_s.db, m_s.service).page(who, *query);
    if (!page)
        return errorOf(page);
    HttpResponse r = HttpResponse::json(200, *page);
    r.setHeader("Cache-Control", "no-store");
    return r;
}

void ApiRoutes::changePassword(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    auto body = json::parseObject(request.body);
    if (!body)
        return respond(errorOf(body));
    auto current = json::optionalString(*body, "currentPassword", 1024); // missing: 403, like a wrong one
    if (!current)
        return respond(errorOf(current));
    auto next = json::requiredString(*body, "newPassword", 1024);
    if (!next)
        return respond(errorOf(next));
    auto code = json::optionalString(*body, "code", 64); // needed when 2FA is on
    if (!code)
        return respond(errorOf(code));
    auto begun = m_s.passwords.begin(who, *current, code->trimmed(), *next, infoOf(request));
    if (!begun)
        return respond(errorOf(begun));
    // Both argon2id runs (the current password's check, the new one's hash) on the hashing pool.
    auto attempt = std::make_shared<const PasswordChangeAttempt>(std::move(*begun));
    const PasswordHasher& hasher = m_s.hasher;
    offload<PasswordChangeCheck>(
        request, std::move(respond), [attempt, &hasher] { return PasswordChange::check(*attempt, hasher); },
        [this, attempt](PasswordChangeCheck check) {
            auto ended = m_s.passwords.finish(*attempt, check);
            if (!ended)
                return errorOf(ended);
            return HttpResponse::json(
                200, {{"success", true},
                      {"revokedCount", *ended},
                      {"message", QStringLiteral("Password changed; %1 other session(s) signed out")
                                      .arg(*ended)
                                      .toStdString()}});
        });
}

HttpResponse ApiRoutes::me(const AuthContext& who)
{
    auto user = m_s.users.findById(who.userId);
    if (!user)
        return errorOf(user);
    if (!*user)
        return HttpResponse::error(Error{ErrorCode::Unauthenticated, QStringLiteral("No such user")});
    auto remaining = m_s.mfa.remainingBackupCodes(who.userId);
    if (!remaining)
        return errorOf(remaining);
    auto policy = m_s.service.sessionPolicy(who.sessionId);
    if (!policy)
        return errorOf(policy);
    return HttpResponse::json(
        200,
        {{"success", true},
         {"user", (*user)->toDto()},
         {"sessionId", who.sessionId.toStdString()},
         {"backupCodesRemaining", *remaining},
         {"policy", *policy},
         // Devices compare it with what they saw before to tell the user.
         {"mfaChangedAt", (*user)->mfaChangedAt
                              ? nlohmann::json(QDateTime::fromMSecsSinceEpoch((*user)->mfaChangedAt, Qt::UTC)
                                                   .toString(Qt::ISODateWithMs)
                                                   .toStdString())
                              : nlohmann::json(nullptr)}});
}

HttpResponse ApiRoutes::metrics(const HttpRequest& request)
{
    const QByteArray& token = m_s.config.metricsToken;
    if (!token.isEmpty()) {
        const QByteArray presented = request.header("authorization");
        if (!crypto::constantTimeEquals(presented, "Bearer " + token))
            return HttpResponse::error(Error{ErrorCode::Unauthenticated, QStringLiteral("Metrics need METRICS_TOKEN")});
    } else if (!request.peerAddress.isLoopback() || !request.header("x-forwarded-for").isEmpty() ||
               !request.header("forwarded").isEmpty()) {
        // Without a token only a scraper on this host may read them: not a client through a
        // reverse proxy on this host (its forwarding header gives it away), not the network.
        return HttpResponse::error(Error{ErrorCode::Forbidden,
                                         QStringLiteral("Metrics are served to loopback only; set METRICS_TOKEN to "
                                                        "scrape them from elsewhere")});
    }
    // Counting live sessions scans an index: at most every 30 s, whichever worker is asked.
    static std::atomic<qint64> lastCount{0};
    const qint64 now = m_s.clock.nowMs();
    if (now - lastCount.load() > 30'000) {
        lastCount = now;
        auto q = m_s.db->exec(QStringLiteral("SELECT COUNT(*) FROM user_sessions WHERE is_active AND revoked_at IS NULL "
                                             "AND expires_at > ?"),
                              {now});
        if (q && (*q)->next())
            m_s.activeSessionsGauge = (*q)->value(0).toDouble();
        if (q)
            (*q)->finish();
    }
    return HttpResponse::text(200, m_s.metricsRegistry.render(), MetricsRegistry::contentType);
}

QString ApiRoutes::introspectionClient(const HttpRequest& request) const
{
    const QByteArray header = request.header("authorization");
    if (!header.startsWith("Basic ") && !header.startsWith("basic "))
        return {};
    const QByteArray decoded = QByteArray::fromBase64(header.mid(6).trimmed());
    const qsizetype colon = decoded.indexOf(':');
    if (colon <= 0)
        return {};
    const QString id = QString::fromUtf8(QByteArray::fromPercentEncoding(decoded.left(colon)));
    const QByteArray secret = QByteArray::fromPercentEncoding(decoded.mid(colon + 1));
    const auto& clients = m_s.config.introspectionClients;
    auto it = clients.find(id);
    // Compare anyway for unknown ids, so timing says nothing about which ids exist.
    const QByteArray expected = it == clients.end() ? QByteArray(32, '\0') : *it;
    const bool match = crypto::constantTimeEquals(crypto::sha256(secret), crypto::sha256(expected));
    return it != clients.end() && match ? id : QString();
}

void ApiRoutes::introspect(const HttpRequest& request, Router::Respond respond)
{
    const QString client = introspectionClient(request);
    if (client.isEmpty()) {
        HttpResponse r = HttpResponse::error(
            Error{ErrorCode::Unauthenticated, QStringLiteral("Introspection needs service credentials (HTTP Basic)")});
        r.setHeader("WWW-Authenticate", "Basic realm=\"ehr-sessions\"");
        return respond(std::move(r));
    }
    // RFC 7662 sends a form; JSON is accepted too.
    QByteArray token;
    if (request.header("content-type").startsWith("application/json")) {
        auto body = json::parseObject(request.body);
        if (!body)
            return respond(errorOf(body));
        auto t = json::requiredString(*body, "token", 8192);
        if (!t)
            return respond(errorOf(t));
        token = t->toLatin1();
    } else {
        for (const QByteArray& pair : request.body.split('&')) {
            if (pair.startsWith("token="))
                token = QByteArray::fromPercentEncoding(pair.mid(6).replace('+', ' '));
        }
    }
    if (token.isEmpty())
        return respond(
            HttpResponse::error(Error{ErrorCode::InvalidRequest, QStringLiteral("'token' is required")}));
    // Read-only: introspection neither records activity nor ends the refresh grace.
    m_s.service.inspect(token.trimmed(),
                        [respond = std::move(respond), id = request.requestId](Result<JwtClaims> claims) {
                            RequestScope scope(id);
                            if (!claims)
                                return respond(HttpResponse::json(200, {{"active", false}}));
                            // RFC 7662 §2.2: the fields describe the token. Access tokens are issued to
                            // users' devices, not to OAuth clients, so there is no client_id to give (it is
                            // not the caller's id).
                            respond(HttpResponse::json(200, {{"active", true},
                                                             {"sub", claims->sub.toStdString()},
                                                             {"sid", claims->sid.toStdString()},
                                                             {"jti", claims->jti.toStdString()},
                                                             {"iat", claims->iat},
                                                             {"exp", claims->exp},
                                                             {"iss", claims->iss.toStdString()},
                                                             {"aud", claims->aud.toStdString()},
                                                             {"token_type", "Bearer"}}));
                        });
}

HttpResponse ApiRoutes::ready()
{
    const auto ping = m_s.db->ping();
    const bool dbUp = ping.has_value();
    // During a PostgreSQL failover: "down" while no host of DATABASE_URL is a writable primary,
    // "read-only" when the connection was on a server that is (now) a standby.
    const char* dbState = dbUp ? "up" : ping.error().message.contains(u"read-only") ? "read-only" : "down";
    // Probe Redis through the cache path so a recovered connection is noticed here too.
    if (m_s.redis)
        (void)m_s.redis->command({"PING"});
    const QByteArray cacheMode = m_s.store.mode();
    nlohmann::json body{{"status", dbUp ? "ready" : "unavailable"},
                        {"database", dbState},
                        {"databaseKind", m_s.db->isPostgres() ? "postgres" : "sqlite"},
                        {"cache", cacheMode.toStdString()},
                        {"revocationFeed", !m_s.revocationFeed          ? "none"
                                           : m_s.revocationFeed->isUp() ? "up"
                                                                        : "down"}};
    if (dbUp && m_s.db->isPostgres())
        body["databaseServer"] = m_s.db->serverAddress().toStdString(); // which host is the primary
    HttpResponse r = HttpResponse::json(dbUp ? 200 : 503, body);
    if (!dbUp)
        r.setHeader("Retry-After", "2");
    return r;
}

} // namespace ehrs::server
