// SPDX-License-Identifier: Apache-2.0
#include "SessionListJson.h"

#include "JsonWriter.h"

namespace ehrs::server {

QByteArray sessionListJson(const std::vector<SessionDto>& sessions)
{
    JsonWriter w(qsizetype(64 + 480 * sessions.size()));
    // Members in nlohmann's order (sorted by key), so that both ways give the same bytes.
    w.beginObject();
    w.key("sessions");
    w.beginArray();
    for (const SessionDto& s : sessions) {
        w.beginObject();
        w.key("createdAt");
        w.value(toIsoString(s.createdAt));
        w.key("deviceInfo");
        w.beginObject();
        w.key("browser");
        w.value(s.deviceInfo.browser);
        w.key("name");
        w.value(s.deviceInfo.name);
        w.key("os");
        w.value(s.deviceInfo.os);
        w.key("type");
        w.value(s.deviceInfo.type);
        w.endObject();
        w.key("expiresAt");
        w.value(toIsoString(s.expiresAt));
        w.key("id");
        w.value(s.id);
        w.key("ipAddress");
        w.value(s.ipAddress);
        w.key("isActive");
        w.value(s.isActive);
        w.key("isCurrent");
        w.value(s.isCurrent);
        w.key("lastActivityAt");
        w.value(toIsoString(s.lastActivityAt));
        w.key("location");
        w.value(s.location);
        w.key("name");
        w.value(s.name);
        w.key("parked");
        w.value(s.parked);
        w.key("userAgent");
        w.value(s.userAgent);
        w.endObject();
    }
    w.endArray();
    w.key("success");
    w.value(true);
    w.key("total");
    w.value(qint64(sessions.size()));
    w.endObject();
    return w.take();
}

} // namespace ehrs::server
