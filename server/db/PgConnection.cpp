// SPDX-License-Identifier: Apache-2.0
#include "PgConnection.h"

#include "Logging.h"

#include <QCryptographicHash>
#include <QSocketNotifier>
#include <libpq-fe.h>

namespace ehrs::server {
namespace {
constexpr int kRetryAfterSeconds = 2;

Error unavailable(const QString& why)
{
    return Error{ErrorCode::Unavailable, QStringLiteral("database unavailable: %1").arg(why),
                 kRetryAfterSeconds};
}

/// A statement's name on the server: derived from its text, so each connection prepares it once.
QByteArray statementName(const QByteArray& sql)
{
    return "ehrs_" + QCryptographicHash::hash(sql, QCryptographicHash::Sha1).toHex().left(24);
}

QString lastError(pg_conn* conn)
{
    // libpq's messages name host and user, never the password.
    return QString::fromUtf8(PQerrorMessage(conn)).simplified();
}

/// SQLSTATE class 23 (integrity constraint) is the caller's conflict, 40 (serialization,
/// deadlock) and 57/08 (shutdown, connection) are worth a retry, the rest is a bug or bad input.
Error errorOf(const PGresult* r)
{
    const QByteArray state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const QString message = QString::fromUtf8(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    if (state.startsWith("23"))
        return Error{ErrorCode::Conflict, message};
    // 25006 read_only_sql_transaction: the server is (now) a standby; the connection is dropped
    // and the next one finds the writable primary (see readResults()).
    if (state.startsWith("40") || state.startsWith("57") || state.startsWith("08") ||
        state.startsWith("53") || state == "25006")
        return Error{ErrorCode::Unavailable, QStringLiteral("database busy: %1").arg(message),
                     kRetryAfterSeconds};
    return Error{ErrorCode::Internal,
                 QStringLiteral("database error %1: %2").arg(QString::fromLatin1(state), message)};
}
} // namespace

PgConnection::PgConnection(QByteArray url, Options options, QObject* parent)
    : QObject(parent), m_url(std::move(url)), m_options(std::move(options))
{
    m_deadlineTimer.setSingleShot(true);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &PgConnection::onDeadline);
}

PgConnection::~PgConnection()
{
    m_readNotifier.reset();
    m_writeNotifier.reset();
    if (m_conn)
        PQfinish(m_conn);
}

int PgConnection::backendPid() const
{
    return m_conn ? PQbackendPID(m_conn) : 0;
}

bool PgConnection::inTransaction() const
{
    if (!m_conn || m_state != State::Ready)
        return false;
    const auto s = PQtransactionStatus(m_conn);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

void PgConnection::open()
{
    if (m_state == State::Connecting || m_state == State::Ready)
        return;
    m_readNotifier.reset();
    m_writeNotifier.reset();
    if (m_conn)
        PQfinish(m_conn);
    m_prepared.clear();
    m_socket = -1;
    m_readOnly = false;
    const QByteArray timeout = QByteArray::number(qMax(1, (m_options.connectTimeoutMs + 999) / 1000));
    // Entries before the URL are defaults it may override; those after it are ours to impose.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", "options", nullptr};
    const char* values[] = {timeout.constData(), m_options.applicationName.constData(), m_url.constData(),
                            "-c statement_timeout=10000 -c lock_timeout=5000 -c client_min_messages=warning",
                            nullptr};
    m_conn = PQconnectStartParams(keys, values, 1);
    m_state = State::Connecting;
    m_connectDeadline = QDeadlineTimer(m_options.connectTimeoutMs);
    if (!m_conn || PQstatus(m_conn) == CONNECTION_BAD) {
        const QString why = m_conn ? lastError(m_conn) : QStringLiteral("out of memory");
        // Reported from the event loop: callers get their answer after open() has returned.
        QMetaObject::invokeMethod(
            this, [this, why] { breakDown(why); }, Qt::QueuedConnection);
        return;
    }
    PQsetnonblocking(m_conn, 1);
    armDeadline();
    pollConnect();
}

void PgConnection::watchSocket()
{
    const int fd = PQsocket(m_conn);
    if (fd == m_socket && m_readNotifier)
        return;
    // libpq may move to another socket while connecting (another host, or SSL retry).
    m_socket = fd;
    m_readNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
    m_writeNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Write);
    m_writeNotifier->setEnabled(false);
    connect(m_readNotifier.get(), &QSocketNotifier::activated, this, &PgConnection::onReadable);
    connect(m_writeNotifier.get(), &QSocketNotifier::activated, this, &PgConnection::onWritable);
}

void PgConnection::pollConnect()
{
    const PostgresPollingStatusType status = PQconnectPoll(m_conn);
    if (status == PGRES_POLLING_FAILED) {
        breakDown(lastError(m_conn));
        return;
    }
    watchSocket();
    if (status == PGRES_POLLING_READING || status == PGRES_POLLING_WRITING) {
        m_readNotifier->setEnabled(status == PGRES_POLLING_READING);
        m_writeNotifier->setEnabled(status == PGRES_POLLING_WRITING);
        return;
    }
    // PGRES_POLLING_OK
    if (PQenterPipelineMode(m_conn) != 1) {
        breakDown(QStringLiteral("cannot enter pipeline mode: %1").arg(lastError(m_conn)));
        return;
    }
    m_state = State::Ready;
    m_readNotifier->setEnabled(true);
    m_writeNotifier->setEnabled(false);
    while (!m_waiting.empty() && m_state == State::Ready) {
        m_inFlight.push_back(std::move(m_waiting.front()));
        m_waiting.pop_front();
        send(m_inFlight.back());
    }
    if (m_state != State::Ready)
        return;
    flushOutput();
    armDeadline();
    Q_EMIT ready();
}

void PgConnection::submit(PgRequest request, QObject* context, Done done)
{
    Call call;
    call.deadline = QDeadlineTimer(request.deadlineMs > 0 ? request.deadlineMs : m_options.deadlineMs);
    call.request = std::move(request);
    call.context = context;
    call.hasContext = context != nullptr;
    call.done = std::move(done);
    if (m_state == State::Broken || m_state == State::Idle) {
        // Answered from the event loop, like every other outcome.
        QMetaObject::invokeMethod(
            this,
            [c = std::make_shared<Call>(std::move(call))] {
                deliver(*c, ehrs::fail(unavailable(QStringLiteral("no connection"))));
            },
            Qt::QueuedConnection);
        return;
    }
    if (m_state == State::Connecting) {
        m_waiting.push_back(std::move(call));
        armDeadline();
        return;
    }
    m_inFlight.push_back(std::move(call));
    send(m_inFlight.back());
    flushOutput();
    armDeadline();
}

void PgConnection::send(Call& call)
{
    if (m_state != State::Ready)
        return;
    for (const PgQuery& q : call.request.queries) {
        std::vector<const char*> values;
        values.reserve(q.params.size());
        for (const auto& p : q.params)
            values.push_back(p ? p->constData() : nullptr);
        const int n = int(values.size());
        int ok = 0;
        if (q.prepared) {
            const QByteArray name = statementName(q.sql);
            if (!m_prepared.contains(name)) {
                if (!PQsendPrepare(m_conn, name.constData(), q.sql.constData(), n, nullptr)) {
                    breakDown(lastError(m_conn));
                    return;
                }
                m_prepared.insert(name); // calls sent after this one use it
                call.steps.push_back(Step{name});
            }
            ok = PQsendQueryPrepared(m_conn, name.constData(), n, values.data(), nullptr, nullptr, 0);
        } else {
            ok = PQsendQueryParams(m_conn, q.sql.constData(), n, nullptr, values.data(), nullptr, nullptr, 0);
        }
        if (!ok) {
            breakDown(lastError(m_conn));
            return;
        }
        call.steps.push_back(Step{});
    }
    if (!PQpipelineSync(m_conn))
        breakDown(lastError(m_conn));
}

void PgConnection::flushOutput()
{
    if (m_state != State::Ready)
        return;
    const int r = PQflush(m_conn);
    if (r < 0) {
        breakDown(lastError(m_conn));
        return;
    }
    // 1: the kernel buffer is full; the rest goes when the socket is writable again.
    m_writeNotifier->setEnabled(r == 1);
    // Sending can make libpq read (it drains the socket rather than deadlock when the kernel's
    // send buffer is full): results it read that way never wake the read notifier again, so
    // look for them once control is back in the event loop.
    if (!m_inFlight.empty() && !m_readScheduled) {
        m_readScheduled = true;
        QMetaObject::invokeMethod(
            this,
            [this] {
                m_readScheduled = false;
                if (m_state == State::Ready)
                    readResults();
            },
            Qt::QueuedConnection);
    }
}

void PgConnection::onWritable()
{
    if (m_state == State::Connecting) {
        pollConnect();
        return;
    }
    flushOutput();
}

void PgConnection::onReadable()
{
    if (m_state == State::Connecting) {
        pollConnect();
        return;
    }
    if (m_state != State::Ready)
        return;
    if (!PQconsumeInput(m_conn)) {
        breakDown(lastError(m_conn));
        return;
    }
    readResults();
}

void PgConnection::readResults()
{
    // The pipeline's results arrive per statement (each followed by a null), then one
    // PGRES_PIPELINE_SYNC per request.
    QPointer<PgConnection> self(this);
    while (self && m_state == State::Ready && !m_inFlight.empty() && !PQisBusy(m_conn)) {
        PGresult* r = PQgetResult(m_conn);
        Call& call = m_inFlight.front();
        if (!r) {
            ++call.step;
            continue;
        }
        const ExecStatusType status = PQresultStatus(r);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            finishFront();
            continue;
        }
        const bool failed = status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED;
        if (status == PGRES_FATAL_ERROR && !call.error) {
            call.error = errorOf(r);
            if (qstrcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "25006") == 0)
                m_readOnly = true;
        }
        const Step* step = call.step < call.steps.size() ? &call.steps[call.step] : nullptr;
        if (step && !step->prepares.isEmpty()) {
            // Skipped or failed: the statement does not exist on the server; prepare it next time.
            if (failed)
                m_prepared.remove(step->prepares);
            PQclear(r);
        } else if (failed || !step) {
            PQclear(r);
        } else {
            call.results.emplace_back(r);
        }
    }
    if (self && m_conn && PQstatus(m_conn) == CONNECTION_BAD)
        breakDown(lastError(m_conn));
    else if (self && m_readOnly && m_state == State::Ready)
        breakDown(QStringLiteral("the server is read-only (a standby): reconnecting to find the primary"));
}

