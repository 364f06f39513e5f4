// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "PgConnection.h"

#include <QObject>
#include <deque>
#include <memory>
#include <vector>

namespace ehrs::server {

class PgPool;

/// Exclusive use of one pooled connection, for a transaction that spans several requests
/// (BEGIN ... decide ... COMMIT). Move-only; when it goes out of scope the connection returns to
/// the pool, rolled back first if a transaction is still open.
class PgLease
{
public:
    PgLease() = default;
    PgLease(PgLease&& other) noexcept;
    PgLease& operator=(PgLease&& other) noexcept;
    ~PgLease();

    explicit operator bool() const { return m_connection != nullptr; }
    void submit(PgRequest request, QObject* context, PgConnection::Done done) const;
    void release();

private:
    friend class PgPool;
    PgLease(PgPool* pool, PgConnection* connection) : m_pool(pool), m_connection(connection) {}

    QPointer<PgPool> m_pool;
    PgConnection* m_connection = nullptr;
};

/// A worker's few PostgreSQL connections on its event loop. Requests go to the ready connection
/// with the least work in flight, so that concurrent transactions commit together (PostgreSQL
/// flushes their WAL in one write) while no request waits behind another's round trip. Lost
/// connections are replaced with a bounded back-off; while none is up, requests fail at once with
/// ErrorCode::Unavailable (503 + Retry-After) instead of queueing.
class PgPool : public QObject
{
    Q_OBJECT
public:
    PgPool(QByteArray url, int size, PgConnection::Options options = {}, QObject* parent = nullptr);
    ~PgPool() override;

    /// Opens every connection (asynchronously).
    void start();
    void submit(PgRequest request, QObject* context, PgConnection::Done done);
    /// Hands one connection over for exclusive use once one is free (queued up to `deadlineMs`).
    void lease(QObject* context, std::function<void(Result<PgLease>)> done, int deadlineMs = 0);

    int size() const { return int(m_slots.size()); }
    int readyCount() const;
    /// The backend pids of the pool's ready connections (tests).
    QList<int> backendPids() const;

Q_SIGNALS:
    /// Emitted whenever a connection becomes ready (after start or a reconnect).
    void connectionReady();

private:
    friend class PgLease;
    struct Slot
    {
        std::unique_ptr<PgConnection> connection;
        bool leased = false;
        int backoffMs = 0;
        std::unique_ptr<QTimer> reconnect;
    };
    struct LeaseWaiter
    {
        QPointer<QObject> context;
        bool hasContext;
        std::function<void(Result<PgLease>)> done;
        QDeadlineTimer deadline;
    };

    Slot* pick();
    void onBroken(Slot* slot);
    void giveBack(PgConnection* connection);
    void serveLeaseWaiters();

    QByteArray m_url;
    PgConnection::Options m_options;
    std::vector<std::unique_ptr<Slot>> m_slots;
    std::deque<LeaseWaiter> m_leaseWaiters;
    QTimer m_leaseTimer;
};

} // namespace ehrs::server
