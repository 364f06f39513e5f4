// SPDX-License-Identifier: Apache-2.0
#include "WireModels.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ehrs {
namespace {
std::string s(const QString& v)
{
    return v.toStdString();
}

Error badField(const char* field, const char* what)
{
    return Error{ErrorCode::InvalidRequest,
                 QStringLiteral("'%1' %2").arg(QLatin1String(field), QLatin1String(what))};
}
} // namespace

std::string toIsoString(const QDateTime& t)
{
    if (!t.isValid())
        return {};
    return isoStringFromMs(t.toMSecsSinceEpoch());
}

std::string isoStringFromMs(qint64 ms)
{
    // Hand-written: every session list formats three times per row, and QDateTime::toString
    // (locale-free as it is) costs more than the rest of the row. Days to civil date: Howard
    // Hinnant's algorithm (proleptic Gregorian, valid far beyond any session's lifetime).
    qint64 days = ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
    const qint64 msOfDay = ms - days * 86'400'000;
    days += 719'468;
    const qint64 era = (days >= 0 ? days : days - 146'096) / 146'097;
    const qint64 doe = days - era * 146'097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const qint64 day = doy - (153 * mp + 2) / 5 + 1;
    const qint64 month = mp < 10 ? mp + 3 : mp - 9;
    const qint64 year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999)
        return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toStdString();
    char out[] = "0000-00-00T00:00:00.000Z"; // 24 characters and the NUL
    auto put = [&out](int at, qint64 value, int width) {
        for (int i = width - 1; i >= 0; --i, value /= 10)
            out[at + i] = char('0' + value % 10);
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, msOfDay / 3'600'000, 2);
    put(14, msOfDay / 60'000 % 60, 2);
    put(17, msOfDay / 1000 % 60, 2);
    put(20, msOfDay % 1000, 3);
    return std::string(out, 24);
}

QDateTime fromIsoString(const std::string& v)
{
    return QDateTime::fromString(QString::fromStdString(v), Qt::ISODateWithMs);
}

namespace json {
Result<QString> requiredTrimmed(const nlohmann::json& obj, const char* field, qsizetype maxLength)
{
    auto value = requiredString(obj, field, maxLength);
    if (!value)
        return value;
    const QString trimmed = value->trimmed();
    if (trimmed.isEmpty())
        return fail(badField(field, "must not be blank"));
    return trimmed;
}

Result<QString> requiredString(const nlohmann::json& obj, const char* field, qsizetype maxLength)
{
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null())
        return fail(badField(field, "is required"));
    if (!it->is_string())
        return fail(badField(field, "must be a string"));
    QString value = QString::fromStdString(it->get<std::string>());
    if (value.isEmpty())
        return fail(badField(field, "must not be empty"));
    if (value.contains(QChar(0)))
        return fail(badField(field, "must not contain NUL characters"));
    if (value.size() > maxLength)
        return fail(badField(field, "is too long"));
    return value;
}

Result<QString> optionalString(const nlohmann::json& obj, const char* field, qsizetype maxLength)
{
    auto it = obj.find(field);
    if (it == obj.end() || it->is_null())
        return QString();
    if (!it->is_string())
        return fail(badField(field, "must be a string"));
    QString value = QString::fromStdString(it->get<std::string>());
    if (value.size() > maxLength)
        return fail(badField(field, "is too long"));
    if (value.contains(QChar(0)))
        return fail(badField(field, "must not contain NUL characters"));
    return value;
}

Result<nlohmann::json> parseObject(QByteArrayView body)
{
    auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("Request body is not valid JSON"));
    if (!j.is_object())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("Request body must be a JSON object"));
    return j;
}
} // namespace json

void to_json(nlohmann::json& j, const UserDto& u)
{
    j = nlohmann::json{
        {"id", s(u.id)}, {"email", s(u.email)}, {"name", s(u.name)}, {"role", s(u.role)}, {"mfaEnabled", u.mfaEnabled}};
}

void to_json(nlohmann::json& j, const AuthTokens& t)
{
    j = nlohmann::json{{"success", true},
                       {"token", s(t.accessToken)},
                       {"accessToken", s(t.accessToken)},
                       {"refreshToken", s(t.refreshToken)},
                       {"expiresIn", t.expiresIn},
                       {"sessionId", s(t.sessionId)}};
    if (t.user)
        j["user"] = *t.user;
    if (!t.deviceCredential.isEmpty())
        j["deviceCredential"] = s(t.deviceCredential);
}

