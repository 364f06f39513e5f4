// SPDX-License-Identifier: Apache-2.0
#include "PolicyInfo.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ehrs {
namespace {
int seconds(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
        return 0;
    return static_cast<int>(std::clamp<qint64>(it->get<qint64>(), 0, 10LL * 365 * 86400));
}

bool flag(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}
} // namespace

std::optional<SessionPolicyInfo> SessionPolicyInfo::fromJson(const nlohmann::json& j)
{
    if (!j.is_object())
        return std::nullopt;
    SessionPolicyInfo p;
    p.idleTimeoutSeconds = seconds(j, "idleTimeoutSeconds");
    p.absoluteLifetimeSeconds = seconds(j, "absoluteLifetimeSeconds");
    p.endOnLock = flag(j, "endOnLock");
    p.maxSessions = std::min(seconds(j, "maxSessions"), 100000);
    p.mfaRequired = flag(j, "mfaRequired");
    p.shiftWindowSeconds = seconds(j, "shiftWindowSeconds");
    p.pinMaxFailures = std::min(seconds(j, "pinMaxFailures"), 1000);
    if (const auto it = j.find("deviceClass"); it != j.end() && it->is_string())
        p.deviceClass = QString::fromStdString(it->get<std::string>()).left(40);
    if (const auto it = j.find("groups"); it != j.end() && it->is_array()) {
        for (const auto& g : *it) {
            if (g.is_string() && p.groups.size() < 100)
                p.groups << QString::fromStdString(g.get<std::string>()).left(100);
        }
    }
    return p;
}

std::optional<SessionPolicyInfo> SessionPolicyInfo::fromBody(const nlohmann::json& body)
{
    if (!body.is_object())
        return std::nullopt;
    const auto it = body.find("policy");
    return it == body.end() ? std::nullopt : fromJson(*it);
}

nlohmann::json SessionPolicyInfo::toJson() const
{
    nlohmann::json groupList = nlohmann::json::array();
    for (const QString& g : groups)
        groupList.push_back(g.toStdString());
    return nlohmann::json{{"idleTimeoutSeconds", idleTimeoutSeconds},
                          {"absoluteLifetimeSeconds", absoluteLifetimeSeconds},
                          {"endOnLock", endOnLock},
                          {"maxSessions", maxSessions},
                          {"mfaRequired", mfaRequired},
                          {"deviceClass", deviceClass.toStdString()},
                          {"groups", groupList},
                          {"shiftWindowSeconds", shiftWindowSeconds},
                          {"pinMaxFailures", pinMaxFailures}};
}

} // namespace ehrs
