// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>
#include <QStringList>
#include <nlohmann/json_fwd.hpp>
#include <optional>

namespace ehrs {

/// IT's session policy for this account on this device, as the server hands it out (issue 14):
/// the `policy` object of the login, refresh and /api/auth/me answers and of the event stream's
/// `policy-changed` event (docs/api.md, "Session policy"). The agent acts on endOnLock; the app
/// shows it on the Security page; the server enforces the rest. Absent: a server from before
/// issue 14 (the session survives a screen lock).
struct SessionPolicyInfo
{
    int idleTimeoutSeconds = 0;
    int absoluteLifetimeSeconds = 0;
    bool endOnLock = false;
    int maxSessions = 0;
    bool mfaRequired = false;
    QString deviceClass; // "personal" or "shared_workstation"
    QStringList groups;
    int shiftWindowSeconds = 0; // shared workstations: how long the shift PIN resumes a parked session
    int pinMaxFailures = 0;     // shared workstations: wrong PINs before a full sign-in is needed

    bool operator==(const SessionPolicyInfo&) const = default;
    /// The `policy` object; fields of the wrong type are left at their defaults, unknown ones ignored.
    /// Empty when `j` is not an object.
    static std::optional<SessionPolicyInfo> fromJson(const nlohmann::json& j);
    /// `body["policy"]` when the body has one.
    static std::optional<SessionPolicyInfo> fromBody(const nlohmann::json& body);
    nlohmann::json toJson() const;
};

} // namespace ehrs
