// SPDX-License-Identifier: Apache-2.0
#include "WorkstationStatus.h"

#include "WireModels.h"

#include <nlohmann/json.hpp>

namespace ehrs::app {
namespace {
using nlohmann::json;

QString str(const json& j, const char* field)
{
    return ehrs::json::optionalString(j, field, 1024).value_or(QString());
}

QDateTime time(const json& j, const char* field)
{
    const QString v = str(j, field);
    return v.isEmpty() ? QDateTime() : fromIsoString(v.toStdString());
}

bool flag(const json& j, const char* field)
{
    const auto it = j.find(field);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}
} // namespace

Result<WorkstationStatus> workstationStatusFromPayload(QByteArrayView payload)
{
    auto j = ehrs::json::parseObject(payload);
    if (!j)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("the agent's status is not a JSON object"));
    WorkstationStatus s;
    s.signedIn = flag(*j, "signedIn");
    s.email = str(*j, "email");
    s.signedOutReason = str(*j, "signedOutReason");
    s.lastError = str(*j, "lastError");
    s.deviceClass = str(*j, "deviceClass");
    s.workstationId = str(*j, "workstationId");
    s.pinSet = flag(*j, "pinSet");
    s.pinValidUntil = time(*j, "pinValidUntil");
    s.locked = flag(*j, "locked");
    if (const auto it = j->find("parkedAccounts"); it != j->end() && it->is_array()) {
        for (const json& a : *it) {
            if (!a.is_object())
                continue;
            ParkedAccount p{str(a, "email"), str(a, "userId"), time(a, "parkedAt")};
            if (!p.email.isEmpty())
                s.parked.push_back(std::move(p));
        }
    }
    return s;
}

} // namespace ehrs::app
