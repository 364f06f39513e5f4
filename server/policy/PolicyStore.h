// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "db/Database.h"
#include "policy/SessionPolicy.h"

#include <optional>
#include <vector>

namespace ehrs::server {

/// The `session_policies` table (migration 0011): the rules IT sets with `policy set`, and the
/// groups of a user (users.user_groups) that select the group rules.
class PolicyStore
{
public:
    explicit PolicyStore(Database& db) : m_db(db) {}

    [[nodiscard]] Result<std::vector<PolicyRule>> all();
    [[nodiscard]] Result<std::optional<PolicyRule>> find(PolicyRule::Scope scope, const QString& name);
    /// Inserts or replaces the rule of its scope.
    [[nodiscard]] Result<void> put(const PolicyRule& rule);
    /// false when there was no such rule.
    [[nodiscard]] Result<bool> remove(PolicyRule::Scope scope, const QString& name);
    /// The groups of a user, sorted (empty: none, or no such user).
    [[nodiscard]] Result<QStringList> groupsOf(const QString& userId);
    /// Sets a user's groups (`user groups EMAIL a,b`); each must be a valid group name.
    [[nodiscard]] Result<void> setGroups(const QString& userId, QStringList groups, qint64 nowMs);
    /// users.user_groups as a list.
    static QStringList splitGroups(const QString& column);

private:
    Database& m_db;
};

} // namespace ehrs::server
