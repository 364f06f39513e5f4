// SPDX-License-Identifier: Apache-2.0
#include "DeviceInfo.h"

#include <nlohmann/json.hpp>

namespace ehrs {

bool DeviceInfo::isKnownType(const QString& type)
{
    return type == u"desktop" || type == u"laptop" || type == u"mobile" || type == u"tablet" || type == u"unknown";
}

void to_json(nlohmann::json& j, const DeviceInfo& d)
{
    j = nlohmann::json{{"type", d.type.toStdString()},
                       {"name", d.name.toStdString()},
                       {"os", d.os.toStdString()},
                       {"browser", d.browser.toStdString()}};
}

Result<DeviceInfo> deviceInfoFromJson(const nlohmann::json& j)
{
    if (!j.is_object())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("deviceInfo must be an object"));
    DeviceInfo d;
    for (const char* field : {"type", "name", "os", "browser"}) {
        auto it = j.find(field);
        if (it == j.end() || it->is_null())
            continue;
        if (!it->is_string())
            return fail(ErrorCode::InvalidRequest, QStringLiteral("deviceInfo.%1 must be a string").arg(QLatin1String(field)));
        const QString value = QString::fromStdString(it->get<std::string>()).trimmed();
        if (value.size() > DeviceInfo::kMaxFieldLength || value.contains(QChar(0)))
            return fail(ErrorCode::InvalidRequest, QStringLiteral("deviceInfo.%1 is too long or contains NUL").arg(QLatin1String(field)));
        if (std::string_view(field) == "type")
            d.type = value.isEmpty() ? QStringLiteral("unknown") : value.toLower();
        else if (std::string_view(field) == "name")
            d.name = value;
        else if (std::string_view(field) == "os")
            d.os = value;
        else
            d.browser = value;
    }
    if (!DeviceInfo::isKnownType(d.type))
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("deviceInfo.type must be desktop, laptop, mobile, tablet or unknown"));
    return d;
}

} // namespace ehrs
