// SPDX-License-Identifier: Apache-2.0
#include "AsyncRedis.h"

#include "Logging.h"

#include <QCryptographicHash>
#include <QSocketNotifier>
#include <QUuid>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <limits>

namespace ehrs::server {
namespace {

// The event-loop glue hiredis needs: the hooks of <hiredis/adapters/qt.h>, written out here because
// that header (hiredis 0.14) cannot be used as is: its class needs moc run on a system header, it
// connects by string, and its destructor writes into the redisAsyncContext, which hiredis has
// already freed after a disconnect. This one is owned by the context (freed by the cleanup hook,
// which hiredis calls exactly once, when it frees the context) and never outlives it.
struct QtEvents
{
    redisAsyncContext* ac = nullptr;
    QSocketNotifier* read = nullptr;
    QSocketNotifier* write = nullptr;
};

QSocketNotifier* makeNotifier(redisAsyncContext* ac, QSocketNotifier::Type type)
{
    auto* n = new QSocketNotifier(ac->c.fd, type);
    if (type == QSocketNotifier::Read)
        QObject::connect(n, &QSocketNotifier::activated, n, [ac] { redisAsyncHandleRead(ac); });
    else
        QObject::connect(n, &QSocketNotifier::activated, n, [ac] { redisAsyncHandleWrite(ac); });
    return n;
}

void addRead(void* data)
{
    auto* e = static_cast<QtEvents*>(data);
    if (!e->read)
        e->read = makeNotifier(e->ac, QSocketNotifier::Read);
    e->read->setEnabled(true);
}

void delRead(void* data)
{
    if (auto* e = static_cast<QtEvents*>(data); e->read)
        e->read->setEnabled(false);
}

void addWrite(void* data)
{
    auto* e = static_cast<QtEvents*>(data);
    if (!e->write)
        e->write = makeNotifier(e->ac, QSocketNotifier::Write);
    e->write->setEnabled(true);
}

void delWrite(void* data)
{
    if (auto* e = static_cast<QtEvents*>(data); e->write)
        e->write->setEnabled(false);
}

void retire(QSocketNotifier* n)
{
    if (!n)
        return;
    // Possibly called from inside this notifier's own signal: unregister now (a new connection may
    // get the same descriptor at once), delete later.
    n->setEnabled(false);
    QObject::disconnect(n, nullptr, nullptr, nullptr);
    n->deleteLater();
}

void cleanup(void* data)
{
    auto* e = static_cast<QtEvents*>(data);
    retire(e->read);
    retire(e->write);
    delete e;
}

void attach(redisAsyncContext* ac)
{
    auto* e = new QtEvents;
    e->ac = ac;
    ac->ev.data = e;
    ac->ev.addRead = addRead;
    ac->ev.delRead = delRead;
    ac->ev.addWrite = addWrite;
    ac->ev.delWrite = delWrite;
    ac->ev.cleanup = cleanup;
}

AsyncRedis* owner(const redisAsyncContext* ac)
{
    return static_cast<AsyncRedis*>(ac->data);
}

void connectCallback(const redisAsyncContext* ac, int status)
{
    if (AsyncRedis* self = owner(ac))
        self->onConnected(const_cast<redisAsyncContext*>(ac), status);
}

void disconnectCallback(const redisAsyncContext* ac, int)
{
    if (AsyncRedis* self = owner(ac))
        self->onDisconnected(const_cast<redisAsyncContext*>(ac));
}

void replyCallback(redisAsyncContext* ac, void* reply, void* privdata)
{
    if (AsyncRedis* self = owner(ac))
        self->onReply(ac, reply, privdata);
}

RedisReply convert(const redisReply* r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(convert(r->element[i]));
        break;
    default:
        break;
    }
    return out;
}

Error unavailable()
{
    return Error{ErrorCode::Unavailable, QStringLiteral("cache unavailable"), 1};
}

// Subscriber callbacks carry the channel index + 2 as privdata (0 is "no channel", and the
// keepalive channel is index -1).
void* channelTag(qsizetype channel)
{
    return reinterpret_cast<void*>(quintptr(channel + 2));
}

qsizetype channelFromTag(void* tag)
{
    return qsizetype(reinterpret_cast<quintptr>(tag)) - 2;
}
} // namespace

qint64 RedisReply::toInteger() const
{
    if (type == Type::Integer)
        return integer;
    if (type == Type::String)
        return string.toLongLong();
    return 0;
}

RedisScript::RedisScript(QByteArray text)
    : source(std::move(text)), sha1(QCryptographicHash::hash(source, QCryptographicHash::Sha1).toHex())
{
}

