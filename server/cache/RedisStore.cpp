// SPDX-License-Identifier: Apache-2.0
#include "RedisStore.h"

#include "AsyncRedis.h"
#include "Logging.h"

#include <QDateTime>
#include <QUrl>
#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <vector>

namespace ehrs::server {
namespace {
timeval toTimeval(int ms)
{
    return timeval{ms / 1000, (ms % 1000) * 1000};
}

struct ReplyDeleter
{
    void operator()(redisReply* r) const
    {
        if (r)
            freeReplyObject(r);
    }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

void appendCommand(redisContext* c, const QList<QByteArray>& argv)
{
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const QByteArray& a : argv) {
        args.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    redisAppendCommandArgv(c, int(args.size()), args.data(), lens.data());
}

Error unavailable()
{
    return Error{ErrorCode::Unavailable, QStringLiteral("cache unavailable"), 1};
}
} // namespace

RedisEndpoint::Address RedisEndpoint::resolve(int timeoutMs) const
{
    if (!usesSentinel())
        return {host.toUtf8(), port};
    if (primary) {
        if (auto known = primary->trusted())
            return *known;
    }
    for (const auto& [sentinelHost, sentinelPort] : sentinels) {
        const QByteArray h = sentinelHost.toUtf8();
        redisContext* c = redisConnectWithTimeout(h.constData(), sentinelPort, toTimeval(timeoutMs));
        if (!c || c->err) {
            if (c)
                redisFree(c);
            continue;
        }
        redisSetTimeout(c, toTimeval(timeoutMs));
        appendCommand(c, {"SENTINEL", "get-master-addr-by-name", masterName.toUtf8()});
        void* raw = nullptr;
        const bool ok = redisGetReply(c, &raw) == REDIS_OK;
        ReplyPtr reply(static_cast<redisReply*>(raw));
        redisFree(c);
        if (ok && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
            reply->element[0]->type == REDIS_REPLY_STRING && reply->element[1]->type == REDIS_REPLY_STRING) {
            const QByteArray masterHost(reply->element[0]->str, qsizetype(reply->element[0]->len));
            const int masterPort =
                QByteArray(reply->element[1]->str, qsizetype(reply->element[1]->len)).toInt();
            // Every other connection of the instance moves too if this is news (a switch the
            // Sentinel subscription missed).
            if (primary)
                primary->announce({masterHost, masterPort});
            return {masterHost, masterPort};
        }
    }
    qCWarning(lcCache).noquote() << "no Sentinel of REDIS_URL knows a primary named" << masterName;
    return {};
}

RedisStore::RedisStore(RedisEndpoint endpoint, RedisHealth& health, int timeoutMs, QByteArray clientName)
    : m_endpoint(std::move(endpoint)), m_health(health), m_timeoutMs(timeoutMs), m_clientName(std::move(clientName))
{
    m_health.configured = true;
}

RedisStore::~RedisStore()
{
    if (m_primaryListener && m_endpoint.primary)
        m_endpoint.primary->unlisten(m_primaryListener);
    m_async.reset(); // drops its pending callbacks unanswered
    if (m_context)
        redisFree(m_context);
}

void RedisStore::dropConnection(const char* why)
{
    // With Sentinel, the next connection asks where the primary is rather than trusting the address.
    if (m_endpoint.primary)
        m_endpoint.primary->distrust(m_connectedTo);
    if (m_context) {
        qCWarning(lcCache) << "Redis connection lost (" << why << "); serving from the database";
        redisFree(m_context);
        m_context = nullptr;
    }
    m_hadOutage = true;
    m_health.up = false;
    m_nextAttemptMs = QDateTime::currentMSecsSinceEpoch() + 1000;
}

bool RedisStore::wrongServer(const void* rawReply)
{
    const auto* reply = static_cast<const redisReply*>(rawReply);
    if (!m_endpoint.usesSentinel() || reply->type != REDIS_REPLY_ERROR ||
        qstrncmp(reply->str, "READONLY", 8) != 0)
        return false;
    // A replica: an old primary that came back as one, or an address from before a failover.
    dropConnection("READONLY: connected to a replica");
    m_nextAttemptMs = 0; // through the Sentinels again, at once
    return true;
}

Result<void> RedisStore::ensureConnected()
{
    if (m_context && m_endpoint.primary && m_endpoint.primary->generation() != m_generation) {
        // Sentinel announced another primary since this connection was made (+switch-master).
        qCInfo(lcCache) << "Redis primary switched; reconnecting";
        redisFree(std::exchange(m_context, nullptr));
        m_nextAttemptMs = 0;
    }
    if (m_context)
        return {};
    if (QDateTime::currentMSecsSinceEpoch() < m_nextAttemptMs)
        return fail(unavailable());
    if (m_endpoint.primary)
        m_generation = m_endpoint.primary->generation();
    const auto [host, port] = m_endpoint.resolve(m_timeoutMs);
    m_connectedTo = {host, port};
    redisContext* c =
        host.isEmpty() ? nullptr : redisConnectWithTimeout(host.constData(), port, toTimeval(m_timeoutMs));
    if (!c || c->err) {
        if (c)
            redisFree(c);
        dropConnection("connect failed");
        return fail(unavailable());
    }
    redisSetTimeout(c, toTimeval(m_timeoutMs));
    redisEnableKeepAlive(c);
    m_context = c;
    QList<QList<QByteArray>> setup = m_endpoint.setupCommands();
    if (!m_clientName.isEmpty())
        setup.append({"CLIENT", "SETNAME", m_clientName});
    for (const auto& cmd : setup) {
        appendCommand(m_context, cmd);
        void* raw = nullptr;
        if (redisGetReply(m_context, &raw) != REDIS_OK) {
            dropConnection("setup failed");
            return fail(unavailable());
        }
        ReplyPtr reply(static_cast<redisReply*>(raw));
        if (reply->type == REDIS_REPLY_ERROR) {
            qCWarning(lcCache) << "Redis rejected AUTH/SELECT; check REDIS_URL";
            dropConnection("auth failed");
            return fail(unavailable());
        }
    }
    if (m_hadOutage) {
        m_hadOutage = false;
        qCInfo(lcCache) << "Redis connection restored";
    }
    m_health.up = true;
    return {};
}

QByteArray RedisStore::mode() const
{
    return m_context || (m_async && m_async->isUp()) ? QByteArrayLiteral("redis")
                                                     : QByteArrayLiteral("database-fallback");
}

void RedisStore::startAsync()
{
    if (m_async)
        return;
    AsyncRedisOptions options;
    options.deadline = std::chrono::milliseconds(m_timeoutMs);
    options.connectTimeout = std::chrono::milliseconds(qMax(m_timeoutMs, 1000));
    options.clientName = m_clientName;
    m_async = std::make_unique<AsyncRedis>(m_endpoint, options, &m_health);
    m_async->start();
    if (m_endpoint.primary) {
        // Registered after the AsyncRedis's own listener: it has moved by the time this runs.
        AsyncRedis* async = m_async.get();
        m_primaryListener = m_endpoint.primary->listen([this, async](const RedisEndpoint::Address&) {
            QMetaObject::invokeMethod(
                async, [this] { replayRecent(); }, Qt::QueuedConnection);
        });
    }
}

void RedisStore::getAsync(const QList<QByteArray>& keys, Done<Values> done)
{
    if (!m_async)
        return KeyValueStore::getAsync(keys, std::move(done));
    QList<QByteArray> argv{"MGET"};
    argv += keys;
    m_async->command(std::move(argv), m_async.get(),
                     [n = keys.size(), done = std::move(done)](Result<RedisReply> reply) {
                         if (!reply || reply->type != RedisReply::Type::Array || reply->elements.size() != n)
                             return done(fail(unavailable()));
                         Values out;
                         out.reserve(size_t(n));
                         for (const RedisReply& e : reply->elements) {
                             if (e.type == RedisReply::Type::String)
                                 out.emplace_back(e.string);
                             else
                                 out.emplace_back(std::nullopt);
                         }
                         done(std::move(out));
                     });
}

void RedisStore::applyAsync(const QList<Write>& writes, Done<void> done)
{
    if (!m_async)
        return KeyValueStore::applyAsync(writes, std::move(done));
    if (writes.isEmpty())
        return done({});
    if (m_endpoint.primary)
        remember(writes);
    applyAsyncTwice(writes, std::move(done));
}

void RedisStore::remember(const QList<Write>& writes)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    while (!m_recent.empty() && m_recent.front().atMs < now - kReplayWindowMs)
        m_recent.pop_front();
    QList<Write> invalidations;
    for (const Write& w : writes) {
        if (!w.publish && (w.ttlSeconds <= 0 || w.key.startsWith("blacklist:")))
            invalidations.append(w);
    }
    if (!invalidations.isEmpty())
        m_recent.push_back({now, std::move(invalidations)});
}

void RedisStore::replayRecent()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<Write> writes;
    for (const Recent& r : m_recent) {
        if (r.atMs >= now - kReplayWindowMs)
            writes += r.writes;
    }
    if (writes.isEmpty())
        return;
    qCInfo(lcCache) << "Redis primary switched: writing the last" << writes.size()
                    << "cache invalidations again on the new primary";
    applyAsyncTwice(writes, [](Result<void> r) {
        if (!r)
            qCWarning(lcCache) << "could not write the recent cache invalidations on the new primary";
    });
}

