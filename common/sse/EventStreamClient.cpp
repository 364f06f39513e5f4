// SPDX-License-Identifier: Apache-2.0
#include "EventStreamClient.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace ehrs {
namespace {
constexpr qint64 kMaxLineBytes = 256 * 1024; // an event line longer than this is not from a sane server

QUrl eventsUrl(const QUrl& server)
{
    QUrl url = server;
    QString base = url.path();
    while (base.endsWith(u'/'))
        base.chop(1);
    url.setPath(base + QStringLiteral("/api/sessions/events"));
    return url;
}

int parseRetryAfter(const QByteArray& header)
{
    bool ok = false;
    const int seconds = header.trimmed().toInt(&ok);
    return ok && seconds >= 0 ? seconds : 0;
}
} // namespace

EventStreamClient::EventStreamClient(QNetworkAccessManager& network, QObject* parent)
    : QObject(parent), m_network(network)
{
    m_retry.setSingleShot(true);
    m_watchdog.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &EventStreamClient::connectNow);
    connect(&m_watchdog, &QTimer::timeout, this, [this] {
        // Nothing, not even a heartbeat, for 2.5 heartbeats: the connection is dead (a cut
        // network, a server that vanished without a FIN).
        dropReply();
        setConnected(false);
        scheduleReconnect(false);
    });
}

EventStreamClient::~EventStreamClient()
{
    dropReply();
}

void EventStreamClient::setBackoff(int firstMs, int maxMs)
{
    m_firstBackoffMs = firstMs;
    m_maxBackoffMs = maxMs;
    m_backoffMs = firstMs;
}

void EventStreamClient::start(const QUrl& server, TokenSource token, const QString& lastEventId)
{
    stop();
    m_server = server;
    m_token = std::move(token);
    if (!lastEventId.isEmpty())
        m_lastEventId = lastEventId;
    m_running = true;
    m_backoffMs = m_firstBackoffMs;
    connectNow();
}

void EventStreamClient::stop()
{
    m_running = false;
    m_retry.stop();
    m_watchdog.stop();
    dropReply();
    setConnected(false);
}

void EventStreamClient::reconnectNow()
{
    if (!m_running)
        return;
    m_backoffMs = m_firstBackoffMs;
    dropReply();
    setConnected(false);
    m_retry.stop();
    connectNow();
}

void EventStreamClient::dropReply()
{
    if (QNetworkReply* reply = m_reply.data()) {
        m_reply.clear();
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
    m_buffer.clear();
    m_type.clear();
    m_data.clear();
    m_hasId = false;
}

void EventStreamClient::setConnected(bool connected)
{
    if (m_connected == connected)
        return;
    m_connected = connected;
    Q_EMIT connectedChanged(connected);
}

void EventStreamClient::scheduleReconnect(bool immediately)
{
    if (!m_running)
        return;
    if (immediately) {
        m_retry.start(0);
        return;
    }
    // Full jitter on the upper half, so a server restart is not met by every client at once.
    std::uniform_int_distribution<int> jitter(m_backoffMs / 2, m_backoffMs);
    m_retry.start(jitter(m_random));
    m_backoffMs = std::min(m_backoffMs * 2, m_maxBackoffMs);
}

void EventStreamClient::connectNow()
{
    if (!m_running || m_reply)
        return;
    const QString token = m_token ? m_token() : QString();
    if (token.isEmpty())
        return scheduleReconnect(false);
    QNetworkRequest request(eventsUrl(m_server));
    request.setRawHeader("Authorization", "Bearer " + token.toLatin1());
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-store");
    if (!m_lastEventId.isEmpty())
        request.setRawHeader("Last-Event-ID", m_lastEventId.toLatin1());
    // Long-lived: no transfer timeout (the watchdog watches it), never from a cache, no HTTP/2
    // (one stream per connection keeps the server's back-pressure simple).
    request.setTransferTimeout(0);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    QNetworkReply* reply = m_network.get(request);
    m_reply = reply;
    m_reconnectAtOnce = false;
    connect(reply, &QNetworkReply::readyRead, this, &EventStreamClient::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &EventStreamClient::onFinished);
    m_watchdog.start(m_heartbeatMs * 5 / 2);
}

void EventStreamClient::onReadyRead()
{
    QNetworkReply* reply = m_reply.data();
    if (!reply)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200)
        return; // an error body: read whole in onFinished()
    m_watchdog.start(m_heartbeatMs * 5 / 2);
    m_buffer += reply->readAll();
    qsizetype start = 0;
    while (true) {
        const qsizetype nl = m_buffer.indexOf('\n', start);
        if (nl < 0)
            break;
        QByteArray line = m_buffer.mid(start, nl - start);
        start = nl + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) {
            dispatch();
            if (!m_reply)
                return; // stopped or restarted by a receiver
            continue;
        }
        if (line.startsWith(':'))
            continue; // a comment: the heartbeat
        const qsizetype colon = line.indexOf(':');
        const QByteArray field = colon < 0 ? line : line.left(colon);
        QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
        if (value.startsWith(' '))
            value.remove(0, 1);
        if (field == "event") {
            m_type = value;
        } else if (field == "data") {
            if (!m_data.isEmpty())
                m_data += '\n';
            m_data += value;
        } else if (field == "id") {
            m_id = value;
            m_hasId = true;
        }
    }
    m_buffer.remove(0, start);
    if (m_buffer.size() > kMaxLineBytes || m_data.size() > kMaxLineBytes) {
        dropReply();
        setConnected(false);
        scheduleReconnect(false);
    }
}

void EventStreamClient::dispatch()
{
    if (m_hasId)
        m_lastEventId = QString::fromLatin1(m_id);
    const QByteArray type = m_type.isEmpty() ? QByteArray("message") : m_type;
    const QByteArray data = m_data;
    m_type.clear();
    m_data.clear();
    m_hasId = false;
    auto json = nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
    if (json.is_discarded())
        json = nlohmann::json::object();
    if (type == "ready") {
        setConnected(true);
        m_backoffMs = m_firstBackoffMs; // a stream that got this far is healthy again
        if (auto it = json.find("heartbeatSeconds");
            it != json.end() && it->is_number_integer() && it->get<int>() > 0)
            m_heartbeatMs = it->get<int>() * 1000;
        m_watchdog.start(m_heartbeatMs * 5 / 2);
    } else if (type == "reauthenticate") {
        m_reconnectAtOnce = true; // the server ends this stream next; come back with a new token
    }
    Q_EMIT eventReceived(type, json, m_lastEventId);
}

void EventStreamClient::onFinished()
{
    QNetworkReply* reply = m_reply.data();
    if (!reply)
        return;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = status == 200 ? QByteArray() : reply->readAll();
    const int retryAfter = parseRetryAfter(reply->rawHeader("Retry-After"));
    m_reply.clear();
    reply->deleteLater();
    m_watchdog.stop();
    setConnected(false);
    if (status >= 400) {
        Error error{ErrorCode::NetworkError,
                    QStringLiteral("the event stream was refused (HTTP %1)").arg(status), retryAfter};
        auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
        if (j.is_object() && j.contains("error") && j["error"].is_string()) {
            error.code = errorCodeFromName(j["error"].get<std::string>());
            if (j.contains("message") && j["message"].is_string())
                error.message = QString::fromStdString(j["message"].get<std::string>());
        }
        Q_EMIT refused(error);
        if (retryAfter > 0 && m_running) {
            m_retry.start(retryAfter * 1000);
            return;
        }
    }
    scheduleReconnect(m_reconnectAtOnce && status == 200);
}

} // namespace ehrs
