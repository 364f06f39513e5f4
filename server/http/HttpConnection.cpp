// SPDX-License-Identifier: Apache-2.0
#include "HttpConnection.h"

#include "Logging.h"

#include <QCoreApplication>
#include <QSslSocket>
#include <QTcpSocket>
#include <QUrl>

#include <atomic>
#include <climits>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

namespace ehrs::server {
namespace {
constexpr int kLingerMs = 2000;

HttpConnection* self(http_parser* p)
{
    return static_cast<HttpConnection*>(p->data);
}

QByteArray newRequestId()
{
    static std::atomic<quint64> counter{0};
    static const QByteArray prefix = QByteArray::number(quint64(QCoreApplication::applicationPid()), 36) + '-';
    return prefix + QByteArray::number(++counter, 36);
}

bool acceptableRequestId(const QByteArray& id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (char c : id) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}
} // namespace

const http_parser_settings& HttpConnection::settings()
{
    static const http_parser_settings s = [] {
        http_parser_settings v;
        http_parser_settings_init(&v);
        v.on_message_begin = &HttpConnection::onMessageBegin;
        v.on_url = &HttpConnection::onUrl;
        v.on_header_field = &HttpConnection::onHeaderField;
        v.on_header_value = &HttpConnection::onHeaderValue;
        v.on_headers_complete = &HttpConnection::onHeadersComplete;
        v.on_body = &HttpConnection::onBody;
        v.on_message_complete = &HttpConnection::onMessageComplete;
        return v;
    }();
    return s;
}

HttpConnection::HttpConnection(QTcpSocket* socket, const HttpLimits& limits, Handler handler, QObject* parent)
    : QObject(parent), m_socket(socket), m_limits(limits), m_handler(std::move(handler))
{
    m_socket->setParent(this);
    http_parser_init(&m_parser, HTTP_REQUEST);
    m_parser.data = this;
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpConnection::onTimeout);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        Q_EMIT closed();
        deleteLater();
    });
    armTimer();
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::onReadyRead, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::armTimer()
{
    m_timer.start(m_inRequest ? m_limits.requestTimeoutMs : m_limits.idleTimeoutMs);
}

void HttpConnection::onTimeout()
{
    if (m_inRequest)
        failAndClose(408, QStringLiteral("Request not received in time"));
    else
        m_socket->disconnectFromHost();
}

void HttpConnection::onReadyRead()
{
    if (m_closing) {
        m_socket->readAll(); // discard: we do not buffer what follows a rejected request
        return;
    }
    const QByteArray data = m_socket->readAll();
    const size_t parsed = http_parser_execute(&m_parser, &settings(), data.constData(), size_t(data.size()));
    const auto err = HTTP_PARSER_ERRNO(&m_parser);

    // Answer every complete request first, in order (pipelining).
    while (!m_ready.isEmpty() && !m_closing) {
        Pending p = m_ready.takeFirst();
        const bool head = p.request.method == "HEAD";
        const QByteArray id = p.request.requestId;
        HttpResponse response = m_handler(p.request);
        sendResponse(std::move(response), id, head, p.keepAlive);
    }
    if (m_closing)
        return;
    if (err != HPE_OK) {
        if (m_errorStatus == 413)
            failAndClose(413, QStringLiteral("Request body too large (limit %1 bytes)").arg(m_limits.maxBodyBytes));
        else if (m_errorStatus)
            failAndClose(m_errorStatus, QStringLiteral("Request rejected"));
        else
            failAndClose(400, QStringLiteral("Malformed HTTP request"));
        return;
    }
    if (m_parser.upgrade) {
        // Upgrade (h2c, websocket) is ignored as RFC 9110 allows: the request was answered
        // with Connection: close, and nothing after it is parsed.
        return;
    }
    if (parsed != size_t(data.size()))
        failAndClose(400, QStringLiteral("Malformed HTTP request"));
    // No timer restart here: bytes trickling in do not extend a request's deadline.
}

void HttpConnection::sendResponse(HttpResponse response, const QByteArray& requestId, bool headOnly, bool keepAlive)
{
    if (response.closeConnection)
        keepAlive = false;
    QByteArray out;
    out.reserve(256 + response.body.size());
    out += "HTTP/1.1 ";
    out += QByteArray::number(response.status);
    out += ' ';
    out += reasonPhrase(response.status);
    out += "\r\n";
    for (const auto& [name, value] : response.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!requestId.isEmpty()) {
        out += "X-Request-Id: ";
        out += requestId;
        out += "\r\n";
    }
    out += "Content-Length: ";
    out += QByteArray::number(response.body.size());
    out += keepAlive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    if (!headOnly)
        out += response.body;
    m_socket->write(out);
    if (!keepAlive)
        closeGracefully();
}

void HttpConnection::closeGracefully()
{
    if (m_closing)
        return;
    m_closing = true;
    m_timer.stop();
    if (qobject_cast<QSslSocket*>(m_socket)) {
        // TLS flushes its own records and sends close_notify; a raw half-close would cut them off.
        m_socket->disconnectFromHost();
        QTimer::singleShot(kLingerMs, m_socket, [s = m_socket] { s->abort(); });
        return;
    }
    // Half-close once the response is out, then drain what the client still sends for a moment:
    // closing with unread data would reset the connection and the client could lose the answer.
    auto finish = [this] {
        if (m_socket->bytesToWrite() > 0)
            return;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
        QTimer::singleShot(kLingerMs, m_socket, [s = m_socket] { s->abort(); });
    };
    connect(m_socket, &QTcpSocket::bytesWritten, this, finish);
    finish();
}

