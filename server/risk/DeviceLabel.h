// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"

namespace ehrs::server {

/// A device in words for people (emails, the remembered-device list): its own name when it has
/// one, else browser and system, e.g. "Firefox 120 on Linux (desktop)".
inline QString deviceLabel(const DeviceInfo& d)
{
    QString label = !d.name.isEmpty() ? d.name : d.browser;
    if (!d.os.isEmpty())
        label = label.isEmpty() ? d.os : label + QStringLiteral(" on ") + d.os;
    if (label.isEmpty())
        label = QStringLiteral("Unknown device");
    if (!d.type.isEmpty() && d.type != u"unknown")
        label += QStringLiteral(" (") + d.type + u')';
    return label;
}

} // namespace ehrs::server
