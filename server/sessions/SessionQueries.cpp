// SPDX-License-Identifier: Apache-2.0
#include "SessionQueries.h"

#include "db/Database.h"
#include "db/PgPool.h"

#include <QPointer>
#include <QUuid>

namespace ehrs::server {
namespace {
// The same columns, in the same order, as SessionStore reads.
#define EHRS_SESSION_COLUMNS                                                                                 \
    "id, user_id, access_token_hash, refresh_token_hash, prev_refresh_token_hash, rotation_counter, "        \
    "rotated_at, "                                                                                           \
    "expires_at, created_at, last_activity_at, revoked_at, revoke_reason, is_active, ip_address, "           \
    "user_agent, "                                                                                           \
    "device_type, device_name, device_os, device_browser, name, refresh_retry_sealed, idle_timeout_ms, "     \
    "device_class, policy, parked_at"

#define EHRS_AUDIT_INSERT                                                                                         \
    "INSERT INTO audit_events (occurred_at, event, user_id, session_id, ip_address, user_agent, details) "

using Param = std::optional<QByteArray>;

Param text(const QString& s)
{
    return s.isEmpty() ? Param() : Param(s.toUtf8());
}

Param bytes(const QByteArray& s)
{
    return s.isEmpty() ? Param() : Param(s);
}

Param number(qint64 n)
{
    return QByteArray::number(n);
}

bool validId(const QString& id)
{
    return !QUuid::fromString(id).isNull();
}

/// The audit row's parameters, in EHRS_AUDIT_INSERT's column order.
std::vector<Param> auditParams(const AuditRow& a)
{
    return {number(a.atMs), a.event.toUtf8(), text(a.actor.userId), text(a.actor.sessionId), text(a.actor.ipAddress),
            text(a.actor.userAgent.left(512)), QByteArray::fromStdString(a.details.dump())};
}

SessionRecord readSession(const PgResult& r, int row)
{
    SessionRecord s;
    s.id = r.text(row, 0);
    s.userId = r.text(row, 1);
    s.accessHash = r.value(row, 2).toByteArray();
    s.refreshHash = r.value(row, 3).toByteArray();
    s.prevRefreshHash = r.value(row, 4).toByteArray();
    s.generation = quint32(r.toLongLong(row, 5));
    s.rotatedAt = r.toLongLong(row, 6);
    s.expiresAt = r.toLongLong(row, 7);
    s.createdAt = r.toLongLong(row, 8);
    s.lastActivityAt = r.toLongLong(row, 9);
    if (!r.isNull(row, 10))
        s.revokedAt = r.toLongLong(row, 10);
    s.revokeReason = r.text(row, 11);
    s.isActive = r.toBool(row, 12);
    s.ipAddress = r.text(row, 13);
    s.userAgent = r.text(row, 14);
    s.device = deviceFromColumns(r.text(row, 15), r.text(row, 16), r.text(row, 17), r.text(row, 18));
    s.name = r.text(row, 19);
    s.retrySealed = r.value(row, 20).toByteArray();
    s.idleTimeoutMs = r.isNull(row, 21) ? 0 : r.toLongLong(row, 21);
    s.deviceClass = r.text(row, 22);
    s.policy = r.value(row, 23).toByteArray();
    if (!r.isNull(row, 24))
        s.parkedAt = r.toLongLong(row, 24);
    return s;
}

/// Calls `done` from the event loop of `context`'s thread: the embedded store answers at once, but
/// callers may rely on never being called back inside the call.
template <typename T>
void later(QObject* context, SessionQueries::Done<T> done, Result<T> result)
{
    QMetaObject::invokeMethod(
        context, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); },
        Qt::QueuedConnection);
}

/// Runs `change` and, when it applied, the audit row, in one transaction.
template <typename Change, typename Applied>
auto withAudit(Database& db, AuditLog& log, const AuditRow& audit, Change change, Applied applied) -> decltype(change())
{
    Transaction tx(db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    auto result = change();
    if (!result || !applied(*result))
        return result;
    log.record(audit.event, audit.actor, audit.details, audit.atMs);
    if (auto r = tx.commit(); !r)
        return fail(r.error());
    return result;
}
} // namespace

