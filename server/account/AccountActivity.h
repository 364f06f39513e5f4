// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "auth/AuthContext.h"
#include "db/Database.h"
#include "sessions/SessionService.h"

#include <QByteArrayView>
#include <nlohmann/json.hpp>

namespace ehrs::server {

/// One page of `GET /api/account/activity`: how many events, and where the previous page ended.
struct ActivityQuery
{
    static constexpr int kDefaultLimit = 20;
    static constexpr int kMaxLimit = 100;
    int limit = kDefaultLimit;
    qint64 beforeTime = 0; // 0: from the newest event
    qint64 beforeId = 0;

    /// `limit=1..100` and `cursor=<the nextCursor of the previous page>`; anything else is 400.
    [[nodiscard]] static Result<ActivityQuery> parse(QByteArrayView query);
};

/// The account holder's recent security activity, read from `audit_events`: sign-ins (successful
/// and failed), second-factor failures, re-authentication failures, sign-outs and revocations,
/// password and two-step changes, newest first. Only rows of the caller's own user id, only the
/// events listed in AccountActivity.cpp, and of each only fields that are safe to show (where,
/// from which device, why it failed): never a token, hash, code or another account's row.
class AccountActivity
{
public:
    AccountActivity(Database& db, const SessionService& sessions) : m_db(db), m_sessions(sessions) {}

    /// `{success, events: [...], nextCursor}` (nextCursor null on the last page).
    [[nodiscard]] Result<nlohmann::json> page(const AuthContext& who, const ActivityQuery& query);

private:
    Database& m_db;
    const SessionService& m_sessions;
};

} // namespace ehrs::server
