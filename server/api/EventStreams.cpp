// SPDX-License-Identifier: Apache-2.0
#include "EventStreams.h"

#include "Logging.h"
#include "http/HttpConnection.h"

#include <QPointer>
#include <QUrlQuery>

namespace ehrs::server {
namespace {
QByteArray bearer(const HttpRequest& request)
{
    const QByteArray h = request.header("authorization").trimmed();
    return h.size() > 7 && h.left(7).toLower() == "bearer " ? h.mid(7).trimmed() : QByteArray();
}

/// Last-Event-ID (the header a browser's EventSource sends when it reconnects) or `lastEventId`
/// in the query (for clients that cannot set headers). -1: none; -2: malformed.
qint64 lastEventId(const HttpRequest& request)
{
    QByteArray value = request.header("last-event-id").trimmed();
    if (value.isEmpty()) {
        const QUrlQuery query(QString::fromLatin1(request.query));
        value = query.queryItemValue(QStringLiteral("lastEventId")).toLatin1();
    }
    if (value.isEmpty())
        return -1;
    bool ok = false;
    const qint64 id = value.toLongLong(&ok);
    return ok && id >= 0 && value.size() <= 19 ? id : -2;
}

QByteArray sseEvent(const QByteArray& type, const nlohmann::json& data, qint64 id = -1)
{
    QByteArray out;
    if (id >= 0)
        out += "id: " + QByteArray::number(id) + '\n';
    return out + "event: " + type + "\ndata: " + QByteArray::fromStdString(data.dump()) + "\n\n";
}
} // namespace

EventStreams::EventStreams(SessionService& service, SessionQueries& queries, EventHub& hub,
                           const Clock& clock, Options options)
    : m_service(service), m_queries(queries), m_hub(hub), m_clock(clock), m_options(options)
{
    m_heartbeat.setInterval(m_options.heartbeatMs);
    m_revalidate.setInterval(m_options.revalidateMs);
    connect(&m_heartbeat, &QTimer::timeout, this, &EventStreams::heartbeat);
    connect(&m_revalidate, &QTimer::timeout, this, &EventStreams::revalidate);
}

EventStreams::~EventStreams()
{
    // Before this object goes: the hub posts wake-ups to it while it is subscribed.
    for (const auto& [id, stream] : m_streams) {
        m_hub.unsubscribe(id);
        stream->http.close();
    }
}

EventStreams::Stream* EventStreams::find(quint64 id)
{
    const auto it = m_streams.find(id);
    return it == m_streams.end() ? nullptr : it->second.get();
}

void EventStreams::open(const HttpRequest& request, const AuthContext& who, Router::Respond respond)
{
    if (request.method != "GET") // HEAD: a stream has no head-only form
        return respond(HttpResponse::error(
            Error{ErrorCode::MethodNotAllowed, QStringLiteral("Use GET for the event stream")}));
    const qint64 after = lastEventId(request);
    if (after == -2)
        return respond(HttpResponse::error(Error{
            ErrorCode::InvalidRequest, QStringLiteral("Last-Event-ID must be an event id (a number)")}));
    auto id = m_hub.subscribe(who.userId, who.sessionId, this, [this](quint64 listener) { wake(listener); });
    if (!id)
        return respond(HttpResponse::error(id.error()));
    const quint64 key = *id;
    auto stream = std::make_unique<Stream>();
    stream->id = key;
    stream->who = who;
    stream->token = bearer(request);
    m_streams[key] = std::move(stream);
    // A client gone before its answer left never gets its stream started: forget it then.
    QTimer::singleShot(10'000, this, [this, key] {
        if (Stream* s = find(key); s && !s->started)
            remove(key);
    });
    if (after >= 0)
        return start(key, after, std::move(respond));
    // A new stream starts after the account's latest event: its `ready` carries that id, so the
    // client can resume from its very first connection.
    m_queries.lastAccountEventId(who.userId, this,
                                 [this, key, respond = std::move(respond)](Result<qint64> last) {
                                     if (!find(key))
                                         return;
                                     if (!last) {
                                         remove(key);
                                         return respond(HttpResponse::error(last.error()));
                                     }
                                     start(key, *last, respond);
                                 });
}

