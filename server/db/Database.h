// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QHash>
#include <QString>
#include <QVariant>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlQuery>
#include <chrono>
#include <memory>

namespace ehrs::server {

class QueryWatchdog;

/// One connection to PostgreSQL or SQLite, used by one thread. Prepared statements are cached per
/// connection; a lost PostgreSQL connection is detected, reported as ErrorCode::Unavailable (503
/// with Retry-After) and re-established on the next use.
class Database
{
public:
    enum class Kind { Postgres, Sqlite };

    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// `url`: postgres://user:pass@host:port/db?sslmode=... (several hosts:
    /// postgres://user:pass@db1:5432,db2:5432/db?target_session_attrs=read-write, PgUrl) or
    /// sqlite:///absolute/path.
    [[nodiscard]] static Result<std::unique_ptr<Database>> open(const QString& url);

    Kind kind() const { return m_kind; }
    bool isPostgres() const { return m_kind == Kind::Postgres; }

    /// Runs one statement with positional `?` parameters. The returned query is positioned before
    /// the first row; it stays valid until the next exec() of the same SQL text.
    [[nodiscard]] Result<QSqlQuery*> exec(const QString& sql, const QVariantList& params = {})
    {
        return execAttempt(sql, params, true);
    }
    /// Runs a statement that returns nothing interesting; gives the number of affected rows.
    [[nodiscard]] Result<int> execute(const QString& sql, const QVariantList& params = {});
    /// Runs statements separated by ";\n" without parameters (migrations).
    [[nodiscard]] Result<void> execScript(const QString& script);

    /// Write transaction: SQLite takes the write lock up front (BEGIN IMMEDIATE), so two writers
    /// never deadlock upgrading a read lock.
    [[nodiscard]] Result<void> begin();
    [[nodiscard]] Result<void> commit();
    void rollback();

    /// Cheap liveness check, reconnecting if needed. PostgreSQL: also that the server is the
    /// writable primary (not in recovery); a connection to a standby is dropped, so the next use
    /// looks for the primary among the URL's hosts (target_session_attrs=read-write).
    [[nodiscard]] Result<void> ping();
    /// "host:port" of the PostgreSQL server this connection is on (empty: none, or SQLite).
    QString serverAddress() const;

    /// PostgreSQL: every later call (prepare, execute, BEGIN, COMMIT) that takes longer than
    /// `deadlineMs` is cut off by `watchdog` and fails with ErrorCode::Unavailable (503 +
    /// Retry-After); the connection is replaced on the next use. For the request path's blocking
    /// calls (the SQL and hashing pools); migrations and cleanup run without one.
    void setDeadline(QueryWatchdog* watchdog, int deadlineMs);
    int deadlineMs() const { return m_deadlineMs; }
    QueryWatchdog* watchdog() const { return m_watchdog; }

private:
    Database(Kind kind, QString connectionName, QString url);
    Result<void> connect();
    Result<QSqlQuery*> execAttempt(const QString& sql, const QVariantList& params, bool mayRetry);
    Error translate(const QSqlError& error);
    bool connectionLost() const;
    int socket() const;
    /// Runs `call` (a blocking libpq call through Qt SQL) under the deadline, if one is set;
    /// true if it passed.
    template <typename Call> bool guarded(Call&& call);
    Error deadlineError();

    Kind m_kind;
    QString m_connectionName;
    QString m_url;
    bool m_needsReconnect = false;
    bool m_inTransaction = false; // between begin() and commit()/rollback()
    QHash<QString, QSqlQuery> m_statements;
    QueryWatchdog* m_watchdog = nullptr;
    int m_deadlineMs = 0;
    std::chrono::steady_clock::time_point m_quietUntil; // see connect()
};

/// For work that may take longer than a request's deadline (cleanup's bulk deletes): lifts the
/// deadline while it lives; the server's statement_timeout still bounds each statement.
class WithoutDeadline
{
public:
    explicit WithoutDeadline(Database& db) : m_db(db), m_watchdog(db.watchdog()), m_ms(db.deadlineMs())
    {
        m_db.setDeadline(nullptr, 0);
    }
    ~WithoutDeadline() { m_db.setDeadline(m_watchdog, m_ms); }
    WithoutDeadline(const WithoutDeadline&) = delete;
    WithoutDeadline& operator=(const WithoutDeadline&) = delete;

private:
    Database& m_db;
    QueryWatchdog* m_watchdog;
    int m_ms;
};

/// Convenience: scoped write transaction that rolls back unless committed.
class Transaction
{
public:
    explicit Transaction(Database& db) : m_db(db) {}
    ~Transaction()
    {
        if (m_open)
            m_db.rollback();
    }
    [[nodiscard]] Result<void> begin()
    {
        auto r = m_db.begin();
        m_open = r.has_value();
        return r;
    }
    [[nodiscard]] Result<void> commit()
    {
        m_open = false;
        return m_db.commit();
    }

private:
    Database& m_db;
    bool m_open = false;
};

} // namespace ehrs::server
