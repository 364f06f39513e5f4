// SPDX-License-Identifier: Apache-2.0
#include "PolicyStore.h"

#include <QUuid>

namespace ehrs::server {
namespace {
const QString kColumns =
    QStringLiteral("scope_kind, scope_name, idle_timeout_seconds, absolute_lifetime_seconds, "
                   "end_on_lock, max_sessions, on_limit, mfa_required, updated_at, shift_window_seconds, pin_max_failures");

template <typename T> QVariant orNull(const std::optional<T>& v)
{
    return v ? QVariant::fromValue(*v) : QVariant(QMetaType::fromType<T>());
}

std::optional<int> intOf(const QVariant& v)
{
    return v.isNull() ? std::nullopt : std::optional<int>(v.toInt());
}

std::optional<bool> boolOf(const QVariant& v)
{
    return v.isNull() ? std::nullopt : std::optional<bool>(v.toBool());
}

PolicyRule ruleOf(const QSqlQuery* q)
{
    PolicyRule r;
    r.scope = q->value(0).toString() == u"group" ? PolicyRule::Scope::Group : PolicyRule::Scope::DeviceClass;
    r.name = q->value(1).toString();
    r.idleTimeoutSeconds = intOf(q->value(2));
    r.absoluteLifetimeSeconds = intOf(q->value(3));
    r.endOnLock = boolOf(q->value(4));
    r.maxSessions = intOf(q->value(5));
    if (!q->value(6).isNull())
        r.onLimit = q->value(6).toString() == u"refuse" ? OnSessionLimit::Refuse : OnSessionLimit::EndOldest;
    r.mfaRequired = boolOf(q->value(7));
    r.updatedAt = q->value(8).toLongLong();
    r.shiftWindowSeconds = intOf(q->value(9));
    r.pinMaxFailures = intOf(q->value(10));
    return r;
}
} // namespace

Result<std::vector<PolicyRule>> PolicyStore::all()
{
    auto q = m_db.exec(QStringLiteral("SELECT ") + kColumns +
                       QStringLiteral(" FROM session_policies ORDER BY scope_kind, scope_name"));
    if (!q)
        return fail(q.error());
    std::vector<PolicyRule> out;
    while ((*q)->next())
        out.push_back(ruleOf(*q));
    (*q)->finish();
    return out;
}

Result<std::optional<PolicyRule>> PolicyStore::find(PolicyRule::Scope scope, const QString& name)
{
    auto q = m_db.exec(QStringLiteral("SELECT ") + kColumns +
                           QStringLiteral(" FROM session_policies WHERE scope_kind = ? AND scope_name = ?"),
                       {PolicyRule::scopeKind(scope), name});
    if (!q)
        return fail(q.error());
    std::optional<PolicyRule> out;
    if ((*q)->next())
        out = ruleOf(*q);
    (*q)->finish();
    return out;
}

Result<void> PolicyStore::put(const PolicyRule& r)
{
    const std::optional<QString> onLimit =
        r.onLimit
            ? std::optional<QString>(*r.onLimit == OnSessionLimit::Refuse ? QStringLiteral("refuse")
                                                                          : QStringLiteral("end_oldest"))
            : std::nullopt;
    auto done = m_db.execute(
        QStringLiteral("INSERT INTO session_policies (") + kColumns +
            QStringLiteral(
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope_kind, scope_name) DO UPDATE SET "
                "idle_timeout_seconds = excluded.idle_timeout_seconds, "
                "absolute_lifetime_seconds = excluded.absolute_lifetime_seconds, "
                "end_on_lock = excluded.end_on_lock, max_sessions = excluded.max_sessions, "
                "on_limit = excluded.on_limit, mfa_required = excluded.mfa_required, "
                "updated_at = excluded.updated_at, shift_window_seconds = excluded.shift_window_seconds, "
                "pin_max_failures = excluded.pin_max_failures"),
        {PolicyRule::scopeKind(r.scope), r.name, orNull(r.idleTimeoutSeconds),
         orNull(r.absoluteLifetimeSeconds), orNull(r.endOnLock), orNull(r.maxSessions), orNull(onLimit),
         orNull(r.mfaRequired), r.updatedAt, orNull(r.shiftWindowSeconds), orNull(r.pinMaxFailures)});
    if (!done)
        return fail(done.error());
    return {};
}

Result<bool> PolicyStore::remove(PolicyRule::Scope scope, const QString& name)
{
    auto n =
        m_db.execute(QStringLiteral("DELETE FROM session_policies WHERE scope_kind = ? AND scope_name = ?"),
                     {PolicyRule::scopeKind(scope), name});
    if (!n)
        return fail(n.error());
    return *n > 0;
}

QStringList PolicyStore::splitGroups(const QString& column)
{
    QStringList groups = column.split(u',', Qt::SkipEmptyParts);
    for (QString& g : groups)
        g = g.trimmed();
    groups.removeAll(QString());
    groups.sort();
    groups.removeDuplicates();
    return groups;
}

Result<QStringList> PolicyStore::groupsOf(const QString& userId)
{
    if (QUuid::fromString(userId).isNull())
        return QStringList();
    auto q = m_db.exec(QStringLiteral("SELECT user_groups FROM users WHERE id = ?"), {userId});
    if (!q)
        return fail(q.error());
    QStringList groups;
    if ((*q)->next())
        groups = splitGroups((*q)->value(0).toString());
    (*q)->finish();
    return groups;
}

Result<void> PolicyStore::setGroups(const QString& userId, QStringList groups, qint64 nowMs)
{
    for (QString& g : groups) {
        g = g.trimmed().toLower();
        if (!PolicyRule::isValidGroup(g))
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("'%1' is not a group name (lower-case letters, digits, '.', '_', '-')")
                            .arg(g));
    }
    groups.sort();
    groups.removeDuplicates();
    auto r = m_db.execute(QStringLiteral("UPDATE users SET user_groups = ?, updated_at = ? WHERE id = ?"),
                          {groups.join(u','), nowMs, userId});
    if (!r)
        return fail(r.error());
    return {};
}

} // namespace ehrs::server
