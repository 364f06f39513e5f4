// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>
#include <QStringList>
#include <nlohmann/json_fwd.hpp>
#include <optional>

namespace ehrs::agent {

/// IT's session policy for this account on this device, as the server hands it out (issue 14):
/// the `policy` object of the login, refresh and /api/auth/me answers and of the event stream's
/// `policy-changed` event. The agent acts on endOnLock; the rest is enforced by the server and
/// kept for status. Absent: today's behaviour (the session survives a screen lock).
struct SessionPolicy
{
    int idleTimeoutSeconds = 0;
    int absoluteLifetimeSeconds = 0;
    bool endOnLock = false;
    int maxSessions = 0;
    bool mfaRequired = false;
    QString deviceClass; // "personal" or "shared_workstation"
    QStringList groups;

    bool operator==(const SessionPolicy&) const = default;
    /// The `policy` object; fields of the wrong type are left at their defaults, unknown ones ignored.
    /// Empty when `j` is not an object.
    static std::optional<SessionPolicy> fromJson(const nlohmann::json& j);
    /// `body["policy"]` when the body has one.
    static std::optional<SessionPolicy> fromBody(const nlohmann::json& body);
    nlohmann::json toJson() const;
};

} // namespace ehrs::agent
