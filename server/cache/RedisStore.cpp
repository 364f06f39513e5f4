// SPDX-License-Identifier: Apache-2.0
#include "RedisStore.h"

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

Result<RedisEndpoint> RedisEndpoint::parse(const QString& text)
{
    const QUrl url(text);
    if (!url.isValid() || url.scheme() != u"redis" || url.host().isEmpty())
        return fail(ErrorCode::InvalidRequest, QStringLiteral("REDIS_URL must look like redis://[:password@]host:6379/0"));
    RedisEndpoint e;
    e.host = url.host();
    e.port = url.port(6379);
    e.user = url.userName(QUrl::FullyDecoded);
    e.password = url.password(QUrl::FullyDecoded);
    const QString path = url.path().mid(1);
    if (!path.isEmpty()) {
        bool ok = false;
        e.db = path.toInt(&ok);
        if (!ok || e.db < 0)
            return fail(ErrorCode::InvalidRequest, QStringLiteral("REDIS_URL database must be a number"));
    }
    return e;
}

QList<QList<QByteArray>> RedisEndpoint::setupCommands() const
{
    QList<QList<QByteArray>> setup;
    if (!password.isEmpty()) {
        if (user.isEmpty())
            setup.append({"AUTH", password.toUtf8()});
        else
            setup.append({"AUTH", user.toUtf8(), password.toUtf8()});
    }
    if (db != 0)
        setup.append({"SELECT", QByteArray::number(db)});
    return setup;
}

RedisStore::RedisStore(RedisEndpoint endpoint, RedisHealth& health, int timeoutMs, QByteArray clientName)
    : m_endpoint(std::move(endpoint)), m_health(health), m_timeoutMs(timeoutMs), m_clientName(std::move(clientName))
{
    m_health.configured = true;
}

RedisStore::~RedisStore()
{
    if (m_context)
        redisFree(m_context);
}

void RedisStore::dropConnection(const char* why)
{
    if (m_context) {
        qCWarning(lcCache) << "Redis connection lost (" << why << "); serving from the database";
        redisFree(m_context);
        m_context = nullptr;
    }
    m_hadOutage = true;
    m_health.up = false;
    m_nextAttemptMs = QDateTime::currentMSecsSinceEpoch() + 1000;
}

Result<void> RedisStore::ensureConnected()
{
    if (m_context)
        return {};
    if (QDateTime::currentMSecsSinceEpoch() < m_nextAttemptMs)
        return fail(unavailable());
    const QByteArray host = m_endpoint.host.toUtf8();
    redisContext* c = redisConnectWithTimeout(host.constData(), m_endpoint.port, toTimeval(m_timeoutMs));
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
    return m_context ? QByteArrayLiteral("redis") : QByteArrayLiteral("database-fallback");
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