void RedisStore::applyAsyncTwice(const QList<Write>& writes, Done<void> done)
{
    // Sent back to back (one round trip); answered once the last reply is in.
    applyAsyncOnce(writes, [this, writes, done = std::move(done)](Result<void> r) mutable {
        if (r)
            return done({});
        // Once more: a connection that went stale is replaced by the next command (AsyncRedis),
        // and an invalidation must not wait for the once-a-second retry while other instances
        // trust what Redis holds. Fails at once, without blocking, if Redis is really down.
        applyAsyncOnce(writes, std::move(done));
    });
}

void RedisStore::applyAsyncOnce(const QList<Write>& writes, Done<void> done)
{
    struct Batch
    {
        qsizetype left;
        bool ok = true;
        Done<void> done;
    };
    // Consecutive deletes go as one DEL; the order of everything else is kept (a PUBLISH follows the
    // blacklist entry it announces).
    std::vector<QList<QByteArray>> commands;
    commands.reserve(size_t(writes.size()));
    for (const Write& w : writes) {
        if (w.publish)
            commands.push_back({"PUBLISH", w.key, w.value});
        else if (w.ttlSeconds > 0)
            commands.push_back({"SET", w.key, w.value, "EX", QByteArray::number(w.ttlSeconds)});
        else if (!commands.empty() && commands.back().first() == "DEL")
            commands.back().append(w.key);
        else
            commands.push_back({"DEL", w.key});
    }
    auto batch = std::make_shared<Batch>(Batch{qsizetype(commands.size()), true, std::move(done)});
    for (QList<QByteArray>& argv : commands) {
        m_async->command(std::move(argv), m_async.get(), [batch](Result<RedisReply> reply) {
            batch->ok = batch->ok && reply.has_value();
            if (--batch->left > 0)
                return;
            if (!batch->ok)
                return batch->done(fail(unavailable()));
            batch->done({});
        });
    }
}