AsyncRedis::AsyncRedis(RedisEndpoint endpoint, AsyncRedisOptions options, RedisHealth* health,
                       QObject* parent)
    : QObject(parent), m_endpoint(std::move(endpoint)), m_options(std::move(options)), m_health(health),
      m_deadlineTimer(this), m_retryTimer(this),
      m_keepaliveTimer(this) // children: they follow moveToThread()
{
    m_clock.start();
    if (m_health)
        m_health->configured = true;
    m_deadlineTimer.setSingleShot(true);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &AsyncRedis::checkDeadlines);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &AsyncRedis::connectNow);
    m_keepaliveTimer.setInterval(m_options.keepaliveInterval);
    m_keepaliveTimer.setTimerType(Qt::CoarseTimer); // may be batched with other wake-ups (5%)
    connect(&m_keepaliveTimer, &QTimer::timeout, this, &AsyncRedis::keepalive);
    if (m_endpoint.primary) {
        // Called on the announcing thread under the Primary's lock; unlistened before destruction.
        m_primaryListener = m_endpoint.primary->listen([this](const RedisEndpoint::Address& address) {
            QMetaObject::invokeMethod(
                this, [this, address] { primarySwitched(address); }, Qt::QueuedConnection);
        });
    }
}

AsyncRedis::~AsyncRedis()
{
    if (m_endpoint.primary)
        m_endpoint.primary->unlisten(m_primaryListener);
    m_inFlight.clear();
    m_held.clear();
    if (redisAsyncContext* ac = std::exchange(m_ac, nullptr)) {
        // hiredis calls the pending callbacks with no reply while freeing: they must not find us.
        ac->data = nullptr;
        redisAsyncFree(ac);
    }
}

void AsyncRedis::start()
{
    if (m_state == State::Idle)
        connectNow();
}

void AsyncRedis::connectNow()
{
    if (m_ac)
        return;
    m_lastAttemptMs = nowMs();
    m_state = State::Connecting;
    // With Sentinel: asked now (blocking, 200 ms per Sentinel at most), so that a reconnect after a
    // failover goes to the primary Sentinel promoted.
    const auto [host, port] = m_endpoint.resolve();
    m_connectedTo = {host, port};
    redisAsyncContext* ac = host.isEmpty() ? nullptr : redisAsyncConnect(host.constData(), port);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        m_state = State::Down;
        lost("connect failed", true);
        return;
    }
    redisEnableKeepAlive(&ac->c);
    attach(ac);
    ac->data = this;
    redisAsyncSetConnectCallback(ac, connectCallback);
    redisAsyncSetDisconnectCallback(ac, disconnectCallback);
    m_ac = ac;
    m_lastHeardMs = nowMs();
    // The setup commands are queued before anything else; hiredis writes them once connected. If
    // there is nothing to set up, a PING still bounds the time to connect.
    QList<QList<QByteArray>> setup = m_endpoint.setupCommands();
    if (!m_options.clientName.isEmpty())
        setup.append({"CLIENT", "SETNAME", m_options.clientName});
    if (setup.isEmpty())
        setup.append({"PING"});
    m_setupLeft = int(setup.size());
    const qint64 deadline = nowMs() + m_options.connectTimeout.count();
    for (const auto& argv : setup) {
        Pending p;
        p.deadlineMs = deadline;
        send(argv, std::move(p));
        if (!m_ac)
            return;
    }
}

