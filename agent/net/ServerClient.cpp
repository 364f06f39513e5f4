// SPDX-License-Identifier: Apache-2.0
#include "ServerClient.h"

#include "HttpReply.h"
#include "core/Futures.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <nlohmann/json.hpp>

namespace ehrs::agent {
namespace {
using nlohmann::json;

// Bodies the agent reads are small; a larger one is not from a sane server.
constexpr qint64 kMaxResponseBytes = 1024 * 1024;

Result<LoginOutcome> toLoginOutcome(const Result<json>& body)
{
    if (!body)
        return fail(body.error());
    if (auto it = body->find("requiresMFA"); it != body->end() && it->is_boolean() && it->get<bool>()) {
        auto challenge = mfaChallengeFromJson(*body);
        if (!challenge)
            return fail(ErrorCode::Internal, QStringLiteral("malformed MFA challenge from the server"));
        return LoginOutcome{std::move(*challenge)};
    }
    auto tokens = authTokensFromJson(*body);
    if (!tokens)
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("the server's answer to a sign-in is not an EHR Sessions answer (%1): check the "
                           "server address")
                .arg(tokens.error().message));
    return LoginOutcome{std::move(*tokens)};
}
} // namespace

ServerClient::ServerClient(QNetworkAccessManager& network, QObject* parent) : QObject(parent), m_network(network) {}

void ServerClient::notePolicy(const Result<json>& body)
{
    if (!body)
        return;
    if (auto policy = SessionPolicyInfo::fromBody(*body))
        Q_EMIT policyReceived(*policy);
}

QUrl ServerClient::endpoint(const QUrl& server, const QString& path)
{
    QUrl url = server;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    url.setPath(base + path);
    return url;
}

QFuture<Result<json>> ServerClient::send(const QByteArray& verb, const QUrl& url, const QByteArray& body,
                                         const QString& bearer)
{
    QNetworkRequest request(url);
    request.setTransferTimeout(m_timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    // The agent talks to the server once per refresh (minutes apart): a kept-alive connection
    // would only make Qt's network thread wake up later to expire it (the server's idle timeout
    // at 60 s, Qt's cache at 120 s). Closing it after each exchange keeps the idle agent asleep.
    request.setAttribute(QNetworkRequest::ConnectionCacheExpiryTimeoutSecondsAttribute, 0);
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("ehr-sessions-agent/" EHRS_VERSION));
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + bearer.toUtf8());

    auto promise = startedPromise<Result<json>>();
    QNetworkReply* reply = m_network.sendCustomRequest(request, verb, body);
    connect(reply, &QNetworkReply::finished, this, [reply, promise] {
        reply->deleteLater();
        finishPromise(*promise, readApiReply(reply, kMaxResponseBytes));
    });
    return promise->future();
}

QFuture<Result<LoginOutcome>> ServerClient::login(const QUrl& server, const LoginRequest& request,
                                                  const QString& deviceClass)
{
    json body = request;
    if (!deviceClass.isEmpty())
        body["deviceClass"] = deviceClass.toStdString();
    return send("POST", endpoint(server, QStringLiteral("/api/auth/login")),
                QByteArray::fromStdString(body.dump()), {})
        .then(this, [this](const Result<json>& r) {
            notePolicy(r);
            return toLoginOutcome(r);
        });
}

QFuture<Result<LoginOutcome>> ServerClient::verifyMfa(const QUrl& server, const QString& mfaToken,
                                                      const QString& code, const QString& deviceCredential,
                                                      bool rememberDevice)
{
    json body{{"mfaToken", mfaToken.toStdString()}, {"code", code.toStdString()}};
    if (!deviceCredential.isEmpty())
        body["deviceCredential"] = deviceCredential.toStdString();
    if (rememberDevice)
        body["rememberDevice"] = true;
    return send("POST", endpoint(server, QStringLiteral("/api/auth/verify-mfa")),
                QByteArray::fromStdString(body.dump()), {})
        .then(this, [this](const Result<json>& r) {
            notePolicy(r);
            return toLoginOutcome(r);
        });
}

