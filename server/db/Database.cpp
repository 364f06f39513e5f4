// SPDX-License-Identifier: Apache-2.0
#include "Database.h"

#include "Logging.h"
#include "PgUrl.h"
#include "QueryWatchdog.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QtSql/QSqlDriver>
#include <QtSql/QSqlError>
#include <libpq-fe.h>

namespace ehrs::server {
namespace {
QString nextConnectionName()
{
    static QAtomicInteger<int> counter;
    return QStringLiteral("ehrs-db-%1").arg(counter.fetchAndAddRelaxed(1));
}
constexpr int kRetryAfterSeconds = 2;
constexpr std::chrono::milliseconds kQuietAfterFailure{1000};

/// The QPSQL driver's libpq connection. Its QVariant carries the pointer under the struct's own
/// name ("pg_conn*", as Qt 6.4 registers it), not the typedef's.
PGconn* pgConnection(const QSqlDatabase& db)
{
    const QVariant handle = db.driver()->handle();
    if (!handle.isValid())
        return nullptr;
    const char* type = handle.typeName();
    if (qstrcmp(type, "pg_conn*") != 0 && qstrcmp(type, "PGconn*") != 0)
        return nullptr;
    return *static_cast<PGconn* const*>(handle.constData());
}
} // namespace

Database::Database(Kind kind, QString connectionName, QString url)
    : m_kind(kind), m_connectionName(std::move(connectionName)), m_url(std::move(url))
{
}

Database::~Database()
{
    m_statements.clear();
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

Result<std::unique_ptr<Database>> Database::open(const QString& url)
{
    Kind kind;
    if (url.startsWith(u"postgres://") || url.startsWith(u"postgresql://"))
        kind = Kind::Postgres;
    else if (url.startsWith(u"sqlite://"))
        kind = Kind::Sqlite;
    else
        return fail(ErrorCode::InvalidRequest, QStringLiteral("unsupported database URL scheme"));
    std::unique_ptr<Database> db(new Database(kind, nextConnectionName(), url));
    if (auto r = db->connect(); !r)
        return fail(r.error());
    return db;
}

Result<void> Database::connect()
{
    m_statements.clear();
    // With a deadline (the request path's pools): after a deadline passed or a connection attempt
    // timed out, the calls of the next second fail at once instead of each waiting for the database
    // again, so one request waits for one deadline at most, not one per statement (its error
    // path's audit row, its rollback).
    if (m_deadlineMs > 0 && std::chrono::steady_clock::now() < m_quietUntil)
        return fail(ErrorCode::Unavailable, QStringLiteral("Database unavailable, try again shortly"),
                    kRetryAfterSeconds);
    if (QSqlDatabase::contains(m_connectionName)) {
        QSqlDatabase::database(m_connectionName, false).close();
        QSqlDatabase::removeDatabase(m_connectionName);
    }
    if (m_kind == Kind::Sqlite) {
        const QString path = m_url.mid(QStringLiteral("sqlite://").size());
        if (path.isEmpty())
            return fail(ErrorCode::InvalidRequest, QStringLiteral("sqlite:// URL needs a file path"));
        QDir().mkpath(QFileInfo(path).absolutePath());
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open())
            return fail(ErrorCode::Unavailable, QStringLiteral("cannot open SQLite database %1: %2")
                                                    .arg(path, db.lastError().text()), kRetryAfterSeconds);
        QSqlQuery q(db);
        for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"})
            q.exec(QString::fromLatin1(pragma));
        m_needsReconnect = false;
        return {};
    }

    auto url = PgUrl::parse(m_url);
    if (!url)
        return fail(url.error());
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_connectionName);
    // Qt's driver quotes the host and passes it to libpq as a key/value pair, where a
    // comma-separated list is libpq's multi-host form; the ports go the same way, as an option.
    db.setHostName(url->hosts.join(u','));
    db.setUserName(url->user);
    db.setPassword(url->password);
    db.setDatabaseName(url->dbname);
    QStringList ports;
    for (int port : url->ports)
        ports << QString::number(port);
    // With a deadline, connecting to a host that stopped answering gives up about as soon
    // (libpq's connect_timeout counts whole seconds, at least 2, and applies to each host).
    const int connectTimeout = m_deadlineMs > 0 ? qMax(2, (m_deadlineMs + 999) / 1000) : 3;
    QStringList options{QStringLiteral("port=%1").arg(ports.join(u',')),
                        QStringLiteral("connect_timeout=%1").arg(connectTimeout)};
    for (const auto& [key, value] : url->params)
        options << key + u'=' + value;
    db.setConnectOptions(options.join(u';'));
    const auto attemptStart = std::chrono::steady_clock::now();
    if (!db.open()) {
        m_needsReconnect = true;
        // Only an attempt that waited (a host that does not answer) quiets the next ones; a
        // refused connection costs nothing to try again.
        const auto now = std::chrono::steady_clock::now();
        if (now - attemptStart >= kQuietAfterFailure)
            m_quietUntil = now + kQuietAfterFailure;
        // The driver's message can name host and user but never the password. It is for the
        // operator (the log, the CLI), not for the request path's clients.
        const QString detail =
            QStringLiteral("database unavailable: %1").arg(db.lastError().databaseText().trimmed());
        if (m_deadlineMs <= 0)
            return fail(ErrorCode::Unavailable, detail, kRetryAfterSeconds);
        qCWarning(lcDb) << detail;
        return fail(ErrorCode::Unavailable, QStringLiteral("Database unavailable, try again shortly"),
                    kRetryAfterSeconds);
    }
    QSqlQuery q(db);
    q.exec(QStringLiteral("SET statement_timeout = 10000"));
    q.exec(QStringLiteral("SET lock_timeout = 5000"));
    // libpq prints notices straight to stderr, around the log format: keep them out.
    q.exec(QStringLiteral("SET client_min_messages = warning"));
    m_needsReconnect = false;
    return {};
}

