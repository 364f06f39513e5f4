// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "SessionEvents.h"
#include "SessionStore.h"
#include "audit/AuditLog.h"

#include <QObject>
#include <functional>
#include <memory>

namespace ehrs::server {

class Database;
class PgPool;

/// An audit row written in the same transaction as the change it describes.
struct AuditRow
{
    QString event;
    AuditActor actor;
    nlohmann::json details = nlohmann::json::object();
    qint64 atMs = 0;
};

/// The session queries of the request path, asynchronous: each answers through `done`, later, in
/// the calling thread (never inside the call), unless `context` was destroyed by then. Every
/// change is one round trip to PostgreSQL (a statement with its audit row in CTEs), so that a
/// worker serves other requests while it is in flight and concurrent commits share a WAL flush.
/// PostgresSessionQueries runs them on the worker's PgPool (libpq pipeline mode, deadlines: on a
/// deadline or a lost connection the answer is ErrorCode::Unavailable, i.e. 503 + Retry-After);
/// SqlSessionQueries runs the same operations on the embedded SQLite default (local file: no
/// network wait) through the worker's Database.
class SessionQueries
{
public:
    template <typename T>
    using Done = std::function<void(Result<T>)>;

    virtual ~SessionQueries() = default;

    virtual void find(const QString& id, QObject* context, Done<std::optional<SessionRecord>> done) = 0;
    /// The user's live sessions, most recently active first (at most 500).
    virtual void listLive(const QString& userId, qint64 nowMs, qint64 idleMs, QObject* context,
                          Done<std::vector<SessionRecord>> done) = 0;
    /// Use of the current pair (see SessionStore::touch).
    virtual void touch(const QString& id, const QByteArray& accessHash, qint64 nowMs, QObject* context,
                       Done<void> done) = 0;
    /// Ends one live session (only the user's own when `userId` is set) and writes `audit` in the
    /// same transaction; nullopt (and no audit row) when there was no such live session.
    virtual void revoke(const QString& id, const QString& userId, const QString& reason, qint64 nowMs,
                        const AuditRow& audit, QObject* context, Done<std::optional<SessionRecord>> done) = 0;
    /// Compare-and-swap rotation: stores `next` (hashes, generation, times, sealed retry token,
    /// address) only if the row still holds `expectedRefreshHash` at `expectedGeneration` and is
    /// not revoked, with `audit` in the same transaction. False when another refresh won the race
    /// (the caller reads the row again) or the session ended meanwhile.
    virtual void rotate(const SessionRecord& next, const QByteArray& expectedRefreshHash,
                        quint32 expectedGeneration, const AuditRow& audit, QObject* context, Done<bool> done) = 0;
    /// Writes an audit row on its own.
    virtual void record(const AuditRow& audit, QObject* context, Done<void> done) = 0;
    /// The account events of `userId` after event id `afterId`, oldest first, at most `limit`.
    virtual void accountEvents(const QString& userId, qint64 afterId, int limit, QObject* context,
                               Done<std::vector<AccountEventRow>> done) = 0;
    /// The id of `userId`'s latest account event (0: none): where a new stream starts.
    virtual void lastAccountEventId(const QString& userId, QObject* context, Done<qint64> done) = 0;
};

class PostgresSessionQueries final : public SessionQueries
{
public:
    explicit PostgresSessionQueries(PgPool& pool) : m_pool(pool) {}

    void find(const QString& id, QObject* context, Done<std::optional<SessionRecord>> done) override;
    void listLive(const QString& userId, qint64 nowMs, qint64 idleMs, QObject* context,
                  Done<std::vector<SessionRecord>> done) override;
    void touch(const QString& id, const QByteArray& accessHash, qint64 nowMs, QObject* context,
               Done<void> done) override;
    void revoke(const QString& id, const QString& userId, const QString& reason, qint64 nowMs, const AuditRow& audit,
                QObject* context, Done<std::optional<SessionRecord>> done) override;
    void rotate(const SessionRecord& next, const QByteArray& expectedRefreshHash, quint32 expectedGeneration,
                const AuditRow& audit, QObject* context, Done<bool> done) override;
    void record(const AuditRow& audit, QObject* context, Done<void> done) override;
    void accountEvents(const QString& userId, qint64 afterId, int limit, QObject* context,
                       Done<std::vector<AccountEventRow>> done) override;
    void lastAccountEventId(const QString& userId, QObject* context, Done<qint64> done) override;

private:
    PgPool& m_pool;
};

class SqlSessionQueries final : public SessionQueries
{
public:
    SqlSessionQueries(Database& db, SessionStore& sessions, AuditLog& audit)
        : m_db(db), m_sessions(sessions), m_audit(audit)
    {
    }

    void find(const QString& id, QObject* context, Done<std::optional<SessionRecord>> done) override;
    void listLive(const QString& userId, qint64 nowMs, qint64 idleMs, QObject* context,
                  Done<std::vector<SessionRecord>> done) override;
    void touch(const QString& id, const QByteArray& accessHash, qint64 nowMs, QObject* context,
               Done<void> done) override;
    void revoke(const QString& id, const QString& userId, const QString& reason, qint64 nowMs, const AuditRow& audit,
                QObject* context, Done<std::optional<SessionRecord>> done) override;
    void rotate(const SessionRecord& next, const QByteArray& expectedRefreshHash, quint32 expectedGeneration,
                const AuditRow& audit, QObject* context, Done<bool> done) override;
    void record(const AuditRow& audit, QObject* context, Done<void> done) override;
    void accountEvents(const QString& userId, qint64 afterId, int limit, QObject* context,
                       Done<std::vector<AccountEventRow>> done) override;
    void lastAccountEventId(const QString& userId, QObject* context, Done<qint64> done) override;

private:
    Database& m_db;
    SessionStore& m_sessions;
    AuditLog& m_audit;
};

} // namespace ehrs::server
