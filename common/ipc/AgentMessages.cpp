// SPDX-License-Identifier: Apache-2.0
#include "AgentMessages.h"

#include "WireModels.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace ehrs::ipc {
namespace {
using nlohmann::json;

constexpr std::array<std::pair<RequestType, const char16_t*>, 9> kRequestNames{{
    {RequestType::Token, u"token"},
    {RequestType::Status, u"status"},
    {RequestType::Login, u"login"},
    {RequestType::VerifyMfa, u"verify-mfa"},
    {RequestType::Logout, u"logout"},
    {RequestType::Subscribe, u"subscribe"},
    {RequestType::SetPin, u"set-pin"},
    {RequestType::SwitchUser, u"switch-user"},
    {RequestType::Resume, u"resume"},
}};

/// The ErrorCode a wire code of the workstation routes (or the agent's own) travels as.
ErrorCode codeOfName(const QString& name, ErrorCode fallback)
{
    if (name == QLatin1String(kInvalidPinCode))
        return ErrorCode::Unauthenticated;
    if (name == QLatin1String(kFullSignInRequiredCode) || name == QLatin1String(kSessionParkedCode) ||
        name == QLatin1String(kNoActiveClinicianCode))
        return ErrorCode::Forbidden;
    return fallback;
}

/// A PIN argument: digits only are the server's rule, judged there; here only its shape.
Result<QString> pinOf(const json& j)
{
    auto pin = ehrs::json::requiredString(j, "pin", 16);
    if (!pin)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("'pin' is required (4 to 8 digits)"));
    if (pin->isEmpty())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("the PIN is empty"));
    return pin;
}

std::string s(const QString& v)
{
    return v.toStdString();
}

std::string t(const QDateTime& v)
{
    return v.isValid() ? toIsoString(v) : std::string();
}

QString str(const json& j, const char* field)
{
    return ehrs::json::optionalString(j, field, 16384).value_or(QString());
}

QDateTime time(const json& j, const char* field)
{
    const QString v = str(j, field);
    return v.isEmpty() ? QDateTime() : fromIsoString(v.toStdString());
}

/// An event's required true/false field: empty when it is missing or not a boolean.
std::optional<bool> flag(const json& j, const char* field)
{
    const auto it = j.find(field);
    return it != j.end() && it->is_boolean() ? std::optional<bool>(it->get<bool>()) : std::nullopt;
}

QByteArray dump(const json& j)
{
    return QByteArray::fromStdString(j.dump());
}

json reply(qint64 id)
{
    return json{{"type", "reply"}, {"id", id}, {"ok", true}};
}

Result<json> parse(QByteArrayView payload)
{
    auto j = ehrs::json::parseObject(payload);
    if (!j)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("message is not a JSON object"));
    return j;
}
} // namespace

QString requestTypeName(RequestType type)
{
    for (const auto& [t2, name] : kRequestNames) {
        if (t2 == type)
            return QString::fromUtf16(name);
    }
    return {};
}

std::optional<RequestType> requestTypeFromName(const QString& name)
{
    for (const auto& [type, n] : kRequestNames) {
        if (name == QStringView(n))
            return type;
    }
    return std::nullopt;
}

