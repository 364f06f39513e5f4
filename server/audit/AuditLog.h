// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "db/Database.h"

#include <QHostAddress>
#include <QString>
#include <functional>
#include <nlohmann/json.hpp>

namespace ehrs::server {

/// Who did something, from where. Never carries a token, hash, password or code.
struct AuditActor
{
    QString userId;
    QString sessionId;
    QString ipAddress;
    QString userAgent;
};

/// Appends rows to `audit_events`: login success/failure, refresh, reuse detected, revoke,
/// revoke-all, logout, cleanup... Callers pass only non-secret details.
class AuditLog
{
public:
    /// Told of each audit row once it is written (the account event stream wakes its listeners:
    /// EventHub), in the writer's thread. A row written inside a transaction is told before the
    /// commit; listeners look again shortly after (api/EventStreams).
    using Observer =
        std::function<void(const QString& event, const AuditActor& actor, const nlohmann::json& details)>;

    explicit AuditLog(Database& db, Observer observer = {}) : m_db(db), m_observer(std::move(observer)) {}
    /// Best effort: a failure is logged, never turned into a failed request after the fact.
    void record(const QString& event, const AuditActor& actor, const nlohmann::json& details = nlohmann::json::object(),
                qint64 nowMs = 0);
    /// The log line of an audit event (record() writes it; a path that wrote the row in its own
    /// statement calls this once the row is committed).
    static void announce(const QString& event, const AuditActor& actor);
    /// announce() plus the observer: for a row another statement wrote and committed.
    void committed(const QString& event, const AuditActor& actor, const nlohmann::json& details);

private:
    Database& m_db;
    Observer m_observer;
};

} // namespace ehrs::server