void AsyncRedis::send(const QList<QByteArray>& argv, Pending pending)
{
    std::vector<const char*> args;
    std::vector<size_t> lens;
    args.reserve(size_t(argv.size()));
    lens.reserve(size_t(argv.size()));
    for (const QByteArray& a : argv) {
        args.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    const qint64 deadline = pending.deadlineMs;
    m_inFlight.push_back(std::move(pending));
    armDeadline(deadline);
    if (redisAsyncCommandArgv(m_ac, replyCallback, nullptr, int(args.size()), args.data(), lens.data()) !=
        REDIS_OK)
        lost("command could not be queued", false);
}

void AsyncRedis::command(QList<QByteArray> argv, QObject* context, Done done)
{
    if (!context)
        context = this;
    if (m_subscriber) {
        QMetaObject::invokeMethod(
            context,
            [done = std::move(done)] {
                done(fail(ErrorCode::Internal, QStringLiteral("subscriber connection")));
            },
            Qt::QueuedConnection);
        return;
    }
    // A connection that was up until now (Redis restarted, a proxy cut it) is replaced by the
    // next command rather than by the retry timer, so that a retried write lands at once (see
    // lost()).
    if (m_state == State::Idle ||
        (m_state == State::Down && nowMs() - m_lastAttemptMs >= m_options.retryInterval.count()))
        connectNow();
    if (m_state == State::Down) {
        // Never answer synchronously; a deleted context drops the queued call.
        QMetaObject::invokeMethod(
            context, [done = std::move(done)] { done(fail(unavailable())); }, Qt::QueuedConnection);
        return;
    }
    Pending p;
    p.deadlineMs = nowMs() + m_options.deadline.count();
    p.context = context;
    p.done = std::move(done);
    if (m_state == State::Connecting) {
        p.argv = std::move(argv);
        armDeadline(p.deadlineMs);
        m_held.push_back(std::move(p));
        return;
    }
    send(argv, std::move(p));
}

void AsyncRedis::evalScript(const RedisScript& script, const QList<QByteArray>& keys,
                            const QList<QByteArray>& args, QObject* context, Done done)
{
    QList<QByteArray> tail;
    tail.reserve(keys.size() + args.size() + 1);
    tail.append(QByteArray::number(keys.size()));
    tail += keys;
    tail += args;
    QList<QByteArray> argv{"EVALSHA", script.sha1};
    argv += tail;
    if (!context)
        context = this;
    QPointer<QObject> guard(context);
    command(
        std::move(argv), context,
        [this, source = script.source, tail, guard, done = std::move(done)](Result<RedisReply> r) mutable {
            if (!r && r.error().code == ErrorCode::Internal && r.error().message.startsWith(u"NOSCRIPT") &&
                guard) {
                QList<QByteArray> eval{"EVAL", source};
                eval += tail;
                command(std::move(eval), guard.data(), std::move(done));
                return;
            }
            done(std::move(r));
        });
}

void AsyncRedis::subscribe(const QByteArray& channel, QObject* context,
                           std::function<void(const QByteArray&)> onMessage,
                           std::function<void(bool)> onStateChange)
{
    Q_ASSERT(m_inFlight.empty() || m_subscriber);
    if (!m_subscriber) {
        m_subscriber = true;
        // A channel nobody publishes to, re-subscribed as the keepalive: a subscribed connection
        // cannot PING through hiredis 0.14 without leaking a callback per PING.
        m_keepaliveChannel = "ehrs:keepalive:" + QUuid::createUuid().toByteArray(QUuid::Id128);
    }
    auto c = std::make_unique<Channel>();
    c->name = channel;
    c->context = context ? context : this;
    c->onMessage = std::move(onMessage);
    c->onStateChange = std::move(onStateChange);
    m_channels.push_back(std::move(c));
    if (m_state == State::Idle)
        connectNow();
    else if (m_state == State::Up)
        sendSubscribe(qsizetype(m_channels.size()) - 1);
}

void AsyncRedis::sendSubscribe(qsizetype channel)
{
    const QByteArray& name =
        channel == kKeepaliveChannel ? m_keepaliveChannel : m_channels[size_t(channel)]->name;
    const qint64 deadline =
        nowMs() +
        (channel == kKeepaliveChannel ? m_options.keepaliveDeadline : m_options.connectTimeout).count();
    m_confirmations.push_back({channel, deadline});
    if (channel != kKeepaliveChannel)
        ++m_unconfirmed;
    armDeadline(deadline);
    const char* args[] = {"SUBSCRIBE", name.constData()};
    const size_t lens[] = {9, size_t(name.size())};
    if (redisAsyncCommandArgv(m_ac, replyCallback, channelTag(channel), 2, args, lens) != REDIS_OK)
        lost("SUBSCRIBE could not be queued", false);
}

void AsyncRedis::onConnected(redisAsyncContext* ac, int status)
{
    if (ac != m_ac || status == REDIS_OK)
        return; // success shows as the answers to the setup commands
    // hiredis frees the context right after this callback.
    lost("connect failed", true);
}

void AsyncRedis::onDisconnected(redisAsyncContext* ac)
{
    if (ac == m_ac)
        lost("connection closed", true);
}

void AsyncRedis::onReply(redisAsyncContext* ac, void* raw, void* privdata)
{
    if (ac != m_ac)
        return;
    if (!raw) {
        // Only while hiredis frees the context after an error.
        lost("connection lost", true);
        return;
    }
    m_lastHeardMs = nowMs();
    const auto* reply = static_cast<const redisReply*>(raw);
    if (privdata) {
        handleSubscribeReply(channelFromTag(privdata), reply);
        return;
    }
    if (m_inFlight.empty()) {
        lost("unexpected reply", false);
        return;
    }
    Pending p = std::move(m_inFlight.front());
    m_inFlight.pop_front();
    if (!p.done) {
        // One of ours: setup or keepalive.
        if (reply->type == REDIS_REPLY_ERROR) {
            qCWarning(lcCache) << "Redis rejected AUTH/SELECT/CLIENT SETNAME; check REDIS_URL";
            lost("setup failed", false);
            return;
        }
        if (m_state == State::Connecting && --m_setupLeft == 0)
            setupDone();
        return;
    }
    if (!p.context)
        return;
    if (reply->type == REDIS_REPLY_ERROR && m_endpoint.usesSentinel() &&
        QByteArrayView(reply->str, qsizetype(reply->len)).startsWith("READONLY")) {
        // The wrong server: a replica. This command fails as if Redis were away (its caller falls
        // back or retries), and the next connection asks the Sentinels where the primary is: at
        // once, unless the last READONLY was less than a retry interval ago (Sentinels that still
        // name a replica are not asked in a loop).
        const bool recent = nowMs() - m_lastWrongServerMs < m_options.retryInterval.count();
        m_lastWrongServerMs = nowMs();
        QPointer<AsyncRedis> self(this);
        qCWarning(lcCache)
            << "Redis answered READONLY (a replica, not the primary); asking the Sentinels again";
        lost("READONLY", false);
        if (self && recent) {
            m_lastAttemptMs = nowMs();
            scheduleRetry();
        }
        if (p.context)
            p.done(fail(unavailable()));
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR)
        p.done(fail(ErrorCode::Internal, QString::fromUtf8(reply->str, qsizetype(reply->len))));
    else
        p.done(convert(reply));
}

void AsyncRedis::setupDone()
{
    m_state = State::Up;
    if (m_health)
        m_health->up = true;
    if (m_hadOutage) {
        m_hadOutage = false;
        qCInfo(lcCache) << "Redis connection restored";
    }
    m_keepaliveTimer.start();
    if (m_subscriber) {
        for (qsizetype i = 0; i < qsizetype(m_channels.size()) && m_ac; ++i)
            sendSubscribe(i);
        if (m_ac)
            sendSubscribe(kKeepaliveChannel);
        return; // up once every channel is confirmed
    }
    // Commands issued while connecting go out now, in the order they were issued.
    std::deque<Pending> held = std::exchange(m_held, {});
    while (!held.empty() && m_ac) {
        Pending p = std::move(held.front());
        held.pop_front();
        const QList<QByteArray> argv = std::move(p.argv);
        send(argv, std::move(p));
    }
    if (m_ac)
        reportUp();
}

void AsyncRedis::reportUp()
{
    if (m_upReported)
        return;
    m_upReported = true;
    ++m_connects;
    Q_EMIT upChanged(true);
}

void AsyncRedis::handleSubscribeReply(qsizetype channel, const void* raw)
{
    const auto* reply = static_cast<const redisReply*>(raw);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        lost("unexpected reply on the subscriber connection", false);
        return;
    }
    const QByteArrayView kind(reply->element[0]->str, qsizetype(reply->element[0]->len));
    if (kind == "message") {
        if (channel == kKeepaliveChannel || reply->element[2]->type != REDIS_REPLY_STRING)
            return;
        Channel& c = *m_channels[size_t(channel)];
        if (c.context && c.onMessage)
            c.onMessage(QByteArray(reply->element[2]->str, qsizetype(reply->element[2]->len)));
        return;
    }
    if (kind != "subscribe")
        return;
    if (m_confirmations.empty() || m_confirmations.front().channel != channel) {
        lost("unexpected subscription confirmation", false);
        return;
    }
    m_confirmations.pop_front();
    if (channel == kKeepaliveChannel)
        return;
    --m_unconfirmed;
    QPointer<AsyncRedis> self(this);
    if (m_unconfirmed == 0) {
        reportUp();
        if (!self)
            return;
    }
    Channel& c = *m_channels[size_t(channel)];
    if (!c.up) {
        c.up = true;
        if (c.context && c.onStateChange)
            c.onStateChange(true);
    }
}