bool Database::connectionLost() const
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (!db.isOpen())
        return true;
    if (m_kind != Kind::Postgres)
        return false;
    auto* conn = pgConnection(db);
    return !conn || PQstatus(conn) != CONNECTION_OK;
}

int Database::socket() const
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (!db.isOpen() || m_kind != Kind::Postgres)
        return -1;
    auto* conn = pgConnection(db);
    return conn ? PQsocket(conn) : -1;
}

void Database::setDeadline(QueryWatchdog* watchdog, int deadlineMs)
{
    m_watchdog = watchdog;
    m_deadlineMs = deadlineMs;
}

template <typename Call> bool Database::guarded(Call&& call)
{
    const int fd = m_watchdog && m_deadlineMs > 0 ? socket() : -1;
    if (fd < 0) {
        call();
        return false;
    }
    const auto ticket = m_watchdog->arm(fd, m_deadlineMs);
    call();
    if (!m_watchdog->disarm(ticket))
        return false;
    // The socket was shut down: whatever the call returned, this connection is finished.
    m_needsReconnect = true;
    m_quietUntil = std::chrono::steady_clock::now() + kQuietAfterFailure;
    m_statements.clear();
    return true;
}

Error Database::deadlineError()
{
    qCWarning(lcDb).nospace() << "database did not answer within " << m_deadlineMs
                              << " ms: connection closed, a new one is opened on the next use";
    return Error{ErrorCode::Unavailable, QStringLiteral("Database did not answer in time, try again shortly"),
                 kRetryAfterSeconds};
}

Error Database::translate(const QSqlError& error)
{
    const QString sqlState = error.nativeErrorCode();
    // Connection exceptions (class 08), an administrator or crash shutdown (57P01..57P03), and
    // client-side libpq failures (no SQLSTATE at all) mean: reconnect, and 503 meanwhile.
    // Qt's SQLite driver reports every failed step as a ConnectionError, constraint violations
    // included: for SQLite only a closed database is a lost connection.
    const bool connectionError =
        m_kind == Kind::Postgres ? (error.type() == QSqlError::ConnectionError || sqlState.isEmpty() ||
                                    sqlState.startsWith(u"08") || sqlState == u"57P01" ||
                                    sqlState == u"57P02" || sqlState == u"57P03" ||
                                    // read_only_sql_transaction: this server is (now) a standby; a new
                                    // connection finds the writable primary (target_session_attrs=read-write)
                                    sqlState == u"25006")
                                 : !QSqlDatabase::database(m_connectionName, false).isOpen();
    if (connectionError || connectionLost()) {
        m_needsReconnect = true;
        qCWarning(lcDb) << "database connection lost:" << error.databaseText().trimmed();
        return Error{ErrorCode::Unavailable, QStringLiteral("Database unavailable, try again shortly"),
                     kRetryAfterSeconds};
    }
    const QString& code = sqlState;
    // 23505 unique_violation (PostgreSQL); 2067/1555 SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY.
    if (code == u"23505" || code == u"2067" || code == u"1555")
        return Error{ErrorCode::Conflict, QStringLiteral("already exists")};
    // Lock or statement timeouts, serialization failures, SQLITE_BUSY: transient.
    if (code == u"55P03" || code == u"57014" || code == u"40001" || code == u"40P01" || code == u"5" ||
        code == u"6")
        return Error{ErrorCode::Unavailable, QStringLiteral("Database busy, try again shortly"), 1};
    qCWarning(lcDb) << "database error" << code << error.databaseText().trimmed();
    return Error{ErrorCode::Internal, QStringLiteral("database error")};
}

