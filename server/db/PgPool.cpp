// SPDX-License-Identifier: Apache-2.0
#include "PgPool.h"

#include "Logging.h"

namespace ehrs::server {
namespace {
constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 2000;

Error noConnection()
{
    return Error{ErrorCode::Unavailable, QStringLiteral("database unavailable: no connection"), 2};
}
} // namespace

PgLease::PgLease(PgLease&& other) noexcept
    : m_pool(std::move(other.m_pool)), m_connection(std::exchange(other.m_connection, nullptr))
{
}

PgLease& PgLease::operator=(PgLease&& other) noexcept
{
    if (this != &other) {
        release();
        m_pool = std::move(other.m_pool);
        m_connection = std::exchange(other.m_connection, nullptr);
    }
    return *this;
}

PgLease::~PgLease()
{
    release();
}

void PgLease::submit(PgRequest request, QObject* context, PgConnection::Done done) const
{
    if (!m_connection || !m_pool) {
        QMetaObject::invokeMethod(
            context ? context : m_pool.data(), [done = std::move(done)] { done(ehrs::fail(noConnection())); },
            Qt::QueuedConnection);
        return;
    }
    m_connection->submit(std::move(request), context, std::move(done));
}

void PgLease::release()
{
    PgConnection* c = std::exchange(m_connection, nullptr);
    if (c && m_pool)
        m_pool->giveBack(c);
}

PgPool::PgPool(QByteArray url, int size, PgConnection::Options options, QObject* parent)
    : QObject(parent), m_url(std::move(url)), m_options(std::move(options))
{
    for (int i = 0; i < qMax(1, size); ++i) {
        auto slot = std::make_unique<Slot>();
        slot->connection = std::make_unique<PgConnection>(m_url, m_options);
        slot->reconnect = std::make_unique<QTimer>();
        slot->reconnect->setSingleShot(true);
        Slot* s = slot.get();
        connect(s->reconnect.get(), &QTimer::timeout, this, [s] { s->connection->open(); });
        connect(s->connection.get(), &PgConnection::ready, this, [this, s] {
            s->backoffMs = 0;
            serveLeaseWaiters();
            Q_EMIT connectionReady();
        });
        connect(s->connection.get(), &PgConnection::broken, this, [this, s] { onBroken(s); });
        m_slots.push_back(std::move(slot));
    }
    m_leaseTimer.setSingleShot(true);
    connect(&m_leaseTimer, &QTimer::timeout, this, &PgPool::serveLeaseWaiters);
}

PgPool::~PgPool()
{
    // Waiters and requests in flight are answered by nobody: their owners are going too.
    m_leaseWaiters.clear();
}

void PgPool::start()
{
    for (auto& s : m_slots)
        s->connection->open();
}

int PgPool::readyCount() const
{
    int n = 0;
    for (const auto& s : m_slots)
        n += s->connection->state() == PgConnection::State::Ready ? 1 : 0;
    return n;
}

QList<int> PgPool::backendPids() const
{
    QList<int> out;
    for (const auto& s : m_slots) {
        if (s->connection->state() == PgConnection::State::Ready)
            out.append(s->connection->backendPid());
    }
    return out;
}

PgPool::Slot* PgPool::pick()
{
    Slot* best = nullptr;
    Slot* connecting = nullptr;
    for (auto& s : m_slots) {
        if (s->leased)
            continue;
        const auto state = s->connection->state();
        if (state == PgConnection::State::Ready &&
            (!best || s->connection->pending() < best->connection->pending()))
            best = s.get();
        else if (state == PgConnection::State::Connecting && !connecting)
            connecting = s.get();
    }
    return best ? best : connecting;
}

void PgPool::submit(PgRequest request, QObject* context, PgConnection::Done done)
{
    if (Slot* s = pick()) {
        s->connection->submit(std::move(request), context, std::move(done));
        return;
    }
    // Nothing up or everything leased: answer now (from the event loop) rather than queue
    // behind an outage.
    QPointer<QObject> ctx(context);
    QMetaObject::invokeMethod(
        this,
        [ctx, hasContext = context != nullptr, done = std::move(done)] {
            if (!hasContext || ctx)
                done(ehrs::fail(noConnection()));
        },
        Qt::QueuedConnection);
}

void PgPool::lease(QObject* context, std::function<void(Result<PgLease>)> done, int deadlineMs)
{
    m_leaseWaiters.push_back(LeaseWaiter{context, context != nullptr, std::move(done),
                                         QDeadlineTimer(deadlineMs > 0 ? deadlineMs : m_options.deadlineMs)});
    QMetaObject::invokeMethod(this, &PgPool::serveLeaseWaiters, Qt::QueuedConnection);
}

void PgPool::serveLeaseWaiters()
{
    while (!m_leaseWaiters.empty()) {
        LeaseWaiter& w = m_leaseWaiters.front();
        if (w.hasContext && w.context.isNull()) {
            m_leaseWaiters.pop_front();
            continue;
        }
        Slot* free = nullptr;
        bool anyUp = false;
        for (auto& s : m_slots) {
            const bool ready = s->connection->state() == PgConnection::State::Ready;
            anyUp = anyUp || ready;
            if (ready && !s->leased && !free)
                free = s.get();
        }
        if (!free && anyUp && !w.deadline.hasExpired())
            break; // wait for a lease to come back
        LeaseWaiter waiter = std::move(w);
        m_leaseWaiters.pop_front();
        if (!free) {
            waiter.done(ehrs::fail(noConnection()));
            continue;
        }
        free->leased = true;
        waiter.done(PgLease(this, free->connection.get()));
    }
    if (!m_leaseWaiters.empty())
        m_leaseTimer.start(int(qMax<qint64>(1, m_leaseWaiters.front().deadline.remainingTime())));
}

void PgPool::giveBack(PgConnection* connection)
{
    for (auto& s : m_slots) {
        if (s->connection.get() != connection)
            continue;
        if (connection->inTransaction()) {
            // Left open (its owner failed or gave up midway): roll back before anyone else uses it.
            connection->submit(PgRequest{{PgQuery{"ROLLBACK", {}, false}}}, this,
                               [](Result<std::vector<PgResult>>) {});
        }
        s->leased = false;
        break;
    }
    QMetaObject::invokeMethod(this, &PgPool::serveLeaseWaiters, Qt::QueuedConnection);
}

void PgPool::onBroken(Slot* slot)
{
    slot->backoffMs = slot->backoffMs == 0 ? kFirstBackoffMs : qMin(slot->backoffMs * 2, kMaxBackoffMs);
    slot->reconnect->start(slot->backoffMs);
}

} // namespace ehrs::server