// --- PostgreSQL ------------------------------------------------------------------------------

void PostgresSessionQueries::find(const QString& id, QObject* context, Done<std::optional<SessionRecord>> done)
{
    if (!validId(id))
        return later(context, std::move(done), Result<std::optional<SessionRecord>>(std::nullopt));
    m_pool.submit(PgRequest{{PgQuery{"SELECT " EHRS_SESSION_COLUMNS " FROM user_sessions WHERE id = $1", {id.toLatin1()}}}},
                  context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
                      if (!r)
                          return done(fail(r.error()));
                      const PgResult& rows = r->front();
                      done(rows.rows() == 0 ? std::optional<SessionRecord>() : readSession(rows, 0));
                  });
}

void PostgresSessionQueries::listLive(const QString& userId, qint64 nowMs, qint64 idleMs, QObject* context,
                                      Done<std::vector<SessionRecord>> done)
{
    m_pool.submit(PgRequest{{PgQuery{"SELECT " EHRS_SESSION_COLUMNS
                                     " FROM user_sessions WHERE user_id = $1 AND is_active "
                                     "AND revoked_at IS NULL AND expires_at > $2 "
                                     "AND last_activity_at + COALESCE(idle_timeout_ms, $3) > $2 "
                                     "ORDER BY last_activity_at DESC, id LIMIT 500",
                                     {userId.toLatin1(), number(nowMs), number(idleMs)}}}},
                  context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
                      if (!r)
                          return done(fail(r.error()));
                      const PgResult& rows = r->front();
                      std::vector<SessionRecord> out;
                      out.reserve(size_t(rows.rows()));
                      for (int i = 0; i < rows.rows(); ++i)
                          out.push_back(readSession(rows, i));
                      done(std::move(out));
                  });
}

void PostgresSessionQueries::touch(const QString& id, const QByteArray& accessHash, qint64 nowMs, QObject* context,
                                   Done<void> done)
{
    m_pool.submit(PgRequest{{PgQuery{"UPDATE user_sessions SET refresh_retry_sealed = NULL, last_activity_at = $1 "
                                     "WHERE id = $2 AND access_token_hash = $3 AND revoked_at IS NULL",
                                     {number(nowMs), id.toLatin1(), accessHash}}}},
                  context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
                      if (!r)
                          return done(fail(r.error()));
                      done({});
                  });
}

void PostgresSessionQueries::revoke(const QString& id, const QString& userId, const QString& reason, qint64 nowMs,
                                    const AuditRow& audit, QObject* context, Done<std::optional<SessionRecord>> done)
{
    if (!validId(id))
        return later(context, std::move(done), Result<std::optional<SessionRecord>>(std::nullopt));
    // One statement: the revocation, its audit row (only if a row was revoked), one commit.
    std::vector<Param> params{number(nowMs), reason.toUtf8(), id.toLatin1(), text(userId)};
    for (Param& p : auditParams(audit))
        params.push_back(std::move(p));
    m_pool.submit(
        PgRequest{{PgQuery{"WITH r AS (UPDATE user_sessions SET revoked_at = $1, is_active = false, revoke_reason = $2, "
                           "refresh_retry_sealed = NULL WHERE id = $3 AND revoked_at IS NULL "
                           "AND ($4::uuid IS NULL OR user_id = $4::uuid) RETURNING " EHRS_SESSION_COLUMNS "), "
                           "a AS (" EHRS_AUDIT_INSERT "SELECT $5::bigint, $6::text, $7::uuid, $8::uuid, $9::text, $10::text, "
                           "$11::jsonb FROM r) "
                           "SELECT * FROM r",
                           std::move(params)}}},
        context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
            if (!r)
                return done(fail(r.error()));
            const PgResult& rows = r->front();
            done(rows.rows() == 0 ? std::optional<SessionRecord>() : readSession(rows, 0));
        });
}

