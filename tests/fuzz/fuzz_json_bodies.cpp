// SPDX-License-Identifier: Apache-2.0
// The JSON body readers of common/WireModels.h on arbitrary bytes: parseObject and every
// *FromJson reader, on the document and on its sub-objects. Whatever a reader accepts must obey
// its documented bounds and survive to_json -> reader unchanged (one model, written once).

#include "FuzzSupport.h"

#include "DeviceInfo.h"
#include "Result.h"
#include "WireModels.h"

#include <nlohmann/json.hpp>

#include <ctime>

using namespace ehrs;
using Json = nlohmann::json;

namespace {
bool boundedText(const QString& s, qsizetype max)
{
    return s.size() <= max && !s.contains(QChar(0));
}

void checkDeviceInfo(const DeviceInfo& d, const char* where)
{
    const QString w = QString::fromLatin1(where);
    FUZZ_CHECK(DeviceInfo::isKnownType(d.type), w + QStringLiteral(": unknown type ") + fuzz::shown(d.type));
    for (const QString* field : {&d.name, &d.os, &d.browser})
        FUZZ_CHECK(boundedText(*field, DeviceInfo::kMaxFieldLength), w + QStringLiteral(": field ") + fuzz::shown(*field));
}

void checkDeviceInfoReader(const Json& j)
{
    const auto d = deviceInfoFromJson(j);
    if (!d)
        return;
    checkDeviceInfo(*d, "deviceInfoFromJson");
    Json back;
    to_json(back, *d);
    const auto again = deviceInfoFromJson(back);
    FUZZ_CHECK(again && *again == *d, QStringLiteral("DeviceInfo round trip: ") + QString::fromStdString(back.dump()));
}

void checkLoginRequest(const Json& j)
{
    const auto r = loginRequestFromJson(j);
    if (!r)
        return;
    FUZZ_CHECK(boundedText(r->email, 320), QStringLiteral("email ") + fuzz::shown(r->email));
    FUZZ_CHECK(!r->password.isEmpty() && boundedText(r->password, 1024), QStringLiteral("password bounds"));
    if (r->deviceInfo)
        checkDeviceInfo(*r->deviceInfo, "loginRequestFromJson");
    if (r->email.isEmpty())
        return; // whitespace-only email: accepted, trimmed to empty (see tests/fuzz/README.md)
    Json back;
    to_json(back, *r);
    const auto again = loginRequestFromJson(back);
    FUZZ_CHECK(again && again->email == r->email && again->password == r->password && again->deviceInfo == r->deviceInfo,
               QStringLiteral("LoginRequest round trip: email ") + fuzz::shown(r->email));
}

bool sameUser(const std::optional<UserDto>& a, const std::optional<UserDto>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    return !a || (a->id == b->id && a->email == b->email && a->name == b->name && a->role == b->role &&
                  a->mfaEnabled == b->mfaEnabled);
}

void checkAuthTokens(const Json& j)
{
    const auto t = authTokensFromJson(j);
    if (!t)
        return;
    FUZZ_CHECK(!t->accessToken.isEmpty() && boundedText(t->accessToken, 8192), QStringLiteral("accessToken bounds"));
    FUZZ_CHECK(!t->refreshToken.isEmpty() && boundedText(t->refreshToken, 1024), QStringLiteral("refreshToken bounds"));
    FUZZ_CHECK(!t->sessionId.isEmpty() && boundedText(t->sessionId, 100), QStringLiteral("sessionId bounds"));
    if (t->user)
        FUZZ_CHECK(!t->user->id.isEmpty() && boundedText(t->user->id, 100) && boundedText(t->user->email, 320) &&
                       boundedText(t->user->name, 200) && boundedText(t->user->role, 20),
                   QStringLiteral("user bounds"));
    Json back;
    to_json(back, *t);
    const auto again = authTokensFromJson(back);
    FUZZ_CHECK(again && again->accessToken == t->accessToken && again->refreshToken == t->refreshToken &&
                   again->sessionId == t->sessionId && again->expiresIn == t->expiresIn && sameUser(again->user, t->user),
               QStringLiteral("AuthTokens round trip: ") + QString::fromStdString(back.dump()));
}

// Times are compared only in years that ISO 8601 (and Qt's ISODate) write with four digits in UTC.
bool sameTime(const QDateTime& a, const QDateTime& b)
{
    const auto ordinary = [](const QDateTime& t) { return t.isValid() && t.date().year() > 1000 && t.date().year() < 9000; };
    return !ordinary(a) || a == b;
}

void checkSessionList(const Json& j)
{
    const auto list = sessionListFromJson(j);
    if (!list)
        return;
    for (const SessionDto& s : *list) {
        FUZZ_CHECK(!s.id.isEmpty() && boundedText(s.id, 100), QStringLiteral("session id ") + fuzz::shown(s.id));
        checkDeviceInfo(s.deviceInfo, "sessionListFromJson");
        Json back;
        to_json(back, s);
        const auto again = sessionFromJson(back);
        FUZZ_CHECK(again && again->id == s.id && again->name == s.name && again->ipAddress == s.ipAddress &&
                       again->location == s.location && again->userAgent == s.userAgent &&
                       again->deviceInfo == s.deviceInfo && again->isActive == s.isActive &&
                       again->isCurrent == s.isCurrent && sameTime(s.createdAt, again->createdAt) &&
                       sameTime(s.lastActivityAt, again->lastActivityAt) && sameTime(s.expiresAt, again->expiresAt),
                   QStringLiteral("SessionDto round trip: ") + QString::fromStdString(back.dump()));
    }
}

void checkApiError(const Json& j)
{
    for (const int status : {0, 400, 401, 404, 413, 429, 500, 503}) {
        const Error e = apiErrorFromJson(j, status);
        FUZZ_CHECK(!errorCodeName(e.code).empty(), QStringLiteral("apiErrorFromJson gave an unnamed code"));
        FUZZ_CHECK(!e.message.isEmpty() || (j.is_object() && j.contains("message")),
                   QStringLiteral("apiErrorFromJson lost the message"));
    }
}

void checkAll(const Json& j)
{
    checkLoginRequest(j);
    checkAuthTokens(j);
    checkSessionList(j);
    checkDeviceInfoReader(j);
    checkApiError(j);
    (void)userFromJson(j);
    (void)mfaChallengeFromJson(j);
    (void)sessionFromJson(j);
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQtMessages();
    // Timestamps without an offset are local time: fix the zone so that runs are reproducible.
    qputenv("TZ", "UTC");
    tzset();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArrayView body(reinterpret_cast<const char*>(data), qsizetype(size));

    const auto object = ehrs::json::parseObject(body);
    if (object) {
        FUZZ_CHECK(object->is_object(), QStringLiteral("parseObject returned a non-object"));
        checkAll(*object);
        // Nested objects, as the readers meet them inside larger bodies.
        for (const char* field : {"deviceInfo", "user", "session"}) {
            if (auto it = object->find(field); it != object->end())
                checkAll(*it);
        }
        if (auto it = object->find("sessions"); it != object->end() && it->is_array() && !it->empty())
            checkAll(it->front());
    } else {
        // Readers also get non-objects (a JSON array or string from a broken server).
        const auto any = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
        if (!any.is_discarded())
            checkAll(any);
    }
    return 0;
}
