// SPDX-License-Identifier: Apache-2.0
#pragma once

// Bodies of the account endpoints (GET /api/auth/me, /api/auth/mfa/*, /api/auth/password) that
// common/WireModels.h does not model yet. Only the app reads them; move them to common/ once a
// second reader appears.

#include "PolicyInfo.h"
#include "Result.h"
#include "WireModels.h"

#include <QDateTime>
#include <QStringList>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

namespace ehrs::app {

/// GET /api/auth/me
struct AccountInfo
{
    UserDto user;
    QString sessionId;
    int backupCodesRemaining = 0;
    std::optional<SessionPolicyInfo> policy; // absent from servers before issue 14
};

/// POST /api/auth/mfa/setup
struct MfaEnrolment
{
    QString secret; // base32
    QString otpauthUri;
    QString issuer;
    QString account;
};

/// One event of GET /api/account/activity.
struct ActivityEvent
{
    QString id;
    QString event; // login_success, login_failure, session_revoked, password_changed, ...
    QDateTime occurredAt;
    QString ipAddress;
    QString place;
    DeviceInfo device;
    bool isCurrentSession = false;
    QString reason; // why it failed (wrong_password, wrong_code, ...), if it did
    QString action; // what a re-authentication was for
};

[[nodiscard]] Result<AccountInfo> accountInfoFromJson(const nlohmann::json& j);
[[nodiscard]] Result<MfaEnrolment> mfaEnrolmentFromJson(const nlohmann::json& j);
/// `{backupCodes:[...]}` of POST /api/auth/mfa/enable
[[nodiscard]] Result<QStringList> backupCodesFromJson(const nlohmann::json& j);
/// `{events:[...]}` of GET /api/account/activity
[[nodiscard]] Result<std::vector<ActivityEvent>> activityFromJson(const nlohmann::json& j);
/// `{revokedCount}` of DELETE /api/sessions and POST /api/auth/password
[[nodiscard]] Result<int> revokedCountFromJson(const nlohmann::json& j);

/// A remembered device (GET /api/account/devices): it skips the second sign-in step until `until`.
struct RememberedDeviceDto
{
    QString id;
    QString label;
    QDateTime rememberedAt;
    QDateTime until;
    QDateTime lastUsedAt;
    QString ipAddress;
    QString location;
};
[[nodiscard]] Result<std::vector<RememberedDeviceDto>> rememberedDevicesFromJson(const nlohmann::json& j);

} // namespace ehrs::app
