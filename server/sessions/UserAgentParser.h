// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"

#include <QStringView>

namespace ehrs::server {

/// Derives what the Active Sessions list shows about a browser or HTTP client from its `User-Agent`
/// header: the device type ("desktop", "laptop", "mobile", "tablet" or "unknown"), a device name
/// ("iPhone", "Pixel 7", "Windows PC"), the OS ("iOS 17.1", "Android 14", "Windows 10/11") and the
/// browser or client ("Chrome 120", "Safari 17.1", "curl 8.4", "EHR Sessions Agent 0.1.0").
/// The header is untrusted and only a hint: the function never throws, looks at no more than the
/// first 1024 characters, runs in time linear in them, strips control and formatting characters from
/// any text it copies, and returns a DeviceInfo of type "unknown" with empty fields for input it
/// cannot make sense of. Crawlers are reported as type "unknown" with only their name and version.
[[nodiscard]] DeviceInfo parseUserAgent(QStringView userAgent);

} // namespace ehrs::server