QFuture<Result<AuthTokens>> ServerClient::refresh(const QUrl& server, const QString& refreshToken)
{
    const json body{{"refreshToken", refreshToken.toStdString()}};
    return send("POST", endpoint(server, QStringLiteral("/api/sessions/refresh")),
                QByteArray::fromStdString(body.dump()), {})
        .then(this, [this](const Result<json>& r) { return toTokens(r); });
}

Result<AuthTokens> ServerClient::toTokens(const Result<json>& r)
{
    if (!r)
        return fail(r.error());
    notePolicy(r);
    auto tokens = authTokensFromJson(*r);
    if (!tokens)
        return fail(ErrorCode::Internal,
                    QStringLiteral("malformed refresh response: %1").arg(tokens.error().message));
    return tokens;
}

QFuture<Result<qint64>> ServerClient::setWorkstationPin(const QUrl& server, const QString& accessToken,
                                                        const QString& pin, const QString& workstationId)
{
    const json body{{"pin", pin.toStdString()}, {"workstationId", workstationId.toStdString()}};
    return send("PUT", endpoint(server, QStringLiteral("/api/workstation/pin")),
                QByteArray::fromStdString(body.dump()), accessToken)
        .then(this, [](const Result<json>& r) -> Result<qint64> {
            if (!r)
                return fail(r.error());
            const auto it = r->find("validUntil");
            const QDateTime until =
                it != r->end() && it->is_string() ? fromIsoString(it->get<std::string>()) : QDateTime();
            if (!until.isValid())
                return fail(ErrorCode::Internal,
                            QStringLiteral("the server's answer has no valid 'validUntil'"));
            return until.toMSecsSinceEpoch();
        });
}

QFuture<Result<void>> ServerClient::parkSession(const QUrl& server, const QString& accessToken)
{
    return send("POST", endpoint(server, QStringLiteral("/api/workstation/park")), QByteArrayLiteral("{}"),
                accessToken)
        .then(this, [](const Result<json>& r) -> Result<void> {
            if (!r)
                return fail(r.error());
            return {};
        });
}

QFuture<Result<AuthTokens>> ServerClient::resumeSession(const QUrl& server, const QString& refreshToken,
                                                        const QString& pin)
{
    const json body{{"refreshToken", refreshToken.toStdString()}, {"pin", pin.toStdString()}};
    return send("POST", endpoint(server, QStringLiteral("/api/workstation/resume")),
                QByteArray::fromStdString(body.dump()), {})
        .then(this, [this](const Result<json>& r) { return toTokens(r); });
}

QFuture<Result<void>> ServerClient::logout(const QUrl& server, const QString& accessToken)
{
    return send("POST", endpoint(server, QStringLiteral("/api/auth/logout")), QByteArrayLiteral("{}"), accessToken)
        .then(this, [](const Result<json>& r) -> Result<void> {
            if (!r)
                return fail(r.error());
            return {};
        });
}

QFuture<Result<ServerClient::MfaState>> ServerClient::mfaState(const QUrl& server, const QString& accessToken)
{
    return send("GET", endpoint(server, QStringLiteral("/api/auth/me")), {}, accessToken)
        .then(this, [this](const Result<json>& r) -> Result<MfaState> {
            if (!r)
                return fail(r.error());
            notePolicy(r);
            MfaState state;
            if (auto user = r->find("user"); user != r->end() && user->is_object()) {
                if (auto on = user->find("mfaEnabled"); on != user->end() && on->is_boolean())
                    state.enabled = on->get<bool>();
            }
            if (auto changed = r->find("mfaChangedAt"); changed != r->end() && changed->is_string())
                state.changedAt = QString::fromStdString(changed->get<std::string>());
            return state;
        });
}

QFuture<Result<std::vector<SessionDto>>> ServerClient::sessions(const QUrl& server,
                                                                const QString& accessToken)
{
    return send("GET", endpoint(server, QStringLiteral("/api/sessions")), {}, accessToken)
        .then(this, [](const Result<json>& r) -> Result<std::vector<SessionDto>> {
            if (!r)
                return fail(r.error());
            return sessionListFromJson(*r);
        });
}

} // namespace ehrs::agent
