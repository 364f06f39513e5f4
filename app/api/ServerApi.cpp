// SPDX-License-Identifier: Apache-2.0
#include "ServerApi.h"

#include "HttpReply.h"
#include "Logging.h"

#include <QNetworkReply>
#include <QPromise>
#include <memory>
#include <nlohmann/json.hpp>

namespace ehrs::app {
namespace {
using Json = nlohmann::json;
using JsonPromise = std::shared_ptr<QPromise<Result<Json>>>;

void finish(const JsonPromise& promise, Result<Json> value)
{
    promise->addResult(std::move(value));
    promise->finish();
}

template <typename T, typename F>
QFuture<Result<T>> map(QFuture<Result<Json>> f, QObject* context, F&& convert)
{
    return f.then(context, [convert = std::forward<F>(convert)](const Result<Json>& r) -> Result<T> {
        if (!r)
            return fail(r.error());
        return convert(*r);
    });
}

QString pathId(const QString& id)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(id));
}
} // namespace

ServerApi::ServerApi(AccessTokenSource* tokens, QObject* parent) : QObject(parent), m_tokens(tokens)
{
    m_network.setAutoDeleteReplies(true);
    m_network.setTransferTimeout(15000);
}

QFuture<Result<Json>> ServerApi::send(const QByteArray& method, const QString& path, const Json& body)
{
    auto promise = std::make_shared<QPromise<Result<Json>>>();
    promise->start();
    const QByteArray payload = body.is_null() ? QByteArray() : QByteArray::fromStdString(body.dump());
    attempt(Call{promise, method, path, payload}, false);
    return promise->future();
}

void ServerApi::attempt(Call call, bool retried)
{
    m_tokens->accessToken(retried).then(this, [this, call, retried](const Result<QString>& token) {
        if (!token) {
            if (isSessionEnded(token.error()))
                Q_EMIT agentSignedOut(token.error());
            return finish(call.promise, fail(token.error()));
        }
        QUrl url = m_base;
        QString basePath = url.path();
        if (basePath.endsWith(u'/'))
            basePath.chop(1);
        const qsizetype question = call.path.indexOf(u'?'); // a query goes where it belongs
        url.setPath(basePath + call.path.left(question));
        if (question >= 0)
            url.setQuery(call.path.mid(question + 1));
        QNetworkRequest request(url);
        request.setRawHeader("Authorization", "Bearer " + token->toUtf8());
        request.setRawHeader("Accept", "application/json");
        if (!call.payload.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        QNetworkReply* reply = m_network.sendCustomRequest(request, call.method, call.payload);
        connect(reply, &QNetworkReply::finished, this, [this, call, retried, reply] {
            auto result = readApiReply(reply);
            if (!result && isSessionEnded(result.error())) {
                if (!retried) {
                    qCInfo(lcApp) << "401 from the server; retrying once with a fresh token";
                    return attempt(call, true);
                }
                Q_EMIT authenticationLost(result.error());
            }
            finish(call.promise, std::move(result));
        });
    });
}

QFuture<Result<std::vector<SessionDto>>> ServerApi::listSessions()
{
    return map<std::vector<SessionDto>>(send("GET", QStringLiteral("/api/sessions"), nullptr), this,
                                        [](const Json& j) { return sessionListFromJson(j); });
}

QFuture<Result<void>> ServerApi::renameSession(const QString& id, const QString& name)
{
    return map<void>(
        send("PATCH", QStringLiteral("/api/sessions/") + pathId(id), Json{{"name", name.toStdString()}}),
        this, [](const Json&) { return Result<void>{}; });
}

QFuture<Result<void>> ServerApi::revokeSession(const QString& id)
{
    return map<void>(send("DELETE", QStringLiteral("/api/sessions/") + pathId(id), nullptr), this,
                     [](const Json&) { return Result<void>{}; });
}

QFuture<Result<int>> ServerApi::revokeOtherSessions(const QString& password)
{
    return map<int>(
        send("DELETE", QStringLiteral("/api/sessions"), Json{{"password", password.toStdString()}}), this,
        [](const Json& j) { return revokedCountFromJson(j); });
}

QFuture<Result<AccountInfo>> ServerApi::account()
{
    return map<AccountInfo>(send("GET", QStringLiteral("/api/auth/me"), nullptr), this,
                            [](const Json& j) { return accountInfoFromJson(j); });
}

QFuture<Result<MfaEnrolment>> ServerApi::startMfaSetup(const QString& password)
{
    return map<MfaEnrolment>(
        send("POST", QStringLiteral("/api/auth/mfa/setup"), Json{{"password", password.toStdString()}}), this,
        [](const Json& j) { return mfaEnrolmentFromJson(j); });
}

QFuture<Result<QStringList>> ServerApi::enableMfa(const QString& code)
{
    return map<QStringList>(
        send("POST", QStringLiteral("/api/auth/mfa/enable"), Json{{"code", code.toStdString()}}), this,
        [](const Json& j) { return backupCodesFromJson(j); });
}

QFuture<Result<void>> ServerApi::disableMfa(const QString& password, const QString& code)
{
    return map<void>(send("POST", QStringLiteral("/api/auth/mfa/disable"),
                          Json{{"password", password.toStdString()}, {"code", code.toStdString()}}),
                     this, [](const Json&) { return Result<void>{}; });
}

QFuture<Result<QStringList>> ServerApi::newBackupCodes(const QString& password, const QString& code)
{
    return map<QStringList>(send("POST", QStringLiteral("/api/auth/mfa/backup-codes"),
                                 Json{{"password", password.toStdString()}, {"code", code.toStdString()}}),
                            this, [](const Json& j) { return backupCodesFromJson(j); });
}

QFuture<Result<std::vector<ActivityEvent>>> ServerApi::activity(int limit)
{
    return map<std::vector<ActivityEvent>>(
        send("GET", QStringLiteral("/api/account/activity?limit=%1").arg(limit), nullptr), this,
        [](const Json& j) { return activityFromJson(j); });
}

QFuture<Result<std::vector<RememberedDeviceDto>>> ServerApi::rememberedDevices()
{
    return map<std::vector<RememberedDeviceDto>>(send("GET", QStringLiteral("/api/account/devices"), nullptr),
                                                 this,
                                                 [](const Json& j) { return rememberedDevicesFromJson(j); });
}

QFuture<Result<void>> ServerApi::forgetDevice(const QString& id)
{
    return map<void>(send("DELETE", QStringLiteral("/api/account/devices/") + pathId(id), nullptr), this,
                     [](const Json&) { return Result<void>{}; });
}

QFuture<Result<int>> ServerApi::changePassword(const QString& currentPassword, const QString& code,
                                               const QString& newPassword)
{
    Json body{{"currentPassword", currentPassword.toStdString()}, {"newPassword", newPassword.toStdString()}};
    if (!code.isEmpty())
        body["code"] = code.toStdString();
    return map<int>(send("POST", QStringLiteral("/api/auth/password"), body), this,
                    [](const Json& j) { return revokedCountFromJson(j); });
}

} // namespace ehrs::app
