// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "PgResult.h"
#include "Result.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

struct pg_conn;
class QSocketNotifier;

namespace ehrs::server {

/// One statement: SQL with $1.. placeholders and its parameters in text format (nullopt: NULL).
struct PgQuery
{
    QByteArray sql;
    std::vector<std::optional<QByteArray>> params = {};
    /// Run as a named prepared statement (prepared on first use on each connection).
    bool prepared = true;
};

/// Statements sent back to back and answered together. Without BEGIN/COMMIT among them they form
/// one implicit transaction: all take effect or, when one fails, none.
struct PgRequest
{
    std::vector<PgQuery> queries;
    int deadlineMs = 0; // 0: the connection's default
};

/// A connection to PostgreSQL on the event loop of the thread that owns it: libpq in
/// non-blocking mode and pipeline mode, driven by QSocketNotifier (as Cutelyst's ASql does).
/// Requests are pipelined: several can be in flight, answered in order. Every request has a
/// deadline; when one passes or the connection is lost, every request in flight fails once with
/// ErrorCode::Unavailable (503 + Retry-After) and the connection becomes Broken; its owner
/// (PgPool) replaces it. Nothing here waits.
class PgConnection : public QObject
{
    Q_OBJECT
public:
    enum class State { Idle, Connecting, Ready, Broken };
    struct Options
    {
        int connectTimeoutMs = 3000;
        int deadlineMs = 2000;
        QByteArray applicationName = "ehr-sessions";
    };
    using Done = std::function<void(Result<std::vector<PgResult>>)>;

    /// `url`: postgres://user:pass@host:port/db?sslmode=... (any libpq URI or conninfo string,
    /// including several hosts with target_session_attrs).
    PgConnection(QByteArray url, Options options, QObject* parent = nullptr);
    ~PgConnection() override;

    /// Starts connecting; ready() or broken() follows. Requests submitted meanwhile wait.
    void open();
    State state() const { return m_state; }
    /// Requests sent or waiting and not yet answered.
    int pending() const { return int(m_inFlight.size() + m_waiting.size()); }
    /// True while a transaction opened with BEGIN by an earlier request is still open.
    bool inTransaction() const;

    /// Sends a request; `done` runs once, in this connection's thread, unless `context` has been
    /// destroyed by then. Results: one per query, in order (on success).
    void submit(PgRequest request, QObject* context, Done done);

    /// The server process serving this connection (tests).
    int backendPid() const;

Q_SIGNALS:
    void ready();
    void broken(const QString& why);

private:
    struct Step
    {
        QByteArray prepares; // set: this step prepares that statement; empty: a query
    };
    struct Call
    {
        PgRequest request;
        QPointer<QObject> context;
        bool hasContext = false;
        Done done;
        QDeadlineTimer deadline;
        std::vector<Step> steps;
        size_t step = 0;
        std::vector<PgResult> results;
        std::optional<Error> error;
    };

    void pollConnect();
    void watchSocket();
    void onReadable();
    void onWritable();
    void send(Call& call);
    void flushOutput();
    void readResults();
    void finishFront();
    void armDeadline();
    void onDeadline();
    void breakDown(const QString& why);
    static void deliver(Call& call, Result<std::vector<PgResult>> result);

    QByteArray m_url;
    Options m_options;
    State m_state = State::Idle;
    pg_conn* m_conn = nullptr;
    int m_socket = -1;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier;
    QTimer m_deadlineTimer;
    QDeadlineTimer m_connectDeadline;
    QSet<QByteArray> m_prepared;
    bool m_readScheduled = false; // a readResults() is queued
    bool m_readOnly = false;      // a statement failed with 25006: the server is a standby
    std::deque<Call> m_waiting;  // submitted before the connection was ready
    std::deque<Call> m_inFlight; // sent, oldest first
};

} // namespace ehrs::server