void PostgresSessionQueries::rotate(const SessionRecord& s, const QByteArray& expectedRefreshHash,
                                    quint32 expectedGeneration, const AuditRow& audit, QObject* context,
                                    Done<bool> done)
{
    std::vector<Param> params{s.accessHash,         s.refreshHash,           bytes(s.prevRefreshHash),
                              bytes(s.retrySealed), number(s.generation),    number(s.rotatedAt),
                              number(s.lastActivityAt), text(s.ipAddress),   s.id.toLatin1(),
                              expectedRefreshHash,  number(expectedGeneration)};
    for (Param& p : auditParams(audit))
        params.push_back(std::move(p));
    m_pool.submit(
        PgRequest{{PgQuery{"WITH r AS (UPDATE user_sessions SET access_token_hash = $1, refresh_token_hash = $2, "
                           "prev_refresh_token_hash = $3, refresh_retry_sealed = $4, rotation_counter = $5, "
                           "rotated_at = $6, last_activity_at = $7, ip_address = COALESCE($8, ip_address) "
                           "WHERE id = $9 AND refresh_token_hash = $10 AND rotation_counter = $11 "
                           "AND revoked_at IS NULL RETURNING id), "
                           "a AS (" EHRS_AUDIT_INSERT "SELECT $12::bigint, $13::text, $14::uuid, $15::uuid, $16::text, $17::text, "
                           "$18::jsonb FROM r) "
                           "SELECT count(*) FROM r",
                           std::move(params)}}},
        context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
            if (!r)
                return done(fail(r.error()));
            done(r->front().toLongLong(0, 0) == 1);
        });
}

void PostgresSessionQueries::record(const AuditRow& audit, QObject* context, Done<void> done)
{
    m_pool.submit(PgRequest{{PgQuery{EHRS_AUDIT_INSERT "VALUES ($1::bigint, $2::text, $3::uuid, $4::uuid, $5::text, $6::text, $7::jsonb)", auditParams(audit)}}},
                  context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
                      if (!r)
                          return done(fail(r.error()));
                      done({});
                  });
}

void PostgresSessionQueries::accountEvents(const QString& userId, qint64 afterId, int limit, QObject* context,
                                           Done<std::vector<AccountEventRow>> done)
{
    if (!validId(userId))
        return later(context, std::move(done),
                     Result<std::vector<AccountEventRow>>(std::vector<AccountEventRow>{}));
    m_pool.submit(
        PgRequest{{PgQuery{
            QByteArray("SELECT id, event, session_id, occurred_at, ip_address, user_agent, details "
                       "FROM audit_events WHERE user_id = $1::uuid AND id > $2::bigint AND event IN ") +
                SessionEvents::auditEventsSql() + " ORDER BY id LIMIT $3::int",
            {userId.toLatin1(), number(afterId), number(limit)}}}},
        context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
            if (!r)
                return done(fail(r.error()));
            const PgResult& rows = r->front();
            std::vector<AccountEventRow> out;
            for (int i = 0; i < rows.rows(); ++i) {
                const QByteArray details = rows.value(i, 6).toByteArray();
                auto j = nlohmann::json::parse(details.begin(), details.end(), nullptr, false);
                out.push_back(AccountEventRow{rows.toLongLong(i, 0), rows.text(i, 1), rows.text(i, 2),
                                              rows.toLongLong(i, 3), rows.text(i, 4), rows.text(i, 5),
                                              j.is_object() ? j : nlohmann::json::object()});
            }
            done(std::move(out));
        });
}

void PostgresSessionQueries::lastAccountEventId(const QString& userId, QObject* context, Done<qint64> done)
{
    if (!validId(userId))
        return later(context, std::move(done), Result<qint64>(0));
    m_pool.submit(
        PgRequest{{PgQuery{QByteArray("SELECT COALESCE(MAX(id), 0) FROM audit_events WHERE user_id = "
                                      "$1::uuid AND event IN ") +
                               SessionEvents::auditEventsSql(),
                           {userId.toLatin1()}}}},
        context, [done = std::move(done)](Result<std::vector<PgResult>> r) {
            if (!r)
                return done(fail(r.error()));
            done(r->front().rows() ? r->front().toLongLong(0, 0) : qint64(0));
        });
}