void RedisStore::incrementWindowAsync(const QByteArray& currentKey, const QByteArray& previousKey,
                                      int ttlSeconds, Done<QPair<qint64, qint64>> done)
{
    if (!m_async)
        return KeyValueStore::incrementWindowAsync(currentKey, previousKey, ttlSeconds, std::move(done));
    // One script, one command, one reply: the count, its expiry when it is new, and the previous
    // window's count (the synchronous form's three commands, as the same single round trip).
    static const RedisScript script(
        QByteArrayLiteral("local c = redis.call('INCR', KEYS[1]) "
                          "if c == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
                          "return {c, tonumber(redis.call('GET', KEYS[2]) or '0') or 0}"));
    m_async->evalScript(script, {currentKey, previousKey}, {QByteArray::number(ttlSeconds)}, m_async.get(),
                        [done = std::move(done)](Result<RedisReply> reply) {
                            if (!reply || reply->type != RedisReply::Type::Array ||
                                reply->elements.size() != 2)
                                return done(fail(unavailable()));
                            done(qMakePair(reply->elements[0].toInteger(), reply->elements[1].toInteger()));
                        });
}

template <typename Call>
auto RedisStore::withRetry(Call call) -> decltype(call())
{
    const bool wasConnected = m_context != nullptr;
    if (auto r = ensureConnected(); !r)
        return fail(r.error());
    auto result = call();
    if (!result && wasConnected && !m_context) {
        // The connection had gone stale (Redis restarted, a proxy cut it): a new one, now. Waiting
        // for the once-a-second retry would leave an invalidation unwritten while Redis is up and
        // other instances trust what it holds. All commands here are idempotent or, for the rate
        // limit's INCR, err on the safe side when repeated.
        m_nextAttemptMs = 0;
        if (auto r = ensureConnected(); !r)
            return fail(r.error());
        result = call();
    }
    return result;
}