Result<QSqlQuery*> Database::execAttempt(const QString& sql, const QVariantList& params, bool mayRetry)
{
    if (m_needsReconnect) {
        if (auto r = connect(); !r)
            return fail(r.error());
    }
    auto it = m_statements.find(sql);
    if (it == m_statements.end()) {
        QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
        q.setForwardOnly(true);
        bool prepared = false;
        if (guarded([&] { prepared = q.prepare(sql); }))
            return fail(deadlineError());
        if (!prepared) {
            Error e = translate(q.lastError());
            // Preparing is the first use of a connection that died while idle, too (see below).
            if (m_needsReconnect && mayRetry && !m_inTransaction &&
                sql.trimmed().startsWith(u"SELECT", Qt::CaseInsensitive)) {
                m_statements.clear();
                return execAttempt(sql, params, false);
            }
            return fail(e);
        }
        it = m_statements.insert(sql, std::move(q));
    }
    QSqlQuery& q = it.value();
    q.finish();
    for (qsizetype i = 0; i < params.size(); ++i)
        q.bindValue(int(i), params[i]);
    bool executed = false;
    if (guarded([&] { executed = q.exec(); }))
        return fail(deadlineError());
    if (!executed) {
        Error e = translate(q.lastError());
        if (m_needsReconnect) {
            m_statements.clear();
            // A connection that died while idle (the database restarted) shows it only on its
            // next use: a read outside a transaction is tried once more on a new connection, so
            // the first request after an outage does not get a 503 for nothing. Writes are not
            // repeated (one that reached the server before the connection broke may have committed).
            if (mayRetry && !m_inTransaction && sql.trimmed().startsWith(u"SELECT", Qt::CaseInsensitive))
                return execAttempt(sql, params, false);
        }
        return fail(e);
    }
    return &q;
}

Result<int> Database::execute(const QString& sql, const QVariantList& params)
{
    auto q = exec(sql, params);
    if (!q)
        return fail(q.error());
    const int affected = (*q)->numRowsAffected();
    (*q)->finish();
    return affected;
}

Result<void> Database::execScript(const QString& script)
{
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    for (const QString& raw : script.split(QStringLiteral(";\n"))) {
        QStringList lines;
        for (const QString& line : raw.split(u'\n')) {
            if (!line.trimmed().startsWith(u"--"))
                lines << line;
        }
        const QString statement = lines.join(u'\n').trimmed();
        if (statement.isEmpty())
            continue;
        if (!q.exec(statement))
            return fail(translate(q.lastError()));
    }
    return {};
}

Result<void> Database::begin()
{
    if (m_needsReconnect) {
        if (auto r = connect(); !r)
            return fail(r.error());
    }
    for (int attempt = 0;; ++attempt) {
        QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
        bool begun = false;
        if (guarded([&] {
                begun = q.exec(m_kind == Kind::Sqlite ? QStringLiteral("BEGIN IMMEDIATE")
                                                      : QStringLiteral("BEGIN"));
            }))
            return fail(deadlineError());
        if (begun)
            break;
        Error e = translate(q.lastError());
        // BEGIN on a connection that died while idle did nothing: once more on a new one.
        if (!m_needsReconnect || attempt > 0)
            return fail(e);
        m_statements.clear();
        if (auto r = connect(); !r)
            return fail(r.error());
    }
    m_inTransaction = true;
    return {};
}

Result<void> Database::commit()
{
    m_inTransaction = false;
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    bool committed = false;
    if (guarded([&] { committed = q.exec(QStringLiteral("COMMIT")); })) {
        // Whether it committed is unknown; the connection is gone, so nothing is left open.
        return fail(deadlineError());
    }
    if (!committed) {
        Error e = translate(q.lastError());
        rollback();
        return fail(e);
    }
    return {};
}

void Database::rollback()
{
    m_inTransaction = false;
    if (m_needsReconnect)
        return; // the connection is gone, and its transaction with it
    for (auto& stmt : m_statements)
        stmt.finish();
    QSqlQuery q(QSqlDatabase::database(m_connectionName, false));
    guarded([&] { q.exec(QStringLiteral("ROLLBACK")); });
}

Result<void> Database::ping()
{
    if (m_kind != Kind::Postgres) {
        auto r = exec(QStringLiteral("SELECT 1"));
        if (!r)
            return fail(r.error());
        (*r)->finish();
        return {};
    }
    // A server in recovery answers reads but refuses every write: after a failover the old
    // primary can come back as a standby (or be fenced read-only) under an open connection.
    // Writable as libpq's target_session_attrs=read-write means it: not a standby, and not set
    // read-only (default_transaction_read_only, as some failover managers fence an old primary).
    auto r =
        exec(QStringLiteral("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"));
    if (!r)
        return fail(r.error());
    const bool inRecovery = (*r)->next() && (*r)->value(0).toBool();
    (*r)->finish();
    if (inRecovery) {
        qCWarning(lcDb).noquote() << "database" << serverAddress()
                                  << "is read-only (a standby, or fenced): reconnecting to find the primary";
        m_needsReconnect = true;
        return fail(ErrorCode::Unavailable, QStringLiteral("database is read-only (failover in progress)"),
                    kRetryAfterSeconds);
    }
    return {};
}

QString Database::serverAddress() const
{
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (m_kind != Kind::Postgres || !db.isOpen())
        return {};
    auto* conn = pgConnection(db);
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return {};
    const QString host = QString::fromUtf8(PQhost(conn));
    return (host.contains(u':') ? u'[' + host + u']' : host) + u':' + QString::fromUtf8(PQport(conn));
}

} // namespace ehrs::server