Result<Request> requestFromJson(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    Request r;
    auto type = ehrs::json::requiredString(*j, "type", 32);
    if (!type)
        return fail(type.error());
    auto known = requestTypeFromName(*type);
    if (!known)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("unknown request type"));
    r.type = *known;
    if (auto it = j->find("id"); it != j->end()) {
        if (!it->is_number_integer())
            return fail(ErrorCode::InvalidRequest, QStringLiteral("'id' must be an integer"));
        r.id = it->get<qint64>();
    }
    switch (r.type) {
    case RequestType::Login: {
        auto email = ehrs::json::requiredString(*j, "email", 320);
        if (!email)
            return fail(email.error());
        auto password = ehrs::json::requiredString(*j, "password", 1024);
        if (!password)
            return fail(password.error());
        auto server = ehrs::json::optionalString(*j, "serverUrl", 2048);
        if (!server)
            return fail(server.error());
        r.email = email->trimmed();
        r.password = *password;
        r.serverUrl = *server;
        if (auto it = j->find("allowInsecureHttp"); it != j->end() && !it->is_null()) {
            if (!it->is_boolean())
                return fail(ErrorCode::InvalidRequest,
                            QStringLiteral("'allowInsecureHttp' must be true or false"));
            r.allowInsecureHttp = it->get<bool>();
        }
        break;
    }
    case RequestType::VerifyMfa: {
        auto code = ehrs::json::requiredString(*j, "code", 64);
        if (!code)
            return fail(code.error());
        r.code = code->trimmed();
        if (auto it = j->find("rememberDevice"); it != j->end() && !it->is_null()) {
            if (!it->is_boolean())
                return fail(ErrorCode::InvalidRequest,
                            QStringLiteral("'rememberDevice' must be true or false"));
            r.rememberDevice = it->get<bool>();
        }
        break;
    }
    case RequestType::Token:
        if (auto it = j->find("minValidSeconds"); it != j->end()) {
            if (!it->is_number_integer() || it->get<qint64>() < 0 || it->get<qint64>() > 86400)
                return fail(ErrorCode::InvalidRequest, QStringLiteral("'minValidSeconds' must be 0..86400"));
            r.minValidSeconds = static_cast<int>(it->get<qint64>());
        }
        break;
    case RequestType::SetPin: {
        auto pin = pinOf(*j);
        if (!pin)
            return fail(pin.error());
        r.pin = *pin;
        break;
    }
    case RequestType::Resume: {
        auto email = ehrs::json::requiredString(*j, "email", 320);
        if (!email)
            return fail(email.error());
        auto pin = pinOf(*j);
        if (!pin)
            return fail(pin.error());
        r.email = email->trimmed();
        if (r.email.isEmpty())
            return fail(ErrorCode::InvalidRequest, QStringLiteral("the email is empty"));
        r.pin = *pin;
        break;
    }
    case RequestType::Status:
    case RequestType::Logout:
    case RequestType::Subscribe:
    case RequestType::SwitchUser:
        break;
    }
    return r;
}

RequestHeader requestHeaderOf(QByteArrayView payload)
{
    RequestHeader header;
    auto j = parse(payload);
    if (!j)
        return header;
    const auto id = j->find("id");
    const bool idOk = id == j->end() || id->is_number_integer();
    if (id != j->end() && id->is_number_integer())
        header.id = id->get<qint64>();
    const auto type = ehrs::json::requiredString(*j, "type", 32);
    header.wellFormed = idOk && type && requestTypeFromName(*type).has_value();
    return header;
}

QByteArray toPayload(const Request& r)
{
    json j{{"type", s(requestTypeName(r.type))}, {"id", r.id}};
    switch (r.type) {
    case RequestType::Login:
        j["email"] = s(r.email);
        j["password"] = s(r.password);
        if (!r.serverUrl.isEmpty())
            j["serverUrl"] = s(r.serverUrl);
        if (r.allowInsecureHttp)
            j["allowInsecureHttp"] = true;
        break;
    case RequestType::VerifyMfa:
        j["code"] = s(r.code);
        if (r.rememberDevice)
            j["rememberDevice"] = true;
        break;
    case RequestType::Token:
        if (r.minValidSeconds > 0)
            j["minValidSeconds"] = r.minValidSeconds;
        break;
    case RequestType::SetPin:
        j["pin"] = s(r.pin);
        break;
    case RequestType::Resume:
        j["email"] = s(r.email);
        j["pin"] = s(r.pin);
        break;
    default:
        break;
    }
    return dump(j);
}

QString eventName(const Event& event)
{
    struct Visitor
    {
        QString operator()(const TokenRefreshedEvent&) const { return QStringLiteral("token-refreshed"); }
        QString operator()(const SignedOutEvent&) const { return QStringLiteral("signed-out"); }
        QString operator()(const SessionRevokedEvent&) const { return QStringLiteral("session-revoked"); }
        QString operator()(const NewSignInEvent&) const { return QStringLiteral("new-sign-in"); }
        QString operator()(const LiveUpdatesEvent&) const { return QStringLiteral("live-updates"); }
        QString operator()(const SuspiciousSignInEvent&) const
        {
            return QStringLiteral("suspicious-sign-in");
        }
        QString operator()(const UserSwitchedEvent&) const { return QStringLiteral("user-switched"); }
        QString operator()(const LockChangedEvent&) const { return QStringLiteral("lock-changed"); }
    };
    return std::visit(Visitor{}, event);
}

