// SPDX-License-Identifier: Apache-2.0
#pragma once

// Bodies of the account endpoints (GET /api/auth/me, /api/auth/mfa/*, /api/auth/password) that
// common/WireModels.h does not model yet. Only the app reads them; move them to common/ once a
// second reader appears.

#include "Result.h"
#include "WireModels.h"

#include <QStringList>
#include <nlohmann/json_fwd.hpp>

namespace ehrs::app {

/// GET /api/auth/me
struct AccountInfo
{
    UserDto user;
    QString sessionId;
    int backupCodesRemaining = 0;
};

/// POST /api/auth/mfa/setup
struct MfaEnrolment
{
    QString secret; // base32
    QString otpauthUri;
    QString issuer;
    QString account;
};

[[nodiscard]] Result<AccountInfo> accountInfoFromJson(const nlohmann::json& j);
[[nodiscard]] Result<MfaEnrolment> mfaEnrolmentFromJson(const nlohmann::json& j);
/// `{backupCodes:[...]}` of POST /api/auth/mfa/enable
[[nodiscard]] Result<QStringList> backupCodesFromJson(const nlohmann::json& j);
/// `{revokedCount}` of DELETE /api/sessions and POST /api/auth/password
[[nodiscard]] Result<int> revokedCountFromJson(const nlohmann::json& j);

} // namespace ehrs::app
