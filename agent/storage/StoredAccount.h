// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "PolicyInfo.h"
#include "Result.h"

#include <QByteArray>
#include <QString>

namespace ehrs::agent {

/// What survives a restart of the agent: one keychain entry per server and account. The access
/// token is deliberately absent: it lives in memory only.
struct StoredAccount
{
    QString serverUrl;
    QString userId;
    QString email;
    QString sessionId;
    QString refreshToken;
    /// The refresh token before `refreshToken` (the one its rotation consumed); empty until the
    /// first refresh. Presented once when the server calls `refreshToken` unknown: after a database
    /// failover that lost the last rotation, the server still holds this one as current.
    QString previousRefreshToken;
    /// The last policy the server sent for this session (issue 14); empty when it sent none.
    std::optional<SessionPolicyInfo> policy;
    /// Shared workstations (issue 14): when the clinician's shift PIN stops working (ms since the
    /// epoch; 0: no PIN set), and when the session was parked by "switch user" (0: not parked).
    /// A parked account is not refreshed; `resume` with the PIN brings it back.
    qint64 pinValidUntilMs = 0;
    qint64 parkedAtMs = 0;

    bool operator==(const StoredAccount&) const = default;
    /// Name of the keychain entry: one per server + account.
    QString storageKey() const;
    bool isParked() const { return parkedAtMs > 0; }
    /// Name of the keychain entry of the device credential for an account on a server: its own
    /// entry, since it outlives the account entry (sign-out deletes that one).
    static QString deviceCredentialKey(const QString& serverUrl, const QString& email);
    QByteArray toJson() const;
    [[nodiscard]] static Result<StoredAccount> fromJson(QByteArrayView json);
};

} // namespace ehrs::agent