QByteArray toPayload(const Event& event)
{
    json j{{"type", "event"}, {"event", s(eventName(event))}};
    struct Visitor
    {
        json& j;
        void operator()(const TokenRefreshedEvent& e) const
        {
            j["accessToken"] = s(e.accessToken);
            j["expiresAt"] = t(e.expiresAt);
        }
        void operator()(const SignedOutEvent& e) const
        {
            j["reason"] = s(e.reason);
            j["message"] = s(e.message);
        }
        void operator()(const SessionRevokedEvent& e) const
        {
            j["sessionId"] = s(e.sessionId);
            j["current"] = e.current;
        }
        void operator()(const NewSignInEvent& e) const
        {
            j["sessionId"] = s(e.sessionId);
            j["device"] = s(e.device);
            j["ipAddress"] = s(e.ipAddress);
            j["location"] = s(e.location);
            j["time"] = t(e.time);
        }
        void operator()(const LiveUpdatesEvent& e) const { j["live"] = e.live; }
        void operator()(const SuspiciousSignInEvent& e) const
        {
            json reasons = json::array();
            for (const auto& reason : e.reasons)
                reasons.push_back(s(reason));
            j["reasons"] = reasons;
            j["device"] = s(e.device);
            j["location"] = s(e.location);
            j["time"] = t(e.time);
        }
        void operator()(const UserSwitchedEvent& e) const
        {
            j["email"] = s(e.email);
            j["userId"] = s(e.userId);
        }
        void operator()(const LockChangedEvent& e) const { j["locked"] = e.locked; }
    };
    std::visit(Visitor{j}, event);
    return dump(j);
}

QByteArray replyPayload(qint64 id, const TokenReply& r)
{
    json j = reply(id);
    j["accessToken"] = s(r.accessToken);
    j["expiresAt"] = t(r.expiresAt);
    return dump(j);
}

QByteArray replyPayload(qint64 id, const StatusReply& r)
{
    json j = reply(id);
    j["state"] = s(r.state);
    j["signedIn"] = r.signedIn;
    j["serverUrl"] = s(r.serverUrl);
    j["email"] = s(r.email);
    j["userId"] = s(r.userId);
    j["sessionId"] = s(r.sessionId);
    j["accessTokenExpiresAt"] = t(r.accessTokenExpiresAt);
    j["lastRefreshAt"] = t(r.lastRefreshAt);
    j["nextRefreshAt"] = t(r.nextRefreshAt);
    j["lastError"] = s(r.lastError);
    j["signedOutReason"] = s(r.signedOutReason);
    j["storage"] = s(r.storage);
    if (!r.storageNote.isEmpty())
        j["storageNote"] = s(r.storageNote);
    j["liveUpdates"] = r.liveUpdates;
    j["locked"] = r.locked;
    j["idle"] = r.idle;
    if (!r.activitySource.isEmpty())
        j["activitySource"] = s(r.activitySource);
    j["deviceClass"] = s(r.deviceClass);
    j["workstationId"] = s(r.workstationId);
    j["pinSet"] = r.pinSet;
    j["pinValidUntil"] = t(r.pinValidUntil);
    json parked = json::array();
    for (const auto& p : r.parkedAccounts)
        parked.push_back(json{{"email", s(p.email)},
                              {"userId", s(p.userId)},
                              {"parkedAt", t(p.parkedAt)},
                              {"serverUrl", s(p.serverUrl)}});
    j["parkedAccounts"] = parked;
    return dump(j);
}

QByteArray replyPayload(qint64 id, const SetPinReply& r)
{
    json j = reply(id);
    j["validUntil"] = t(r.validUntil);
    return dump(j);
}

QByteArray replyPayload(qint64 id, const SwitchUserReply& r)
{
    json j = reply(id);
    j["parked"] = json{{"email", s(r.email)}, {"userId", s(r.userId)}};
    return dump(j);
}

QByteArray replyPayload(qint64 id, const LoginReply& r)
{
    json j = reply(id);
    j["requiresMfa"] = r.requiresMfa;
    if (r.requiresMfa) {
        json methods = json::array();
        for (const auto& m : r.methods)
            methods.push_back(s(m));
        j["methods"] = methods;
    } else {
        j["email"] = s(r.email);
        j["userId"] = s(r.userId);
        j["sessionId"] = s(r.sessionId);
    }
    if (r.deviceRemembered)
        j["deviceRemembered"] = *r.deviceRemembered;
    return dump(j);
}

QByteArray okPayload(qint64 id)
{
    return dump(reply(id));
}