void HttpConnection::failAndClose(int status, const QString& message)
{
    static const char* names[] = {"invalid_request", "payload_too_large"};
    const char* code = status == 413 ? names[1] : names[0];
    if (status == 408)
        code = "request_timeout";
    else if (status == 414)
        code = "uri_too_long";
    else if (status == 431)
        code = "headers_too_large";
    HttpResponse r = HttpResponse::json(status, nlohmann::json{{"error", code}, {"message", message.toStdString()}});
    m_ready.clear();
    // The request may have failed before its headers (and any X-Request-Id) were read.
    if (m_current.requestId.isEmpty())
        m_current.requestId = newRequestId();
    qCInfo(lcHttp).noquote() << "rejected a request:" << status << code << "from" << m_socket->peerAddress().toString()
                             << "request id" << m_current.requestId;
    sendResponse(std::move(r), m_current.requestId, false, false);
}

int HttpConnection::onMessageBegin(http_parser* p)
{
    auto* c = self(p);
    c->m_current = HttpRequest{};
    c->m_current.peerAddress = c->m_socket->peerAddress();
    c->m_url.clear();
    c->m_field.clear();
    c->m_value.clear();
    c->m_lastWasValue = false;
    c->m_headerBytes = 0;
    c->m_inRequest = true;
    c->m_headersDone = false;
    c->armTimer(); // the request deadline starts with its first byte
    return 0;
}

int HttpConnection::onUrl(http_parser* p, const char* at, size_t length)
{
    auto* c = self(p);
    if (c->m_url.size() + qint64(length) > c->m_limits.maxUrlBytes) {
        c->m_errorStatus = 414;
        return -1;
    }
    c->m_url.append(at, qsizetype(length));
    return 0;
}

int HttpConnection::onHeaderField(http_parser* p, const char* at, size_t length)
{
    auto* c = self(p);
    c->m_headerBytes += qint64(length);
    if (c->m_headerBytes > c->m_limits.maxHeaderBytes) {
        c->m_errorStatus = 431;
        return -1;
    }
    if (c->m_headersDone)
        return 0; // a trailer: never a header of the request (found by fuzz_http_request)
    if (c->m_lastWasValue) {
        if (c->m_current.headers.size() >= c->m_limits.maxHeaderCount) {
            c->m_errorStatus = 431;
            return -1;
        }
        c->m_current.headers.append({c->m_field.toLower(), c->m_value.trimmed()});
        c->m_field.clear();
        c->m_value.clear();
        c->m_lastWasValue = false;
    }
    c->m_field.append(at, qsizetype(length));
    return 0;
}

int HttpConnection::onHeaderValue(http_parser* p, const char* at, size_t length)
{
    auto* c = self(p);
    c->m_headerBytes += qint64(length);
    if (c->m_headerBytes > c->m_limits.maxHeaderBytes) {
        c->m_errorStatus = 431;
        return -1;
    }
    if (c->m_headersDone)
        return 0;
    c->m_value.append(at, qsizetype(length));
    c->m_lastWasValue = true;
    return 0;
}

int HttpConnection::onHeadersComplete(http_parser* p)
{
    auto* c = self(p);
    c->m_headersDone = true;
    if (c->m_lastWasValue || !c->m_field.isEmpty()) {
        if (c->m_current.headers.size() >= c->m_limits.maxHeaderCount) {
            c->m_errorStatus = 431;
            return -1;
        }
        c->m_current.headers.append({c->m_field.toLower(), c->m_value.trimmed()});
    }
    // Reject an announced over-size body before reading any of it.
    if (p->content_length != ULLONG_MAX && p->content_length > quint64(c->m_limits.maxBodyBytes) &&
        !(p->flags & F_CHUNKED)) {
        c->m_errorStatus = 413;
        return -1;
    }
    c->m_current.method = http_method_str(static_cast<http_method>(p->method));
    http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(c->m_url.constData(), size_t(c->m_url.size()), 0, &u) != 0) {
        c->m_errorStatus = 400;
        return -1;
    }
    if (u.field_set & (1 << UF_PATH))
        c->m_current.path = QByteArray::fromPercentEncoding(
            c->m_url.mid(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len));
    if (u.field_set & (1 << UF_QUERY))
        c->m_current.query = c->m_url.mid(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
    const QByteArray id = c->m_current.header("x-request-id");
    c->m_current.requestId = acceptableRequestId(id) ? id : newRequestId();
    return 0;
}

int HttpConnection::onBody(http_parser* p, const char* at, size_t length)
{
    auto* c = self(p);
    if (c->m_current.body.size() + qint64(length) > c->m_limits.maxBodyBytes) {
        c->m_errorStatus = 413;
        return -1;
    }
    c->m_current.body.append(at, qsizetype(length));
    return 0;
}

int HttpConnection::onMessageComplete(http_parser* p)
{
    auto* c = self(p);
    c->m_inRequest = false;
    c->m_ready.append(Pending{std::move(c->m_current), http_should_keep_alive(p) != 0 && !p->upgrade});
    c->m_current = HttpRequest{};
    c->armTimer(); // idle deadline until the next request starts
    return 0;
}

} // namespace ehrs::server