void PgConnection::finishFront()
{
    Call call = std::move(m_inFlight.front());
    m_inFlight.pop_front();
    armDeadline();
    if (call.error) {
        deliver(call, ehrs::fail(*call.error));
        return;
    }
    deliver(call, std::move(call.results));
}

void PgConnection::deliver(Call& call, Result<std::vector<PgResult>> result)
{
    if (!call.done || (call.hasContext && call.context.isNull()))
        return; // its owner is gone
    Done done = std::move(call.done);
    call.done = nullptr;
    done(std::move(result));
}

void PgConnection::armDeadline()
{
    const Call* front =
        !m_inFlight.empty() ? &m_inFlight.front() : (!m_waiting.empty() ? &m_waiting.front() : nullptr);
    QDeadlineTimer due = front ? front->deadline : QDeadlineTimer(QDeadlineTimer::Forever);
    if (m_state == State::Connecting && m_connectDeadline.deadline() < due.deadline())
        due = m_connectDeadline;
    if (due.isForever())
        m_deadlineTimer.stop();
    else
        m_deadlineTimer.start(int(qMax<qint64>(0, due.remainingTime())));
}

void PgConnection::onDeadline()
{
    if (m_state == State::Connecting && m_connectDeadline.hasExpired()) {
        breakDown(QStringLiteral("connecting took more than %1 ms").arg(m_options.connectTimeoutMs));
        return;
    }
    const Call* front =
        !m_inFlight.empty() ? &m_inFlight.front() : (!m_waiting.empty() ? &m_waiting.front() : nullptr);
    if (front && front->deadline.hasExpired()) {
        QString detail;
        if (m_state == State::Ready) {
            // An answer that arrived without a socket notification is taken, not thrown away.
            const size_t before = m_inFlight.size();
            const bool allSent = PQflush(m_conn) == 0;
            QPointer<PgConnection> self(this);
            if (PQconsumeInput(m_conn))
                readResults();
            if (!self)
                return;
            if (m_state == State::Ready && m_inFlight.size() < before) {
                qCWarning(lcDb) << "PostgreSQL answers were waiting unread at their deadline:"
                                << before - m_inFlight.size();
                armDeadline();
                return;
            }
            // Where it waited, for the operator: everything sent means PostgreSQL did not answer.
            detail = allSent ? QStringLiteral(" (the query was sent; PostgreSQL did not answer)")
                             : QStringLiteral(" (the query could not be sent)");
        }
        breakDown(QStringLiteral("no answer within the deadline") + detail);
        return;
    }
    armDeadline();
}

void PgConnection::breakDown(const QString& why)
{
    if (m_state == State::Broken)
        return;
    qCWarning(lcDb).noquote() << "PostgreSQL connection lost:" << why;
    m_state = State::Broken;
    m_deadlineTimer.stop();
    m_readNotifier.reset();
    m_writeNotifier.reset();
    if (m_conn) {
        PQfinish(m_conn);
        m_conn = nullptr;
    }
    m_prepared.clear();
    std::deque<Call> calls = std::move(m_inFlight);
    m_inFlight.clear();
    for (Call& c : m_waiting)
        calls.push_back(std::move(c));
    m_waiting.clear();
    // Every request in flight gets its answer once (before broken(), whose receiver may replace
    // and delete this connection).
    QPointer<PgConnection> self(this);
    for (Call& c : calls)
        deliver(c, ehrs::fail(unavailable(why)));
    if (self)
        Q_EMIT broken(why);
}

} // namespace ehrs::server
