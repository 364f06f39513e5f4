// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

#include <nlohmann/json_fwd.hpp>

namespace ehrs {

/// What a session's device is, as shown in the Active Sessions list.
/// `type` is one of "desktop", "laptop", "mobile", "tablet", "unknown".
struct DeviceInfo
{
    QString type = QStringLiteral("unknown");
    QString name;    // "iPhone", "Pixel 7", "ward-pc-12" (hostname) ...
    QString os;      // "iOS 17.1", "Android 14", "Windows 10/11", "Debian GNU/Linux 12"
    QString browser; // "Safari 17.1", "Chrome 120", "EHR Sessions Agent 0.1.0"

    bool operator==(const DeviceInfo&) const = default;

    static constexpr qsizetype kMaxFieldLength = 200;
    static bool isKnownType(const QString& type);
};

void to_json(nlohmann::json& j, const DeviceInfo& d);
/// Validates a client-supplied device object: strings only, bounded length, known type.
[[nodiscard]] Result<DeviceInfo> deviceInfoFromJson(const nlohmann::json& j);

} // namespace ehrs