Error workstationLockedError()
{
    return Error{ErrorCode::Forbidden, QStringLiteral("The workstation is locked; unlock it to continue")};
}

bool isWorkstationLocked(const Error& error)
{
    return error.code == ErrorCode::Forbidden && error.message == workstationLockedError().message;
}

Error noActiveClinicianError()
{
    Error e{ErrorCode::Forbidden,
            QStringLiteral("No clinician is active on this workstation; choose your name on "
                           "the switch-user screen")};
    e.name = QString::fromLatin1(kNoActiveClinicianCode);
    return e;
}

bool isNoActiveClinician(const Error& error)
{
    return error.name == QLatin1String(kNoActiveClinicianCode);
}

bool isInvalidPin(const Error& error)
{
    return error.name == QLatin1String(kInvalidPinCode);
}

bool isFullSignInRequired(const Error& error)
{
    return error.name == QLatin1String(kFullSignInRequiredCode);
}

bool isSessionParked(const Error& error)
{
    return error.name == QLatin1String(kSessionParkedCode);
}

QString errorWireName(const Error& error)
{
    if (isWorkstationLocked(error))
        return QString::fromLatin1(kWorkstationLockedCode);
    if (!error.name.isEmpty())
        return error.name;
    return QString::fromLatin1(errorCodeName(error.code).data());
}

QByteArray errorPayload(qint64 id, const Error& error)
{
    json j{{"type", "reply"},
           {"id", id},
           {"ok", false},
           {"error", s(errorWireName(error))},
           {"message", s(error.message)}};
    if (error.retryAfterSeconds > 0)
        j["retryAfter"] = error.retryAfterSeconds; // seconds, as the server's Retry-After said
    if (error.attemptsLeft >= 0)
        j["attemptsLeft"] = error.attemptsLeft;
    if (!error.helpText.isEmpty())
        j["helpText"] = s(error.helpText);
    return dump(j);
}

Result<Incoming> incomingFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    Incoming in;
    in.payload = payload.toByteArray();
    const QString type = str(*j, "type");
    if (type == u"event") {
        in.isEvent = true;
        return in;
    }
    if (type != u"reply")
        return fail(ErrorCode::InvalidRequest, QStringLiteral("unknown message type"));
    if (auto it = j->find("id"); it != j->end() && it->is_number_integer())
        in.id = it->get<qint64>();
    auto ok = j->find("ok");
    if (ok == j->end() || !ok->is_boolean())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("reply without 'ok'"));
    if (!ok->get<bool>()) {
        Error e;
        const QString code = str(*j, "error");
        e.code = errorCodeFromName(code.toStdString());
        e.message = str(*j, "message");
        if (code == QLatin1String(kWorkstationLockedCode)) {
            e = workstationLockedError();
        } else if (e.code == ErrorCode::Internal && code != u"internal_error" && !code.isEmpty()) {
            e.name = code.left(64); // invalid_pin, full_sign_in_required, no_active_clinician, ...
            e.code = codeOfName(e.name, ErrorCode::Internal);
        }
        if (auto it = j->find("retryAfter"); it != j->end() && it->is_number_integer())
            e.retryAfterSeconds = static_cast<int>(std::clamp<qint64>(it->get<qint64>(), 0, 86400));
        if (auto it = j->find("attemptsLeft"); it != j->end() && it->is_number_integer())
            e.attemptsLeft = static_cast<int>(std::clamp<qint64>(it->get<qint64>(), 0, 1000));
        e.helpText = str(*j, "helpText").left(500);
        in.error = e;
    }
    return in;
}

Result<TokenReply> tokenReplyFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    auto token = ehrs::json::requiredString(*j, "accessToken", 8192);
    if (!token)
        return fail(token.error());
    return TokenReply{*token, time(*j, "expiresAt")};
}