void EventStreams::start(quint64 id, qint64 lastId, Router::Respond respond)
{
    if (Stream* opening = find(id))
        opening->lastId = lastId;
    else
        return;
    HttpResponse head;
    head.status = 200;
    head.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    head.setHeader("Cache-Control", "no-store");
    head.setHeader("X-Accel-Buffering", "no"); // nginx: pass events on at once
    head.onStream = [this, id](HttpStream http) {
        Stream* s = find(id);
        if (!s) {
            http.close();
            return;
        }
        s->http = http;
        s->started = true;
        connect(http.connection(), &HttpConnection::closed, this, [this, id] { remove(id); });
        // `retry`: how long a browser's EventSource waits before it reconnects.
        http.write("retry: 2000\n" + sseEvent("ready",
                                              {{"lastEventId", s->lastId},
                                               {"sessionId", s->who.sessionId.toStdString()},
                                               {"heartbeatSeconds", m_options.heartbeatMs / 1000}},
                                              s->lastId));
        s = find(id);
        if (!s)
            return;
        // The token's end is the stream's: the client reconnects with a fresh one.
        s->expiry = std::make_unique<QTimer>();
        s->expiry->setSingleShot(true);
        connect(s->expiry.get(), &QTimer::timeout, this, [this, id] {
            endAfterRead(id, "reauthenticate",
                         {{"reason", "token_expired"},
                          {"message", "The access token expired; reconnect with a new one"}});
        });
        s->expiry->start(
            int(qBound<qint64>(0, s->who.tokenExpiresAt * 1000 - m_clock.nowMs(), qint64(86'400'000))));
        if (!m_heartbeat.isActive())
            m_heartbeat.start();
        if (!m_revalidate.isActive())
            m_revalidate.start();
        read(id); // the backlog after Last-Event-ID
    };
    respond(std::move(head));
}

void EventStreams::wake(quint64 id)
{
    Stream* s = find(id);
    if (!s || !s->started)
        return; // start() reads anyway
    read(id);
    // A row written inside a transaction is announced before its commit: look once more.
    if (!s->sweep) {
        s->sweep = std::make_unique<QTimer>();
        s->sweep->setSingleShot(true);
        connect(s->sweep.get(), &QTimer::timeout, this, [this, id] { read(id); });
    }
    if (!s->sweep->isActive())
        s->sweep->start(m_options.lateSweepMs);
}

void EventStreams::read(quint64 id)
{
    Stream* reader = find(id);
    if (!reader || !reader->started)
        return;
    if (reader->reading) {
        reader->readAgain = true;
        return;
    }
    reader->reading = true;
    m_queries.accountEvents(
        reader->who.userId, reader->lastId, m_options.batch, this,
        [this, id](Result<std::vector<AccountEventRow>> rows) {
            Stream* s = find(id);
            if (!s)
                return;
            s->reading = false;
            if (!rows) {
                // The next wake-up, sweep or revalidation reads again.
                qCWarning(lcSessions) << "could not read account events:" << rows.error().message;
            } else {
                for (const AccountEventRow& row : *rows) {
                    for (const AccountEvent& e : SessionEvents::fromAudit(row, s->who.sessionId)) {
                        if (!s->http.write(SessionEvents::sse(e)))
                            return remove(id);
                        if (e.endsStream) {
                            s->http.close();
                            return remove(id);
                        }
                    }
                    s->lastId = row.id;
                }
                if (int(rows->size()) == m_options.batch)
                    s->readAgain = true; // more backlog
            }
            if (!s->endType.isEmpty() && !s->readAgain) {
                s->http.write(sseEvent(s->endType, s->endData));
                s->http.close();
                return remove(id);
            }
            if (std::exchange(s->readAgain, false))
                read(id);
        });
}

void EventStreams::endAfterRead(quint64 id, QByteArray type, nlohmann::json data)
{
    Stream* s = find(id);
    if (!s || !s->endType.isEmpty())
        return;
    // Events committed before the end are sent first (a revocation's reason above all).
    s->endType = std::move(type);
    s->endData = std::move(data);
    read(id);
}

void EventStreams::remove(quint64 id)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end())
        return;
    m_hub.unsubscribe(id);
    std::unique_ptr<Stream> gone = std::move(it->second);
    m_streams.erase(it);
    if (m_streams.empty()) {
        m_heartbeat.stop();
        m_revalidate.stop();
    }
}

void EventStreams::heartbeat()
{
    // A write can drop a connection, whose close removes its stream: not while iterating.
    std::vector<quint64> ids;
    for (const auto& [id, s] : m_streams)
        ids.push_back(id);
    for (quint64 id : ids) {
        Stream* s = find(id);
        if (s && s->started && !s->http.write(": keep-alive\n\n"))
            remove(id);
    }
}

void EventStreams::revalidate()
{
    // Read-only (introspection's check): no activity is recorded, so an open stream does not keep
    // an idle session alive, and the previous refresh token's grace is left alone.
    std::vector<std::pair<quint64, QByteArray>> tokens;
    for (const auto& [id, s] : m_streams) {
        if (s->started)
            tokens.emplace_back(id, s->token);
    }
    for (const auto& [id, token] : tokens) {
        // Also look for events nobody announced: a change made by the CLI of a server without
        // Redis (a policy change, an IT revocation) reaches the streams here at the latest.
        read(id);
        m_service.inspect(token, [self = QPointer<EventStreams>(this), id = id](Result<JwtClaims> claims) {
            if (!self || claims || claims.error().code == ErrorCode::Unavailable)
                return; // a database outage does not end streams; the next check decides
            self->endAfterRead(id, "reauthenticate",
                               {{"reason", std::string(errorCodeName(claims.error().code))},
                                {"message", claims.error().message.toStdString()}});
        });
    }
}

} // namespace ehrs::server
