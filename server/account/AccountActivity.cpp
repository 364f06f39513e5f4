// SPDX-License-Identifier: Apache-2.0
#include "AccountActivity.h"

#include "WireModels.h"
#include "sessions/UserAgentParser.h"

#include <QUrlQuery>

namespace ehrs::server {
namespace {
// What a person can act on: their sign-ins and failed attempts, ended sessions, and changes to
// how they sign in. Refreshes and the like are bookkeeping, not activity.
constexpr const char* kShownEvents = "'login_success', 'login_failure', 'mfa_failure', 'mfa_locked', "
                                     "'reauth_failure', 'logout', 'session_revoked', "
                                     "'sessions_revoked_all_others', 'refresh_reuse_detected', "
                                     "'password_changed', 'mfa_enabled', 'mfa_disabled', 'mfa_reset', "
                                     "'backup_codes_regenerated'";

std::optional<qint64> positive(const QString& text)
{
    bool ok = false;
    const qint64 v = text.toLongLong(&ok);
    return ok && v > 0 && text.size() <= 19 ? std::optional<qint64>(v) : std::nullopt;
}

std::string text(const nlohmann::json& details, const char* key)
{
    auto it = details.find(key);
    return it != details.end() && it->is_string() ? it->get<std::string>().substr(0, 200) : std::string();
}
} // namespace

Result<ActivityQuery> ActivityQuery::parse(QByteArrayView query)
{
    ActivityQuery q;
    const QUrlQuery items(QString::fromUtf8(query));
    if (items.hasQueryItem(QStringLiteral("limit"))) {
        const auto limit = positive(items.queryItemValue(QStringLiteral("limit")));
        if (!limit || *limit > kMaxLimit)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("'limit' must be a number from 1 to %1").arg(kMaxLimit));
        q.limit = int(*limit);
    }
    if (items.hasQueryItem(QStringLiteral("cursor"))) {
        const QStringList parts = items.queryItemValue(QStringLiteral("cursor")).split(u'-');
        const auto time = parts.size() == 2 ? positive(parts[0]) : std::nullopt;
        const auto id = parts.size() == 2 ? positive(parts[1]) : std::nullopt;
        if (!time || !id)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("'cursor' must be the nextCursor of a previous page"));
        q.beforeTime = *time;
        q.beforeId = *id;
    }
    return q;
}

Result<nlohmann::json> AccountActivity::page(const AuthContext& who, const ActivityQuery& query)
{
    // Newest first along the (user_id, occurred_at) index; the cursor is the last row shown.
    QString sql =
        QStringLiteral("SELECT a.id, a.occurred_at, a.event, a.session_id, a.ip_address, a.user_agent, "
                       "a.details, s.device_type, s.device_name, s.device_os, s.device_browser "
                       "FROM audit_events a LEFT JOIN user_sessions s ON s.id = a.session_id "
                       "WHERE a.user_id = ? AND a.event IN (") +
        QLatin1String(kShownEvents) + QStringLiteral(")");
    QVariantList params{who.userId};
    if (query.beforeTime > 0) {
        sql += QStringLiteral(" AND (a.occurred_at < ? OR (a.occurred_at = ? AND a.id < ?))");
        params << query.beforeTime << query.beforeTime << query.beforeId;
    }
    sql += QStringLiteral(" ORDER BY a.occurred_at DESC, a.id DESC LIMIT ?");
    params << query.limit + 1; // one more says whether there is a next page
    auto q = m_db.exec(sql, params);
    if (!q)
        return fail(q.error());
    nlohmann::json events = nlohmann::json::array();
    QString nextCursor;
    qint64 lastTime = 0, lastId = 0;
    while ((*q)->next()) {
        if (int(events.size()) == query.limit) {
            nextCursor = QStringLiteral("%1-%2").arg(lastTime).arg(lastId);
            break;
        }
        lastId = (*q)->value(0).toLongLong();
        lastTime = (*q)->value(1).toLongLong();
        const QString sessionId = (*q)->value(3).toString();
        const QString ip = (*q)->value(4).toString();
        const std::string rawDetails = (*q)->value(6).toString().toStdString();
        nlohmann::json details = nlohmann::json::parse(rawDetails, nullptr, false);
        if (!details.is_object())
            details = nlohmann::json::object();
        // The device as the session list shows it when the event belongs to a session, else what
        // the client's User-Agent says.
        DeviceInfo device;
        if (!(*q)->value(7).isNull())
            device = DeviceInfo{(*q)->value(7).toString(), (*q)->value(8).toString(),
                                (*q)->value(9).toString(), (*q)->value(10).toString()};
        else
            device = parseUserAgent((*q)->value(5).toString());
        std::string place = text(details, "place");
        if (place.empty())
            place = m_sessions.placeOf(ip).toStdString();
        nlohmann::json e{{"id", QString::number(lastId).toStdString()},
                         {"event", (*q)->value(2).toString().toStdString()},
                         {"occurredAt", toIsoString(QDateTime::fromMSecsSinceEpoch(lastTime, Qt::UTC))},
                         {"ipAddress", ip.toStdString()},
                         {"place", place},
                         {"device",
                          {{"type", device.type.toStdString()},
                           {"name", device.name.toStdString()},
                           {"os", device.os.toStdString()},
                           {"browser", device.browser.toStdString()}}},
                         {"isCurrentSession", !sessionId.isEmpty() && sessionId == who.sessionId}};
        // Why it failed, or what the re-authentication was for: fixed words the server wrote.
        if (const std::string reason = text(details, "reason"); !reason.empty())
            e["reason"] = reason;
        if (const std::string action = text(details, "action"); !action.empty())
            e["action"] = action;
        events.push_back(std::move(e));
    }
    (*q)->finish();
    return nlohmann::json{{"success", true},
                          {"events", std::move(events)},
                          {"nextCursor", nextCursor.isEmpty() ? nlohmann::json(nullptr)
                                                              : nlohmann::json(nextCursor.toStdString())}};
}

} // namespace ehrs::server