void AsyncRedis::primarySwitched(const RedisEndpoint::Address& address)
{
    if (m_state == State::Idle || m_connectedTo == address)
        return;
    qCInfo(lcCache).noquote() << "Redis primary switched to" << address.first << address.second
                              << "(Sentinel); moving this connection";
    QPointer<AsyncRedis> self(this);
    if (m_state != State::Down)
        lost("the primary switched", false);
    if (!self)
        return;
    // At once, whatever the retry interval says: the new primary is known to be up.
    m_lastAttemptMs = nowMs() - m_options.retryInterval.count();
    scheduleRetry();
}

void AsyncRedis::lost(const char* why, bool hiredisFreesContext)
{
    // With Sentinel, the next connection asks where the primary is rather than trusting the address
    // (no effect after a switch: the Primary already holds another one).
    if (m_endpoint.primary)
        m_endpoint.primary->distrust(m_connectedTo);
    const bool wasUp = std::exchange(m_upReported, false);
    if (redisAsyncContext* ac = std::exchange(m_ac, nullptr)) {
        ac->data = nullptr; // its remaining callbacks are ours to answer, not hiredis's
        if (!hiredisFreesContext)
            redisAsyncFree(ac); // deferred by hiredis when inside one of its callbacks
    }
    // Once per outage, not once per attempt while Redis stays down.
    if (wasUp || !m_hadOutage)
        qCWarning(lcCache) << "Redis connection lost or refused (" << why << "); retrying in the background";
    m_state = State::Down;
    m_hadOutage = true;
    // A connection that was up is replaced at once (the next command or the timer, whichever comes
    // first); after a failed attempt the retry interval applies.
    if (wasUp)
        m_lastAttemptMs = nowMs() - m_options.retryInterval.count();
    m_setupLeft = 0;
    m_confirmations.clear();
    m_unconfirmed = 0;
    m_keepaliveTimer.stop();
    m_deadlineTimer.stop();
    if (m_health)
        m_health->up = false;
    std::vector<Pending> failed;
    failed.reserve(m_inFlight.size() + m_held.size());
    for (auto* queue : {&m_inFlight, &m_held}) {
        for (Pending& p : *queue)
            if (p.done)
                failed.push_back(std::move(p));
        queue->clear();
    }
    scheduleRetry();
    // Callbacks last: they may issue commands (which now fail fast) or delete this object.
    QPointer<AsyncRedis> self(this);
    std::vector<QPointer<QObject>> contexts;
    std::vector<std::function<void(bool)>> downs;
    for (auto& c : m_channels) {
        if (c->up) {
            c->up = false;
            contexts.push_back(c->context);
            downs.push_back(c->onStateChange);
        }
    }
    if (wasUp)
        Q_EMIT upChanged(false);
    for (size_t i = 0; i < downs.size(); ++i)
        if (contexts[i] && downs[i])
            downs[i](false);
    deliver(std::move(failed));
    Q_UNUSED(self);
}

