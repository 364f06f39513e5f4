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
constexpr qint64 kReadBufferBytes = 64 * 1024; // unread bytes Qt holds for us before it stops reading
constexpr qint64 kReadChunkBytes = 16 * 1024;  // parsed at a time

HttpConnection* self(http_parser* p)
{
    return static_cast<HttpConnection*>(p->data);
}

QByteArray newRequestId()
{
    static std::atomic<quint64> counter{0};
    static const QByteArray prefix =
        QByteArray::number(quint64(QCoreApplication::applicationPid()), 36) + '-';
    return prefix + QByteArray::number(++counter, 36);
}

bool acceptableRequestId(const QByteArray& id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (char c : id) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
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
    // Qt stops reading from the kernel once this much is buffered and unread: while this
    // connection does not read (back-pressure), TCP flow control holds the client back.
    m_socket->setReadBufferSize(kReadBufferBytes);
    http_parser_init(&m_parser, HTTP_REQUEST);
    m_parser.data = this;
    m_requestTimer.setSingleShot(true);
    m_idleTimer.setSingleShot(true);
    connect(&m_requestTimer, &QTimer::timeout, this, &HttpConnection::onRequestTimeout);
    connect(&m_idleTimer, &QTimer::timeout, this, &HttpConnection::onIdleTimeout);
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::processInput);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::finish);
    updateIdleTimer(false);
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::processInput, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_requestTimer.stop();
    m_idleTimer.stop();
    Q_EMIT closed();
    deleteLater();
}

void HttpConnection::updateIdleTimer(bool progress)
{
    if (m_closing || m_finished)
        return;
    IdleMode mode = IdleMode::Off;
    if (m_socket->bytesToWrite() > 0)
        mode = IdleMode::WaitingForReader;
    else if (m_streaming)
        mode = IdleMode::Off; // a live stream with nothing unsent is not idle: it waits for events
    else if (m_slots.empty() && !m_inRequest)
        mode = IdleMode::WaitingForRequest;
    if (mode == IdleMode::Off)
        m_idleTimer.stop();
    else if (mode != m_idleMode || progress)
        m_idleTimer.start(m_limits.idleTimeoutMs);
    m_idleMode = mode;
}

void HttpConnection::onIdleTimeout()
{
    if (m_idleMode == IdleMode::WaitingForReader) {
        // The client stopped reading its answers: waiting for the buffer to drain (as a graceful
        // close would) could take forever, so the connection and what it holds go now.
        qCInfo(lcHttp).noquote() << "dropped a connection that did not read its answers for"
                                 << m_limits.idleTimeoutMs / 1000 << "s from"
                                 << m_socket->peerAddress().toString();
        m_socket->abort();
        finish();
        return;
    }
    m_socket->disconnectFromHost();
}

void HttpConnection::onRequestTimeout()
{
    if (m_inRequest)
        failAndClose(408, QStringLiteral("Request not received in time"));
}

void HttpConnection::onBytesWritten()
{
    updateIdleTimer(true);
    if (!m_closing && m_socket->bytesToWrite() <= m_limits.maxUnsentBytes / 2)
        processInput(); // resumes reading if the unsent answers had paused it
}

void HttpConnection::processInput()
{
    if (m_processing || m_finished)
        return;
    if (m_closing || m_streaming) {
        m_socket->read(kReadBufferBytes); // discard: nothing after a closing answer or a stream is parsed
        return;
    }
    m_processing = true;
    while (!m_closing && !m_stopReading) {
        // Back-pressure: leave the rest in the socket (and the kernel) until answers are out.
        if (int(m_slots.size()) >= m_limits.maxPipelined ||
            m_socket->bytesToWrite() > m_limits.maxUnsentBytes)
            break;
        if (m_inputPos >= m_input.size()) {
            m_input = m_socket->read(kReadChunkBytes);
            m_inputPos = 0;
            if (m_input.isEmpty())
                break;
        }
        const size_t available = size_t(m_input.size() - m_inputPos);
        const size_t parsed =
            http_parser_execute(&m_parser, &settings(), m_input.constData() + m_inputPos, available);
        m_inputPos += qsizetype(parsed);
        const auto err = HTTP_PARSER_ERRNO(&m_parser);
        if (err == HPE_PAUSED) {
            // onMessageComplete paused the parser after one request: hand it over, then go on.
            http_parser_pause(&m_parser, 0);
            dispatchCompleted();
            continue;
        }
        if (err != HPE_OK) {
            if (m_errorStatus == 413)
                failAndClose(
                    413,
                    QStringLiteral("Request body too large (limit %1 bytes)").arg(m_limits.maxBodyBytes));
            else if (m_errorStatus)
                failAndClose(m_errorStatus, QStringLiteral("Request rejected"));
            else
                failAndClose(400, QStringLiteral("Malformed HTTP request"));
            break;
        }
        if (parsed != available) {
            failAndClose(400, QStringLiteral("Malformed HTTP request"));
            break;
        }
        // No timer restart here: bytes trickling in do not extend a request's deadline.
    }
    m_processing = false;
    updateIdleTimer(false);
}

void HttpConnection::dispatchCompleted()
{
    if (!m_completed)
        return;
    HttpRequest request = std::move(*m_completed);
    m_completed.reset();
    const bool keepAlive = m_completedKeepAlive;
    if (!keepAlive) {
        // Connection: close, HTTP/1.0 without keep-alive, or an Upgrade (ignored as RFC 9110
        // allows): this is the last request of the connection, nothing after it is parsed.
        m_stopReading = true;
    }
    const quint64 sequence = m_nextSequence++;
    m_slots.push_back(Slot{sequence, request.requestId, request.method == "HEAD", keepAlive});
    m_handler(request, HttpResponder(this, sequence));
}