// --- SQLite (and any QSql database) -----------------------------------------------------------

void SqlSessionQueries::find(const QString& id, QObject* context, Done<std::optional<SessionRecord>> done)
{
    later(context, std::move(done), m_sessions.find(id));
}

void SqlSessionQueries::listLive(const QString& userId, qint64 nowMs, qint64 idleMs, QObject* context,
                                 Done<std::vector<SessionRecord>> done)
{
    later(context, std::move(done), m_sessions.listLive(userId, nowMs, idleMs));
}

void SqlSessionQueries::touch(const QString& id, const QByteArray& accessHash, qint64 nowMs, QObject* context,
                              Done<void> done)
{
    later(context, std::move(done), m_sessions.touch(id, accessHash, nowMs));
}

void SqlSessionQueries::revoke(const QString& id, const QString& userId, const QString& reason, qint64 nowMs,
                               const AuditRow& audit, QObject* context, Done<std::optional<SessionRecord>> done)
{
    later(context, std::move(done),
          withAudit(m_db, m_audit, audit, [&] { return m_sessions.revoke(id, userId, reason, nowMs); },
                    [](const std::optional<SessionRecord>& row) { return row.has_value(); }));
}

void SqlSessionQueries::rotate(const SessionRecord& next, const QByteArray& expectedRefreshHash,
                               quint32 expectedGeneration, const AuditRow& audit, QObject* context, Done<bool> done)
{
    later(context, std::move(done),
          withAudit(m_db, m_audit, audit,
                    [&] { return m_sessions.rotateIf(next, expectedRefreshHash, expectedGeneration); },
                    [](bool swapped) { return swapped; }));
}

void SqlSessionQueries::record(const AuditRow& audit, QObject* context, Done<void> done)
{
    m_audit.record(audit.event, audit.actor, audit.details, audit.atMs);
    later(context, std::move(done), Result<void>());
}

void SqlSessionQueries::accountEvents(const QString& userId, qint64 afterId, int limit, QObject* context,
                                      Done<std::vector<AccountEventRow>> done)
{
    auto q =
        m_db.exec(QStringLiteral("SELECT id, event, session_id, occurred_at, ip_address, user_agent, details "
                                 "FROM audit_events WHERE user_id = ? AND id > ? AND event IN ") +
                      QLatin1String(SessionEvents::auditEventsSql()) + QStringLiteral(" ORDER BY id LIMIT ?"),
                  {userId, afterId, limit});
    if (!q)
        return later(context, std::move(done), Result<std::vector<AccountEventRow>>(fail(q.error())));
    std::vector<AccountEventRow> out;
    QSqlQuery* rows = *q;
    while (rows->next()) {
        const QByteArray details = rows->value(6).toString().toUtf8();
        auto j = nlohmann::json::parse(details.begin(), details.end(), nullptr, false);
        out.push_back(AccountEventRow{rows->value(0).toLongLong(), rows->value(1).toString(),
                                      rows->value(2).toString(), rows->value(3).toLongLong(),
                                      rows->value(4).toString(), rows->value(5).toString(),
                                      j.is_object() ? j : nlohmann::json::object()});
    }
    rows->finish();
    later(context, std::move(done), Result<std::vector<AccountEventRow>>(std::move(out)));
}

void SqlSessionQueries::lastAccountEventId(const QString& userId, QObject* context, Done<qint64> done)
{
    auto q = m_db.exec(
        QStringLiteral("SELECT COALESCE(MAX(id), 0) FROM audit_events WHERE user_id = ? AND event IN ") +
            QLatin1String(SessionEvents::auditEventsSql()),
        {userId});
    if (!q)
        return later(context, std::move(done), Result<qint64>(fail(q.error())));
    const qint64 id = (*q)->next() ? (*q)->value(0).toLongLong() : 0;
    (*q)->finish();
    later(context, std::move(done), Result<qint64>(id));
}

} // namespace ehrs::server