void to_json(nlohmann::json& j, const MfaChallenge& c)
{
    nlohmann::json methods = nlohmann::json::array();
    for (const auto& m : c.methods)
        methods.push_back(s(m));
    j = nlohmann::json{{"success", true}, {"requiresMFA", true}, {"mfaToken", s(c.mfaToken)}, {"methods", methods}};
}

void to_json(nlohmann::json& j, const SessionDto& v)
{
    j = nlohmann::json{{"id", s(v.id)},
                       {"name", s(v.name)},
                       {"createdAt", toIsoString(v.createdAt)},
                       {"lastActivityAt", toIsoString(v.lastActivityAt)},
                       {"expiresAt", toIsoString(v.expiresAt)},
                       {"ipAddress", s(v.ipAddress)},
                       {"location", s(v.location)},
                       {"userAgent", s(v.userAgent)},
                       {"deviceInfo", v.deviceInfo},
                       {"isActive", v.isActive},
                       {"isCurrent", v.isCurrent},
                       {"parked", v.parked}};
}

void to_json(nlohmann::json& j, const LoginRequest& r)
{
    j = nlohmann::json{{"email", s(r.email)}, {"password", s(r.password)}};
    if (r.deviceInfo)
        j["deviceInfo"] = *r.deviceInfo;
    if (!r.deviceCredential.isEmpty())
        j["deviceCredential"] = s(r.deviceCredential);
}

Result<LoginRequest> loginRequestFromJson(const nlohmann::json& j)
{
    LoginRequest r;
    auto email = json::requiredTrimmed(j, "email", 320);
    if (!email)
        return fail(email.error());
    auto password = json::requiredString(j, "password", 1024);
    if (!password)
        return fail(password.error());
    r.email = *email;
    r.password = *password;
    if (auto it = j.find("deviceInfo"); it != j.end() && !it->is_null()) {
        auto d = deviceInfoFromJson(*it);
        if (!d)
            return fail(d.error());
        r.deviceInfo = *d;
    }
    auto credential = json::optionalString(j, "deviceCredential", 256);
    if (!credential)
        return fail(credential.error());
    r.deviceCredential = *credential;
    return r;
}

Result<UserDto> userFromJson(const nlohmann::json& j)
{
    if (!j.is_object())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("user must be an object"));
    UserDto u;
    auto id = json::requiredString(j, "id", 100);
    if (!id)
        return fail(id.error());
    u.id = *id;
    u.email = json::optionalString(j, "email", 320).value_or(QString());
    u.name = json::optionalString(j, "name", 200).value_or(QString());
    u.role = json::optionalString(j, "role", 20).value_or(QString());
    if (auto it = j.find("mfaEnabled"); it != j.end() && it->is_boolean())
        u.mfaEnabled = it->get<bool>();
    return u;
}

Result<AuthTokens> authTokensFromJson(const nlohmann::json& j)
{
    if (!j.is_object())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("response is not an object"));
    AuthTokens t;
    auto access = json::requiredString(j, "accessToken", 8192);
    auto refresh = json::requiredString(j, "refreshToken", 1024);
    auto sid = json::requiredString(j, "sessionId", 100);
    if (!access)
        return fail(access.error());
    if (!refresh)
        return fail(refresh.error());
    if (!sid)
        return fail(sid.error());
    auto exp = j.find("expiresIn");
    if (exp == j.end() || !exp->is_number_integer())
        return fail(badField("expiresIn", "must be an integer"));
    t.accessToken = *access;
    t.refreshToken = *refresh;
    t.sessionId = *sid;
    t.expiresIn = exp->get<qint64>();
    if (auto u = j.find("user"); u != j.end() && u->is_object()) {
        auto user = userFromJson(*u);
        if (!user)
            return fail(user.error());
        t.user = *user;
    }
    auto credential = json::optionalString(j, "deviceCredential", 256);
    if (!credential)
        return fail(credential.error());
    t.deviceCredential = *credential;
    if (auto remembered = j.find("deviceRemembered"); remembered != j.end() && remembered->is_boolean())
        t.deviceRemembered = remembered->get<bool>();
    return t;
}