void HttpConnection::answer(quint64 sequence, HttpResponse response)
{
    if (m_closing || m_finished || m_slots.empty() || sequence < m_slots.front().sequence)
        return;
    const size_t index = size_t(sequence - m_slots.front().sequence);
    if (index >= m_slots.size() || m_slots[index].answered)
        return;
    Slot& slot = m_slots[index];
    if (response.closeConnection)
        slot.keepAlive = false;
    if (response.onStream && !slot.headOnly) {
        // The body ends with the connection: it is this connection's last response.
        slot.keepAlive = false;
        m_stopReading = true;
        slot.onStream = std::move(response.onStream);
    }
    slot.bytes = serialize(response, slot.requestId, slot.headOnly, slot.keepAlive, bool(slot.onStream));
    slot.answered = true;
    if (index == 0)
        flush();
}

void HttpConnection::flush()
{
    bool wrote = false;
    while (!m_slots.empty() && m_slots.front().answered) {
        Slot slot = std::move(m_slots.front());
        m_slots.pop_front();
        m_socket->write(slot.bytes);
        wrote = true;
        if (slot.onStream) {
            m_slots.clear(); // nothing was read after it (m_stopReading)
            m_streaming = true;
            updateIdleTimer(false);
            slot.onStream(HttpStream(this));
            return;
        }
        if (!slot.keepAlive) {
            m_slots.clear(); // nothing is answered after a response that closes the connection
            closeGracefully();
            return;
        }
    }
    if (!wrote)
        return;
    updateIdleTimer(false);
    if (!m_processing)
        processInput(); // an answer freed a slot: read on if back-pressure had stopped us
}

QByteArray HttpConnection::serialize(const HttpResponse& response, const QByteArray& requestId, bool headOnly,
                                     bool keepAlive, bool streamed) const
{
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
    if (streamed) // the body ends when the connection closes (RFC 9112, 6.3)
        return out + "Connection: close\r\n\r\n";
    out += "Content-Length: ";
    out += QByteArray::number(response.body.size());
    out += keepAlive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    if (!headOnly)
        out += response.body;
    return out;
}

bool HttpConnection::streamWrite(const QByteArray& bytes)
{
    if (!isStreamOpen())
        return false;
    if (m_socket->bytesToWrite() + bytes.size() > m_limits.maxUnsentBytes) {
        // The client does not read its stream: the same bound as for pipelined answers.
        qCInfo(lcHttp).noquote() << "dropped a stream whose client does not read it, from"
                                 << m_socket->peerAddress().toString();
        m_socket->abort();
        finish();
        return false;
    }
    m_socket->write(bytes);
    updateIdleTimer(false);
    return true;
}

void HttpConnection::streamClose()
{
    if (isStreamOpen())
        closeGracefully();
}

void HttpConnection::closeGracefully()
{
    if (m_closing)
        return;
    m_closing = true;
    m_stopReading = true;
    m_requestTimer.stop();
    m_idleTimer.stop();
    // However the close goes, a client that does not read cannot keep the connection: it goes
    // once the answer has not moved for the idle timeout.
    auto* stall = new QTimer(m_socket);
    stall->setSingleShot(true);
    connect(stall, &QTimer::timeout, this, [this] {
        m_socket->abort();
        finish();
    });
    connect(m_socket, &QTcpSocket::bytesWritten, stall,
            [stall, ms = m_limits.idleTimeoutMs] { stall->start(ms); });
    stall->start(m_limits.idleTimeoutMs);
    if (qobject_cast<QSslSocket*>(m_socket)) {
        // TLS flushes its own records and sends close_notify; a raw half-close would cut them off.
        m_socket->disconnectFromHost();
        QTimer::singleShot(kLingerMs, m_socket, [s = m_socket] { s->abort(); });
        return;
    }
    // Half-close once the response is out, then drain what the client still sends for a moment:
    // closing with unread data would reset the connection and the client could lose the answer.
    auto halfClose = [this] {
        if (m_socket->bytesToWrite() > 0)
            return;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
        QTimer::singleShot(kLingerMs, m_socket, [s = m_socket] { s->abort(); });
    };
    connect(m_socket, &QTcpSocket::bytesWritten, this, halfClose);
    halfClose();
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
    HttpResponse r =
        HttpResponse::json(status, nlohmann::json{{"error", code}, {"message", message.toStdString()}});
    m_stopReading = true;
    m_inRequest = false;
    m_requestTimer.stop();
    // The request may have failed before its headers (and any X-Request-Id) were read.
    if (m_current.requestId.isEmpty())
        m_current.requestId = newRequestId();
    qCInfo(lcHttp).noquote() << "rejected a request:" << status << code << "from"
                             << m_socket->peerAddress().toString() << "request id" << m_current.requestId;
    // Answered after the requests before it (which may still be in a handler's hands).
    const quint64 sequence = m_nextSequence++;
    m_slots.push_back(Slot{sequence, m_current.requestId, false, false});
    answer(sequence, std::move(r));
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
    c->m_requestTimer.start(c->m_limits.requestTimeoutMs); // the deadline starts with the first byte
    c->updateIdleTimer(false);
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
    c->m_requestTimer.stop();
    c->m_completed = std::move(c->m_current);
    c->m_completedKeepAlive = http_should_keep_alive(p) != 0 && !p->upgrade;
    c->m_current = HttpRequest{};
    // One request at a time: processInput() hands it over, then checks back-pressure before the next.
    http_parser_pause(p, 1);
    return 0;
}

} // namespace ehrs::server
