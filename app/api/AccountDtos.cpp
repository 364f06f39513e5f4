// SPDX-License-Identifier: Apache-2.0
#include "AccountDtos.h"

#include <nlohmann/json.hpp>

namespace ehrs::app {
namespace {
Error malformed(const char* what)
{
    return Error{ErrorCode::Internal,
                 QStringLiteral("The server sent an unexpected %1 reply").arg(QLatin1String(what))};
}

QString str(const nlohmann::json& j, const char* field)
{
    auto it = j.find(field);
    return it != j.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}
} // namespace

Result<AccountInfo> accountInfoFromJson(const nlohmann::json& j)
{
    if (!j.is_object() || !j.contains("user"))
        return fail(malformed("account"));
    auto user = userFromJson(j["user"]);
    if (!user)
        return fail(user.error());
    AccountInfo info{*user, str(j, "sessionId"), 0};
    if (auto it = j.find("backupCodesRemaining"); it != j.end() && it->is_number_integer())
        info.backupCodesRemaining = it->get<int>();
    if (auto it = j.find("policy"); it != j.end())
        info.policy = SessionPolicyInfo::fromJson(*it);
    return info;
}

Result<MfaEnrolment> mfaEnrolmentFromJson(const nlohmann::json& j)
{
    if (!j.is_object())
        return fail(malformed("2FA setup"));
    MfaEnrolment e{str(j, "secret"), str(j, "otpauthUri"), str(j, "issuer"), str(j, "account")};
    if (e.secret.isEmpty() || e.otpauthUri.isEmpty())
        return fail(malformed("2FA setup"));
    return e;
}

Result<QStringList> backupCodesFromJson(const nlohmann::json& j)
{
    auto it = j.is_object() ? j.find("backupCodes") : j.end();
    if (it == j.end() || !it->is_array())
        return fail(malformed("2FA"));
    QStringList codes;
    for (const auto& c : *it) {
        if (c.is_string())
            codes << QString::fromStdString(c.get<std::string>());
    }
    return codes;
}

Result<std::vector<ActivityEvent>> activityFromJson(const nlohmann::json& j)
{
    auto it = j.is_object() ? j.find("events") : j.end();
    if (it == j.end() || !it->is_array())
        return fail(malformed("activity"));
    std::vector<ActivityEvent> events;
    for (const auto& e : *it) {
        if (!e.is_object())
            continue;
        ActivityEvent a;
        a.id = str(e, "id");
        a.event = str(e, "event");
        a.occurredAt = QDateTime::fromString(str(e, "occurredAt"), Qt::ISODateWithMs);
        a.ipAddress = str(e, "ipAddress");
        a.place = str(e, "place");
        if (auto d = e.find("device"); d != e.end() && d->is_object())
            a.device = DeviceInfo{str(*d, "type"), str(*d, "name"), str(*d, "os"), str(*d, "browser")};
        if (auto c = e.find("isCurrentSession"); c != e.end() && c->is_boolean())
            a.isCurrentSession = c->get<bool>();
        a.reason = str(e, "reason");
        a.action = str(e, "action");
        events.push_back(std::move(a));
    }
    return events;
}

Result<int> revokedCountFromJson(const nlohmann::json& j)
{
    auto it = j.is_object() ? j.find("revokedCount") : j.end();
    if (it == j.end() || !it->is_number_integer())
        return fail(malformed("sign-out"));
    return it->get<int>();
}

Result<std::vector<RememberedDeviceDto>> rememberedDevicesFromJson(const nlohmann::json& j)
{
    auto it = j.is_object() ? j.find("devices") : j.end();
    if (it == j.end() || !it->is_array())
        return fail(malformed("remembered devices"));
    std::vector<RememberedDeviceDto> devices;
    for (const auto& e : *it) {
        if (!e.is_object())
            continue;
        devices.push_back(RememberedDeviceDto{
            str(e, "id"), str(e, "label"), QDateTime::fromString(str(e, "rememberedAt"), Qt::ISODateWithMs),
            QDateTime::fromString(str(e, "rememberedUntil"), Qt::ISODateWithMs),
            QDateTime::fromString(str(e, "lastUsedAt"), Qt::ISODateWithMs), str(e, "ipAddress"),
            str(e, "location")});
    }
    return devices;
}

} // namespace ehrs::app
