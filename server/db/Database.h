// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QHash>
#include <QString>
#include <QVariant>
#include <QtSql/QSqlDatabase>
#include <QtSql/QSqlQuery>

#include <memory>

namespace ehrs::server {

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

    /// `url`: postgres://user:pass@host:port/db?sslmode=... or sqlite:///absolute/path.
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

    /// Cheap liveness check (SELECT 1), reconnecting if needed.
    [[nodiscard]] Result<void> ping();

private:
    Database(Kind kind, QString connectionName, QString url);
    Result<void> connect();
    Result<QSqlQuery*> execAttempt(const QString& sql, const QVariantList& params, bool mayRetry);
    Error translate(const QSqlError& error);
    bool connectionLost() const;

    Kind m_kind;
    QString m_connectionName;
    QString m_url;
    bool m_needsReconnect = false;
    bool m_inTransaction = false; // between begin() and commit()/rollback()
    QHash<QString, QSqlQuery> m_statements;
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
