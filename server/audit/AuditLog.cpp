// SPDX-License-Identifier: Apache-2.0
#include "AuditLog.h"

#include "LogHandler.h"
#include "Logging.h"

#include <QDateTime>

namespace ehrs::server {
namespace {
QVariant nullable(const QString& s)
{
    return s.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(s);
}
} // namespace

void AuditLog::record(const QString& event, const AuditActor& actor, const nlohmann::json& details, qint64 nowMs)
{
    if (nowMs == 0)
        nowMs = QDateTime::currentMSecsSinceEpoch();
    const std::string d = details.dump();
    auto r = m_db.execute(QStringLiteral("INSERT INTO audit_events (occurred_at, event, user_id, session_id, ip_address, "
                                         "user_agent, details) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                          {nowMs, event, nullable(actor.userId), nullable(actor.sessionId), nullable(actor.ipAddress),
                           nullable(actor.userAgent.left(512)), QString::fromStdString(d)});
    if (!r)
        qCWarning(lcAudit) << "could not write audit event" << event << ":" << r.error().message;
    committed(event, actor, details);
}

void AuditLog::committed(const QString& event, const AuditActor& actor, const nlohmann::json& details)
{
    announce(event, actor);
    if (m_observer)
        m_observer(event, actor, details);
}

void AuditLog::announce(const QString& event, const AuditActor& actor)
{
    // Structured in the journal: `journalctl EVENT=login_failure USER_ID=...` (docs/operations.md).
    const LogFields fields({{"EVENT", event.toUtf8()},
                            {"USER_ID", actor.userId.toUtf8()},
                            {"SESSION_ID", actor.sessionId.toUtf8()},
                            {"CLIENT_IP", actor.ipAddress.toUtf8()}});
    qCInfo(lcAudit).noquote() << "audit" << event << "user" << actor.userId << "session" << actor.sessionId << "ip"
                              << actor.ipAddress;
}

} // namespace ehrs::server
