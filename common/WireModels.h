// SPDX-License-Identifier: Apache-2.0
#pragma once

// JSON models of the HTTP API (docs/api.md), shared by the server that writes them and the agent
// and app that read them. Field names are kept from the system EHR Sessions replaces.

#include "DeviceInfo.h"
#include "Result.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

namespace ehrs {

struct UserDto
{
    QString id;
    QString email;
    QString name;
    QString role; // "user" or "admin"
    bool mfaEnabled = false;
};

/// POST /api/auth/login request.
struct LoginRequest
{
    QString email;
    QString password;
    std::optional<DeviceInfo> deviceInfo;
    /// The device credential an earlier sign-in of this account on this device returned (empty:
    /// none). With it, other clients' failures do not lock this one out.
    QString deviceCredential;
};

/// Body of a successful login, MFA verification or refresh: `token` and `accessToken` carry the
/// same value. `user` is absent on refresh.
struct AuthTokens
{
    std::optional<UserDto> user;
    QString accessToken;
    QString refreshToken;
    qint64 expiresIn = 0; // seconds
    QString sessionId;
    /// Login and MFA verification only: the device credential to present at this account's
    /// next login from this device (empty on refresh).
    QString deviceCredential;
    /// MFA verification with `rememberDevice` only: whether the server remembered the device
    /// (read from answers; the server writes its own field).
    std::optional<bool> deviceRemembered;
};

/// Body of a login that needs a second factor.
struct MfaChallenge
{
    QString mfaToken;
    QStringList methods; // "totp", "backup_code"
};

/// One row of GET /api/sessions.
struct SessionDto
{
    QString id;
    QString name; // the user's name for the session, or empty
    QDateTime createdAt;
    QDateTime lastActivityAt;
    QDateTime expiresAt;
    QString ipAddress;
    QString location;
    QString userAgent;
    DeviceInfo deviceInfo;
    bool isActive = true;
    bool isCurrent = false;
    /// Parked on a shared workstation ("switch user"): resumes with the clinician's PIN.
    bool parked = false;
};

/// `{error, message}` of a failed request, with Retry-After when the server sent one.
struct ApiError
{
    QString error;
    QString message;
};

void to_json(nlohmann::json& j, const UserDto& u);
void to_json(nlohmann::json& j, const AuthTokens& t);
void to_json(nlohmann::json& j, const MfaChallenge& c);
void to_json(nlohmann::json& j, const SessionDto& s);
void to_json(nlohmann::json& j, const LoginRequest& r);

[[nodiscard]] Result<LoginRequest> loginRequestFromJson(const nlohmann::json& j);
[[nodiscard]] Result<UserDto> userFromJson(const nlohmann::json& j);
[[nodiscard]] Result<AuthTokens> authTokensFromJson(const nlohmann::json& j);
[[nodiscard]] Result<MfaChallenge> mfaChallengeFromJson(const nlohmann::json& j);
[[nodiscard]] Result<SessionDto> sessionFromJson(const nlohmann::json& j);
/// `{success, sessions:[...], total}`
[[nodiscard]] Result<std::vector<SessionDto>> sessionListFromJson(const nlohmann::json& j);
/// Reads an error body; when the body is not one, the code comes from the HTTP status.
Error apiErrorFromJson(const nlohmann::json& j, int httpStatus);

/// ISO 8601 UTC with milliseconds, e.g. 2026-11-28T07:18:33.000Z
std::string toIsoString(const QDateTime& t);
/// The same from milliseconds since the epoch (what toIsoString() uses).
std::string isoStringFromMs(qint64 ms);
QDateTime fromIsoString(const std::string& s);

/// Input-checking helpers for JSON request bodies (clear 400s instead of exceptions).
namespace json {
/// Required string field, trimmed of nothing, at most `maxLength` characters.
[[nodiscard]] Result<QString> requiredString(const nlohmann::json& obj, const char* field, qsizetype maxLength);
/// The same, trimmed; a value of only whitespace is an error too (emails, codes).
[[nodiscard]] Result<QString> requiredTrimmed(const nlohmann::json& obj, const char* field, qsizetype maxLength);
/// Optional string field: empty when absent or null.
[[nodiscard]] Result<QString> optionalString(const nlohmann::json& obj, const char* field, qsizetype maxLength);
/// Parses a request body that must be a JSON object.
[[nodiscard]] Result<nlohmann::json> parseObject(QByteArrayView body);
} // namespace json

} // namespace ehrs
