// SPDX-License-Identifier: Apache-2.0
#include "StoredAccount.h"

#include "WireModels.h"

#include <nlohmann/json.hpp>

namespace ehrs::agent {

QString StoredAccount::storageKey() const
{
    return QStringLiteral("account:%1|%2").arg(serverUrl, email.toLower());
}

QString StoredAccount::deviceCredentialKey(const QString& serverUrl, const QString& email)
{
    return QStringLiteral("device:%1|%2").arg(serverUrl, email.trimmed().toLower());
}

QByteArray StoredAccount::toJson() const
{
    nlohmann::json j{{"serverUrl", serverUrl.toStdString()},
                     {"userId", userId.toStdString()},
                     {"email", email.toStdString()},
                     {"sessionId", sessionId.toStdString()},
                     {"refreshToken", refreshToken.toStdString()}};
    if (policy)
        j["policy"] = policy->toJson();
    if (pinValidUntilMs > 0)
        j["pinValidUntilMs"] = pinValidUntilMs;
    if (parkedAtMs > 0)
        j["parkedAtMs"] = parkedAtMs;
    if (!previousRefreshToken.isEmpty())
        j["previousRefreshToken"] = previousRefreshToken.toStdString();
    return QByteArray::fromStdString(j.dump());
}

Result<StoredAccount> StoredAccount::fromJson(QByteArrayView text)
{
    auto j = json::parseObject(text);
    if (!j)
        return fail(ErrorCode::StorageError, QStringLiteral("the stored account is not valid JSON"));
    StoredAccount a;
    auto server = json::requiredString(*j, "serverUrl", 2048);
    auto email = json::requiredString(*j, "email", 320);
    auto refresh = json::requiredString(*j, "refreshToken", 1024);
    if (!server || !email || !refresh)
        return fail(ErrorCode::StorageError, QStringLiteral("the stored account lacks a required field"));
    a.serverUrl = *server;
    a.email = *email;
    a.refreshToken = *refresh;
    a.userId = json::optionalString(*j, "userId", 100).value_or(QString());
    a.sessionId = json::optionalString(*j, "sessionId", 100).value_or(QString());
    a.policy = SessionPolicyInfo::fromBody(*j);
    auto msOf = [&j](const char* field) -> qint64 {
        const auto it = j->find(field);
        return it != j->end() && it->is_number_integer() ? std::max<qint64>(0, it->get<qint64>()) : 0;
    };
    a.pinValidUntilMs = msOf("pinValidUntilMs");
    a.parkedAtMs = msOf("parkedAtMs");
    a.previousRefreshToken = json::optionalString(*j, "previousRefreshToken", 1024).value_or(QString());
    return a;
}

} // namespace ehrs::agent
