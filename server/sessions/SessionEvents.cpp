// SPDX-License-Identifier: Apache-2.0
#include "SessionEvents.h"

#include "UserAgentParser.h"

#include <QDateTime>
#include <QStringList>

namespace ehrs::server {
namespace {
std::string isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toStdString();
}

std::string reasonMessage(const std::string& reason, int limit = 0)
{
    if (reason == "session_limit")
        return limit > 0
                   ? "Signed out because you signed in on another device (limit: " + std::to_string(limit) +
                         (limit == 1 ? " session)" : " sessions)")
                   : "Signed out because you signed in on another device";
    if (reason == "logout")
        return "This session was signed out";
    if (reason == "refresh_token_reused")
        return "This session was ended because an old refresh token was used again";
    if (reason == "password_changed")
        return "This session was ended because the account's password was changed";
    if (reason == "mfa_reset")
        return "This session was ended because IT reset two-step verification";
    if (reason == "revoked_by_user")
        return "This session was ended from another device";
    return "This session was ended by IT";
}

std::string text(const nlohmann::json& j, const char* key)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
/// "Chrome 120 on Windows 10/11" from a User-Agent, as the session list says it; "" when unknown.
std::string deviceText(const QString& userAgent)
{
    const DeviceInfo d = parseUserAgent(userAgent);
    if (!d.browser.isEmpty() && !d.os.isEmpty())
        return QStringLiteral("%1 on %2").arg(d.browser, d.os).toStdString();
    return (d.name.isEmpty() ? d.browser : d.name).toStdString();
}
} // namespace

const char* SessionEvents::auditEventsSql()
{
    return "('login_success', 'session_renamed', 'session_revoked', 'logout', 'refresh_reuse_detected', "
           "'sessions_revoked_all_others', 'sessions_ended', 'password_changed', 'mfa_enabled', "
           "'mfa_disabled', "
           "'mfa_reset', 'policy_changed', 'suspicious_login')";
}

bool SessionEvents::isAccountEvent(const QString& e)
{
    static const QStringList events{QStringLiteral("login_success"),
                                    QStringLiteral("session_renamed"),
                                    QStringLiteral("session_revoked"),
                                    QStringLiteral("logout"),
                                    QStringLiteral("refresh_reuse_detected"),
                                    QStringLiteral("sessions_revoked_all_others"),
                                    QStringLiteral("sessions_ended"),
                                    QStringLiteral("password_changed"),
                                    QStringLiteral("mfa_enabled"),
                                    QStringLiteral("mfa_disabled"),
                                    QStringLiteral("mfa_reset"),
                                    QStringLiteral("policy_changed"),
                                    QStringLiteral("suspicious_login")};
    return events.contains(e);
}

std::vector<AccountEvent> SessionEvents::fromAudit(const AccountEventRow& row, const QString& ownSessionId)
{
    std::vector<AccountEvent> out;
    const std::string at = isoTime(row.occurredAt);
    auto ended = [&](const std::string& sessionId, const std::string& reason) {
        if (sessionId.empty())
            return;
        const bool own = QString::fromStdString(sessionId) == ownSessionId;
        out.push_back(AccountEvent{row.id,
                                   own ? QByteArray("revoked") : QByteArray("session-ended"),
                                   {{"sessionId", sessionId},
                                    {"reason", reason},
                                    {"message", reasonMessage(reason, row.details.value("limit", 0))},
                                    {"at", at},
                                    {"current", own}},
                                   own});
    };
    auto endedMany = [&](const char* key, const std::string& reason) {
        const auto it = row.details.find(key);
        if (it == row.details.end() || !it->is_array())
            return;
        for (const auto& id : *it) {
            if (id.is_string())
                ended(id.get<std::string>(), reason);
        }
    };
    const QString& e = row.event;
    if (e == u"login_success") {
        out.push_back(AccountEvent{row.id,
                                   "session-created",
                                   {{"sessionId", row.sessionId.toStdString()},
                                    {"ipAddress", row.ipAddress.toStdString()},
                                    {"userAgent", row.userAgent.toStdString()},
                                    {"place", text(row.details, "place")},
                                    {"deviceType", text(row.details, "device")},
                                    {"at", at},
                                    {"current", row.sessionId == ownSessionId}}});
    } else if (e == u"session_renamed") {
        out.push_back(AccountEvent{row.id,
                                   "session-renamed",
                                   {{"sessionId", text(row.details, "renamedSession")},
                                    {"name", text(row.details, "name")},
                                    {"at", at}}});
    } else if (e == u"session_revoked") {
        ended(text(row.details, "revokedSession"), "revoked_by_user");
    } else if (e == u"logout") {
        ended(row.sessionId.toStdString(), "logout");
    } else if (e == u"refresh_reuse_detected") {
        ended(row.sessionId.toStdString(), "refresh_token_reused");
    } else if (e == u"sessions_revoked_all_others") {
        endedMany("sessionIds", "revoked_by_user");
    } else if (e == u"sessions_ended") {
        std::string reason = text(row.details, "reason");
        endedMany("sessionIds", reason.empty() ? "revoked_by_admin" : reason);
    } else if (e == u"password_changed") {
        out.push_back(AccountEvent{row.id, "password-changed", {{"at", at}}});
    } else if (e == u"suspicious_login") {
        // Issue 18: a sign-in with the right password that looks unusual, with the reasons in words.
        const auto reasons = row.details.find("reasons");
        out.push_back(AccountEvent{
            row.id,
            "suspicious-sign-in",
            {{"ipAddress", row.ipAddress.toStdString()},
             {"userAgent", row.userAgent.toStdString()},
             {"device", deviceText(row.userAgent)},
             {"place", text(row.details, "place")},
             {"reasons",
              reasons != row.details.end() && reasons->is_array() ? *reasons : nlohmann::json::array()},
             {"stepUp", row.details.value("stepUp", false)},
             {"at", at}}});
    } else if (e == u"mfa_enabled" || e == u"mfa_disabled" || e == u"mfa_reset") {
        out.push_back(AccountEvent{row.id, "mfa-changed", {{"enabled", e == u"mfa_enabled"}, {"at", at}}});
    } else if (e == u"policy_changed") {
        // IT changed a rule: each live session of the user got its policy again; the stream of a
        // session hears its own (details.policies maps session ids to policies).
        const auto policies = row.details.find("policies");
        if (policies != row.details.end() && policies->is_object()) {
            const auto own = policies->find(ownSessionId.toStdString());
            if (own != policies->end() && own->is_object())
                out.push_back(AccountEvent{row.id, "policy-changed", {{"policy", *own}}});
        }
    }
    return out;
}

QByteArray SessionEvents::sse(const AccountEvent& event)
{
    // dump() escapes control characters, so the JSON is one line: one data field.
    return "id: " + QByteArray::number(event.id) + "\nevent: " + event.type +
           "\ndata: " + QByteArray::fromStdString(event.data.dump()) + "\n\n";
}

} // namespace ehrs::server