Result<std::vector<std::optional<QByteArray>>> RedisStore::get(const QList<QByteArray>& keys)
{
    return withRetry([&] { return getOnce(keys); });
}

Result<void> RedisStore::apply(const QList<Write>& writes)
{
    if (writes.isEmpty())
        return {};
    return withRetry([&] { return applyOnce(writes); });
}

Result<QPair<qint64, qint64>> RedisStore::incrementWindow(const QByteArray& currentKey, const QByteArray& previousKey,
                                                         int ttlSeconds)
{
    return withRetry([&] { return incrementWindowOnce(currentKey, previousKey, ttlSeconds); });
}

Result<std::vector<std::optional<QByteArray>>> RedisStore::getOnce(const QList<QByteArray>& keys)
{
    QList<QByteArray> argv{"MGET"};
    argv += keys;
    appendCommand(m_context, argv);
    void* raw = nullptr;
    if (redisGetReply(m_context, &raw) != REDIS_OK) {
        dropConnection("MGET failed");
        return fail(unavailable());
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != size_t(keys.size()))
        return fail(unavailable());
    std::vector<std::optional<QByteArray>> out;
    out.reserve(reply->elements);
    for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply* e = reply->element[i];
        if (e->type == REDIS_REPLY_STRING)
            out.emplace_back(QByteArray(e->str, qsizetype(e->len)));
        else
            out.emplace_back(std::nullopt);
    }
    return out;
}

Result<void> RedisStore::applyOnce(const QList<Write>& writes)
{
    for (const Write& w : writes) {
        if (w.publish)
            appendCommand(m_context, {"PUBLISH", w.key, w.value});
        else if (w.ttlSeconds > 0)
            appendCommand(m_context, {"SET", w.key, w.value, "EX", QByteArray::number(w.ttlSeconds)});
        else
            appendCommand(m_context, {"DEL", w.key});
    }
    bool ok = true;
    for (qsizetype i = 0; i < writes.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(m_context, &raw) != REDIS_OK) {
            dropConnection("write failed");
            return fail(unavailable());
        }
        ReplyPtr reply(static_cast<redisReply*>(raw));
        if (wrongServer(reply.get()))
            return fail(unavailable());
        ok = ok && reply->type != REDIS_REPLY_ERROR;
    }
    if (!ok)
        return fail(unavailable());
    return {};
}

Result<QPair<qint64, qint64>> RedisStore::incrementWindowOnce(const QByteArray& currentKey,
                                                             const QByteArray& previousKey, int ttlSeconds)
{
    appendCommand(m_context, {"INCR", currentKey});
    appendCommand(m_context, {"EXPIRE", currentKey, QByteArray::number(ttlSeconds)});
    appendCommand(m_context, {"GET", previousKey});
    qint64 values[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        void* raw = nullptr;
        if (redisGetReply(m_context, &raw) != REDIS_OK) {
            dropConnection("rate-limit count failed");
            return fail(unavailable());
        }
        ReplyPtr reply(static_cast<redisReply*>(raw));
        if (wrongServer(reply.get()))
            return fail(unavailable());
        if (reply->type == REDIS_REPLY_INTEGER)
            values[i] = reply->integer;
        else if (reply->type == REDIS_REPLY_STRING)
            values[i] = QByteArray(reply->str, qsizetype(reply->len)).toLongLong();
        else if (reply->type == REDIS_REPLY_ERROR)
            return fail(unavailable());
    }
    return qMakePair(values[0], values[2]);
}

Result<QByteArray> RedisStore::command(const QList<QByteArray>& argv)
{
    if (auto r = ensureConnected(); !r)
        return fail(r.error());
    appendCommand(m_context, argv);
    void* raw = nullptr;
    if (redisGetReply(m_context, &raw) != REDIS_OK) {
        dropConnection("command failed");
        return fail(unavailable());
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return QByteArray(reply->str, qsizetype(reply->len));
    case REDIS_REPLY_INTEGER:
        return QByteArray::number(qlonglong(reply->integer));
    case REDIS_REPLY_NIL:
        return QByteArray();
    case REDIS_REPLY_ERROR:
        return fail(ErrorCode::Internal, QString::fromUtf8(reply->str, qsizetype(reply->len)));
    default:
        return QByteArray();
    }
}

} // namespace ehrs::server
