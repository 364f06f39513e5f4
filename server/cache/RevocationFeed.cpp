// SPDX-License-Identifier: Apache-2.0
#include "RevocationFeed.h"

#include "Logging.h"

#include <QDateTime>

#include <chrono>
#include <hiredis/hiredis.h>
#include <poll.h>

namespace ehrs::server {
namespace {
constexpr int kPollMs = 200;
constexpr qint64 kPingEveryMs = 2000;
constexpr qint64 kDeadAfterMs = 5000;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

bool sendCommand(redisContext* c, std::initializer_list<QByteArray> argv)
{
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const QByteArray& a : argv) {
        args.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    if (redisAppendCommandArgv(c, int(args.size()), args.data(), lens.data()) != REDIS_OK)
        return false;
    int done = 0;
    while (!done) {
        if (redisBufferWrite(c, &done) != REDIS_OK)
            return false;
    }
    return true;
}
} // namespace

RevocationFeed::RevocationFeed(RedisEndpoint endpoint, LiveSessionTable& table)
    : m_endpoint(std::move(endpoint)), m_table(table)
{
}

RevocationFeed::~RevocationFeed()
{
    stop();
}

void RevocationFeed::start()
{
    if (m_thread.joinable())
        return;
    m_stop = false;
    m_thread = std::thread([this] { run(); });
}

void RevocationFeed::stop()
{
    m_stop = true;
    if (m_thread.joinable())
        m_thread.join();
    m_up = false;
}

QByteArray RevocationFeed::revokeMessage(const QString& sessionId)
{
    return "revoke " + sessionId.toLatin1();
}

QByteArray RevocationFeed::rotateMessage(const QString& sessionId, const QByteArray& accessHash)
{
    return "rotate " + sessionId.toLatin1() + ' ' + accessHash;
}

void RevocationFeed::handleMessage(const QByteArray& payload)
{
    const QList<QByteArray> parts = payload.split(' ');
    if (parts.size() == 2 && parts[0] == "revoke")
        m_table.markRevoked(QString::fromLatin1(parts[1]), nowMs());
    else if (parts.size() == 3 && parts[0] == "rotate")
        m_table.markRotated(QString::fromLatin1(parts[1]), parts[2]);
    else
        qCWarning(lcCache) << "ignoring malformed revocation event";
}

void RevocationFeed::run()
{
    int backoffMs = 100;
    while (!m_stop) {
        const QByteArray host = m_endpoint.host.toUtf8();
        const timeval tv{1, 0};
        redisContext* c = redisConnectWithTimeout(host.constData(), m_endpoint.port, tv);
        bool ok = c && !c->err;
        if (ok) {
            redisSetTimeout(c, tv);
            if (!m_endpoint.password.isEmpty()) {
                void* reply = m_endpoint.user.isEmpty()
                                  ? redisCommand(c, "AUTH %b", m_endpoint.password.toUtf8().constData(),
                                                 size_t(m_endpoint.password.toUtf8().size()))
                                  : redisCommand(c, "AUTH %b %b", m_endpoint.user.toUtf8().constData(),
                                                 size_t(m_endpoint.user.toUtf8().size()),
                                                 m_endpoint.password.toUtf8().constData(),
                                                 size_t(m_endpoint.password.toUtf8().size()));
                ok = reply && static_cast<redisReply*>(reply)->type != REDIS_REPLY_ERROR;
                if (reply)
                    freeReplyObject(reply);
            }
        }
        if (ok) {
            void* reply = redisCommand(c, "SUBSCRIBE %s", kChannel);
            ok = reply && static_cast<redisReply*>(reply)->type == REDIS_REPLY_ARRAY;
            if (reply)
                freeReplyObject(reply);
        }
        if (!ok) {
            if (c)
                redisFree(c);
            m_up = false;
            std::this_thread::sleep_for(std::chrono::milliseconds(backoffMs));
            backoffMs = std::min(backoffMs * 2, 2000);
            continue;
        }
        // Subscribed: anything learnt before may be stale, so start from nothing.
        m_table.clear();
        m_up.store(true, std::memory_order_release);
        ++m_connects;
        backoffMs = 100;
        qCInfo(lcCache) << "revocation feed subscribed";
        qint64 lastPing = nowMs();
        qint64 lastHeard = lastPing;
        while (!m_stop) {
            void* raw = nullptr;
            if (redisGetReplyFromReader(c, &raw) != REDIS_OK)
                break;
            if (raw) {
                lastHeard = nowMs();
                auto* r = static_cast<redisReply*>(raw);
                if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING &&
                    QByteArrayView(r->element[0]->str, qsizetype(r->element[0]->len)) == "message")
                    handleMessage(QByteArray(r->element[2]->str, qsizetype(r->element[2]->len)));
                freeReplyObject(raw);
                continue;
            }
            const qint64 now = nowMs();
            if (now - lastHeard > kDeadAfterMs)
                break; // no answer to our pings: the connection is dead
            if (now - lastPing >= kPingEveryMs) {
                if (!sendCommand(c, {"PING"}))
                    break;
                lastPing = now;
            }
            pollfd p{c->fd, POLLIN, 0};
            const int n = ::poll(&p, 1, kPollMs);
            if (n < 0)
                break;
            if (n > 0 && redisBufferRead(c) != REDIS_OK)
                break;
        }
        m_up.store(false, std::memory_order_release);
        redisFree(c);
        if (!m_stop)
            qCWarning(lcCache) << "revocation feed lost; validating against Redis/the database until it is back";
    }
}

} // namespace ehrs::server