void AsyncRedis::deliver(std::vector<Pending> failed)
{
    for (Pending& p : failed)
        if (p.context)
            p.done(fail(unavailable()));
}

void AsyncRedis::scheduleRetry()
{
    const qint64 wait = qMax<qint64>(0, m_lastAttemptMs + m_options.retryInterval.count() - nowMs());
    m_retryTimer.start(std::chrono::milliseconds(wait));
}

void AsyncRedis::armDeadline(qint64 deadlineMs)
{
    if (m_deadlineTimer.isActive() && m_deadlineTargetMs <= deadlineMs)
        return;
    m_deadlineTargetMs = deadlineMs;
    m_deadlineTimer.start(std::chrono::milliseconds(qMax<qint64>(0, deadlineMs - nowMs())));
}

void AsyncRedis::checkDeadlines()
{
    const qint64 now = nowMs();
    qint64 next = std::numeric_limits<qint64>::max();
    bool expired = false;
    auto scan = [&](qint64 deadline) {
        expired = expired || deadline <= now;
        next = qMin(next, deadline);
    };
    for (const Pending& p : m_inFlight)
        scan(p.deadlineMs);
    for (const Pending& p : m_held)
        scan(p.deadlineMs);
    for (const Confirmation& c : m_confirmations)
        scan(c.deadlineMs);
    if (expired) {
        lost("deadline missed", false);
        return;
    }
    if (next != std::numeric_limits<qint64>::max())
        armDeadline(next);
}

void AsyncRedis::keepalive()
{
    if (m_state != State::Up || !m_ac)
        return;
    if (m_subscriber) {
        sendSubscribe(kKeepaliveChannel);
        return;
    }
    // A busy connection proves itself with every answer.
    if (!m_inFlight.empty() || nowMs() - m_lastHeardMs < m_options.keepaliveInterval.count())
        return;
    Pending p;
    p.deadlineMs = nowMs() + m_options.keepaliveDeadline.count();
    send({"PING"}, std::move(p));
}

} // namespace ehrs::server
