// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "PolicyInfo.h"
#include "Result.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace ehrs::server {

/// What happens to a sign-in beyond a policy's session limit.
enum class OnSessionLimit { EndOldest, Refuse };

/// Device classes: a clinician's own device, or a workstation several clinicians share.
namespace deviceclass {
inline const QString personal = QStringLiteral("personal");
inline const QString shared = QStringLiteral("shared_workstation");
bool isKnown(const QString& name);
} // namespace deviceclass

/// One rule as IT sets it for a group or a device class (`policy set`): each setting is optional
/// (unset: this rule says nothing about it).
struct PolicyRule
{
    enum class Scope { Group, DeviceClass };
    Scope scope = Scope::Group;
    QString name; // the group ("nurses") or the device class ("shared_workstation")
    std::optional<int> idleTimeoutSeconds;
    std::optional<int> absoluteLifetimeSeconds;
    std::optional<bool> endOnLock;
    std::optional<int> maxSessions; // 0: no limit
    std::optional<OnSessionLimit> onLimit;
    std::optional<bool> mfaRequired;
    /// Shared workstations (server/workstation/): how long after a full sign-in a PIN brings the
    /// session back, and the wrong PINs that fall back to a full sign-in (migration 0012).
    std::optional<int> shiftWindowSeconds;
    std::optional<int> pinMaxFailures;
    qint64 updatedAt = 0;

    bool isEmpty() const;
    /// "group nurses" / "device class shared_workstation".
    QString scopeText() const;
    static QString scopeKind(Scope scope);
    /// Group names as users carry them (users.user_groups): lower-case [a-z0-9._-], 1..64.
    static bool isValidGroup(const QString& name);
};

/// The policy that applies to one session, resolved at sign-in (and again when IT changes a rule).
/// Its wire form (the `policy` object of the login, refresh and /api/auth/me responses and of the
/// `policy-changed` event) is the clients' model, common/PolicyInfo: one writer and one reader of
/// that JSON for server, agent and app. `onLimit` stays on the server.
struct SessionPolicy : SessionPolicyInfo
{
    OnSessionLimit onLimit = OnSessionLimit::EndOldest;

    SessionPolicy()
    {
        deviceClass = deviceclass::personal;
        shiftWindowSeconds = 43200; // never more than absoluteLifetimeSeconds
        pinMaxFailures = 3;
    }
    /// What the session row stores (the wire form plus `onLimit`); a missing shift setting keeps
    /// the default above.
    nlohmann::json toStoredJson() const;
    static std::optional<SessionPolicy> fromJson(const nlohmann::json& j);
    bool operator==(const SessionPolicy& o) const = default;
};

/// Combines the rules that apply to a session (docs/workstation-policy.md, "Which value wins"):
/// the rules of the user's groups and of the session's device class; for each setting the
/// strictest value any of them sets wins (the shortest idle timeout and lifetime, end on lock if
/// any says so, the smallest session limit, MFA if any requires it); where none sets a value, the
/// server-wide default (SESSION_IDLE_TIMEOUT, REFRESH_TOKEN_TTL, no end on lock, no limit, no MFA
/// requirement). The absolute lifetime never exceeds REFRESH_TOKEN_TTL. Among the rules that set
/// the winning (smallest) session limit, `refuse` wins over `end_oldest`.
class PolicyResolver
{
public:
    struct Defaults
    {
        int idleTimeoutSeconds = 43200;
        int absoluteLifetimeSeconds = 604800; // REFRESH_TOKEN_TTL: also the ceiling
        int shiftWindowSeconds = 43200;
        int pinMaxFailures = 3;
    };

    static SessionPolicy resolve(const Defaults& defaults, const std::vector<PolicyRule>& rules,
                                 const QStringList& groups, const QString& deviceClass);
    /// Whether `rule` applies to a session of a user in `groups` on a `deviceClass` device.
    static bool applies(const PolicyRule& rule, const QStringList& groups, const QString& deviceClass);

    /// The device class of a sign-in: what the client claims (`claimed`, empty: personal), made
    /// stricter when the address is in SHARED_WORKSTATION_NETWORKS. A client can only make itself
    /// stricter: a `personal` claim from a pinned network is a shared workstation. An unknown
    /// claim is InvalidRequest.
    [[nodiscard]] static Result<QString> deviceClassOf(const QString& claimed, const QString& ipAddress,
                                                       const QList<QPair<QHostAddress, int>>& sharedNetworks);
    /// Parses SHARED_WORKSTATION_NETWORKS: CIDRs (or addresses) separated by commas, spaces or
    /// semicolons.
    [[nodiscard]] static Result<QList<QPair<QHostAddress, int>>> parseNetworks(const QString& text);
};

} // namespace ehrs::server
