// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QString>
#include <nlohmann/json.hpp>
#include <vector>

namespace ehrs::server {

/// An `audit_events` row that is also an account event (SessionEvents::auditEventsSql()).
struct AccountEventRow
{
    qint64 id = 0;
    QString event;
    QString sessionId;
    qint64 occurredAt = 0;
    QString ipAddress;
    QString userAgent;
    nlohmann::json details = nlohmann::json::object();
};

/// One Server-Sent Event of GET /api/sessions/events.
struct AccountEvent
{
    qint64 id = 0;
    QByteArray type; // session-created, session-renamed, session-ended, revoked, password-changed,
                     // mfa-changed, policy-changed, suspicious-sign-in
    nlohmann::json data;
    bool endsStream = false; // `revoked`: the stream's own session ended
};

/// The account event stream is read from the audit log: each change the stream reports already
/// commits an audit row in its own transaction (login_success, logout, session_revoked, ...), so
/// the log is durable, ordered by the row id (the event id, for Last-Event-ID) and needs no
/// second write. This maps rows to events; the SQL selects rows by user and id.
class SessionEvents
{
public:
    /// `event IN (...)` list of the audit events that are account events, for SQL.
    static const char* auditEventsSql();
    static bool isAccountEvent(const QString& auditEvent);
    /// The events of one row as the stream of session `ownSessionId` sees them (a bulk sign-out
    /// is one event per ended session; the stream's own session ending is `revoked`).
    static std::vector<AccountEvent> fromAudit(const AccountEventRow& row, const QString& ownSessionId);
    /// The wire form: `id:`, `event:`, one `data:` line of JSON, blank line.
    static QByteArray sse(const AccountEvent& event);
};

} // namespace ehrs::server