Result<StatusReply> statusReplyFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    StatusReply r;
    r.state = str(*j, "state");
    if (auto it = j->find("signedIn"); it != j->end() && it->is_boolean())
        r.signedIn = it->get<bool>();
    r.serverUrl = str(*j, "serverUrl");
    r.email = str(*j, "email");
    r.userId = str(*j, "userId");
    r.sessionId = str(*j, "sessionId");
    r.accessTokenExpiresAt = time(*j, "accessTokenExpiresAt");
    r.lastRefreshAt = time(*j, "lastRefreshAt");
    r.nextRefreshAt = time(*j, "nextRefreshAt");
    r.lastError = str(*j, "lastError");
    r.signedOutReason = str(*j, "signedOutReason");
    r.storage = str(*j, "storage");
    r.storageNote = str(*j, "storageNote");
    if (auto it = j->find("liveUpdates"); it != j->end() && it->is_boolean())
        r.liveUpdates = it->get<bool>();
    if (auto it = j->find("locked"); it != j->end() && it->is_boolean())
        r.locked = it->get<bool>();
    if (auto it = j->find("idle"); it != j->end() && it->is_boolean())
        r.idle = it->get<bool>();
    r.activitySource = str(*j, "activitySource");
    r.deviceClass = str(*j, "deviceClass");
    r.workstationId = str(*j, "workstationId");
    if (auto it = j->find("pinSet"); it != j->end() && it->is_boolean())
        r.pinSet = it->get<bool>();
    r.pinValidUntil = time(*j, "pinValidUntil");
    if (auto it = j->find("parkedAccounts"); it != j->end() && it->is_array()) {
        for (const auto& p : *it) {
            if (!p.is_object())
                continue;
            r.parkedAccounts.push_back(StatusReply::ParkedAccount{str(p, "email"), str(p, "userId"),
                                                                  time(p, "parkedAt"), str(p, "serverUrl")});
        }
    }
    return r;
}

Result<SetPinReply> setPinReplyFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    return SetPinReply{time(*j, "validUntil")};
}

Result<SwitchUserReply> switchUserReplyFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    const auto parked = j->find("parked");
    if (parked == j->end() || !parked->is_object())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("switch-user reply without 'parked'"));
    return SwitchUserReply{str(*parked, "email"), str(*parked, "userId")};
}

Result<LoginReply> loginReplyFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    LoginReply r;
    if (auto it = j->find("requiresMfa"); it != j->end() && it->is_boolean())
        r.requiresMfa = it->get<bool>();
    if (auto it = j->find("methods"); it != j->end() && it->is_array()) {
        for (const auto& m : *it) {
            if (m.is_string())
                r.methods << QString::fromStdString(m.get<std::string>());
        }
    }
    r.email = str(*j, "email");
    r.userId = str(*j, "userId");
    r.sessionId = str(*j, "sessionId");
    if (auto it = j->find("deviceRemembered"); it != j->end() && it->is_boolean())
        r.deviceRemembered = it->get<bool>();
    return r;
}

Result<Event> eventFromPayload(QByteArrayView payload)
{
    auto j = parse(payload);
    if (!j)
        return fail(j.error());
    const QString name = str(*j, "event");
    if (name == u"token-refreshed")
        return Event{TokenRefreshedEvent{str(*j, "accessToken"), time(*j, "expiresAt")}};
    if (name == u"signed-out")
        return Event{SignedOutEvent{str(*j, "reason"), str(*j, "message")}};
    if (name == u"session-revoked") {
        SessionRevokedEvent e{str(*j, "sessionId"), false};
        if (auto it = j->find("current"); it != j->end() && it->is_boolean())
            e.current = it->get<bool>();
        return Event{e};
    }
    if (name == u"new-sign-in")
        return Event{NewSignInEvent{str(*j, "sessionId"), str(*j, "device"), str(*j, "ipAddress"),
                                    str(*j, "location"), time(*j, "time")}};
    if (name == u"live-updates") {
        const auto live = flag(*j, "live");
        if (!live)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("live-updates without live"));
        return Event{LiveUpdatesEvent{*live}};
    }
    if (name == u"suspicious-sign-in") {
        SuspiciousSignInEvent e{{}, str(*j, "device"), str(*j, "location"), time(*j, "time")};
        if (auto it = j->find("reasons"); it != j->end() && it->is_array()) {
            for (const auto& reason : *it) {
                if (reason.is_string())
                    e.reasons << QString::fromStdString(reason.get<std::string>());
            }
        }
        return Event{std::move(e)};
    }
    if (name == u"user-switched")
        return Event{UserSwitchedEvent{str(*j, "email"), str(*j, "userId")}};
    if (name == u"lock-changed") {
        const auto locked = flag(*j, "locked");
        if (!locked)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("lock-changed without locked"));
        return Event{LockChangedEvent{*locked}};
    }
    return fail(ErrorCode::InvalidRequest, QStringLiteral("unknown event"));
}

} // namespace ehrs::ipc