Result<MfaChallenge> mfaChallengeFromJson(const nlohmann::json& j)
{
    auto token = json::requiredString(j, "mfaToken", 4096);
    if (!token)
        return fail(token.error());
    MfaChallenge c;
    c.mfaToken = *token;
    if (auto it = j.find("methods"); it != j.end() && it->is_array()) {
        for (const auto& m : *it) {
            if (m.is_string())
                c.methods << QString::fromStdString(m.get<std::string>());
        }
    }
    return c;
}

Result<SessionDto> sessionFromJson(const nlohmann::json& j)
{
    if (!j.is_object())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("session must be an object"));
    SessionDto v;
    auto id = json::requiredString(j, "id", 100);
    if (!id)
        return fail(id.error());
    v.id = *id;
    auto str = [&](const char* f) { return json::optionalString(j, f, 4096).value_or(QString()); };
    v.name = str("name");
    v.createdAt = fromIsoString(str("createdAt").toStdString());
    v.lastActivityAt = fromIsoString(str("lastActivityAt").toStdString());
    v.expiresAt = fromIsoString(str("expiresAt").toStdString());
    v.ipAddress = str("ipAddress");
    v.location = str("location");
    v.userAgent = str("userAgent");
    if (auto d = j.find("deviceInfo"); d != j.end() && d->is_object()) {
        if (auto info = deviceInfoFromJson(*d))
            v.deviceInfo = *info;
    }
    if (auto a = j.find("isActive"); a != j.end() && a->is_boolean())
        v.isActive = a->get<bool>();
    if (auto c = j.find("isCurrent"); c != j.end() && c->is_boolean())
        v.isCurrent = c->get<bool>();
    if (auto p = j.find("parked"); p != j.end() && p->is_boolean())
        v.parked = p->get<bool>();
    return v;
}

Result<std::vector<SessionDto>> sessionListFromJson(const nlohmann::json& j)
{
    auto it = j.is_object() ? j.find("sessions") : j.end();
    if (it == j.end() || !it->is_array())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("response has no sessions array"));
    std::vector<SessionDto> out;
    out.reserve(it->size());
    for (const auto& item : *it) {
        auto v = sessionFromJson(item);
        if (!v)
            return fail(v.error());
        out.push_back(std::move(*v));
    }
    return out;
}

Error apiErrorFromJson(const nlohmann::json& j, int httpStatus)
{
    Error e;
    switch (httpStatus) {
    case 400: e.code = ErrorCode::InvalidRequest; break;
    case 401: e.code = ErrorCode::Unauthenticated; break;
    case 403: e.code = ErrorCode::Forbidden; break;
    case 404: e.code = ErrorCode::NotFound; break;
    case 405: e.code = ErrorCode::MethodNotAllowed; break;
    case 409: e.code = ErrorCode::Conflict; break;
    case 413: e.code = ErrorCode::PayloadTooLarge; break;
    case 429: e.code = ErrorCode::RateLimited; break;
    case 503: e.code = ErrorCode::Unavailable; break;
    default: e.code = ErrorCode::Internal; break;
    }
    e.message = QStringLiteral("HTTP %1").arg(httpStatus);
    if (j.is_object()) {
        if (auto it = j.find("error"); it != j.end() && it->is_string()) {
            const ErrorCode named = errorCodeFromName(it->get<std::string>());
            if (named != ErrorCode::Internal || it->get<std::string>() == "internal_error")
                e.code = named;
            else // a route's own name (invalid_pin, full_sign_in_required, ...): kept as said
                e.name = QString::fromStdString(it->get<std::string>()).left(64);
        }
        if (auto it = j.find("message"); it != j.end() && it->is_string())
            e.message = QString::fromStdString(it->get<std::string>());
        if (auto it = j.find("attemptsLeft"); it != j.end() && it->is_number_integer())
            e.attemptsLeft = int(std::clamp<qint64>(it->get<qint64>(), 0, 1000));
        if (auto it = j.find("helpText"); it != j.end() && it->is_string())
            e.helpText = QString::fromStdString(it->get<std::string>()).left(500);
    }
    return e;
}

} // namespace ehrs
