// SPDX-License-Identifier: Apache-2.0
// The server's HTTP/1.1 request parsing: the real HttpConnection (Debian's http_parser and the
// callbacks of server/http/HttpConnection.cpp) driven without a network, through a QTcpSocket
// whose reads and writes are served from memory.
//
// Input: the bytes a client sends, followed by parameters that FuzzedDataProvider takes from the
// end: which limits apply (the defaults or small ones, to reach 413/414/431 quickly) and where the
// bytes are cut into reads. Every request a handler sees must be within the limits, and nothing
// may be answered after a response that closes the connection.

#include "FuzzSupport.h"
#include "HttpConnection.h"
#include "HttpLimits.h"
#include "HttpRequest.h"
#include "HttpResponse.h"

#include <QCoreApplication>
#include <QTcpSocket>
#include <cstring>
#include <fuzzer/FuzzedDataProvider.h>
#include <http_parser.h>
#include <nlohmann/json.hpp>
#include <vector>

using namespace ehrs;
using namespace ehrs::server;

namespace {
// A connected client as HttpConnection sees it: readyRead() after each delivered chunk, writes kept.
class MemorySocket final : public QTcpSocket
{
public:
    MemorySocket() { setOpenMode(QIODevice::ReadWrite); }

    void deliver(QByteArrayView bytes)
    {
        m_in.append(bytes.data(), bytes.size());
        Q_EMIT readyRead();
    }
    const QByteArray& written() const { return m_out; }

    qint64 bytesAvailable() const override { return m_in.size() - m_read + QIODevice::bytesAvailable(); }
    // Written bytes stay "in flight": closeGracefully() then waits for bytesWritten() instead of
    // calling shutdown() on a descriptor this socket does not have and arming a linger timer.
    qint64 bytesToWrite() const override { return m_out.size(); }

protected:
    qint64 readData(char* data, qint64 maxSize) override
    {
        const qint64 n = std::min(maxSize, qint64(m_in.size() - m_read));
        if (n > 0)
            std::memcpy(data, m_in.constData() + m_read, size_t(n));
        m_read += n;
        return n;
    }
    qint64 writeData(const char* data, qint64 size) override
    {
        m_out.append(data, qsizetype(size));
        return size;
    }

private:
    QByteArray m_in;
    qint64 m_read = 0;
    QByteArray m_out;
};

HttpLimits smallLimits()
{
    HttpLimits l;
    l.maxBodyBytes = 64;
    l.maxHeaderBytes = 256;
    l.maxHeaderCount = 8;
    l.maxUrlBytes = 128;
    return l;
}

bool acceptableRequestId(const QByteArray& id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (const char c : id) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

void checkRequest(const HttpRequest& r, const HttpLimits& limits)
{
    FUZZ_CHECK(!r.method.isEmpty(), QStringLiteral("request without a method"));
    FUZZ_CHECK(
        r.body.size() <= limits.maxBodyBytes,
        QStringLiteral("body of %1 bytes passed a limit of %2").arg(r.body.size()).arg(limits.maxBodyBytes));
    FUZZ_CHECK(
        r.headers.size() <= limits.maxHeaderCount,
        QStringLiteral("%1 headers passed a limit of %2").arg(r.headers.size()).arg(limits.maxHeaderCount));
    qint64 headerBytes = 0;
    for (const auto& [name, value] : r.headers) {
        headerBytes += name.size() + value.size();
        for (const char c : name)
            FUZZ_CHECK(!(c >= 'A' && c <= 'Z'),
                       QStringLiteral("header name not in lower case: ") + fuzz::shown(name));
    }
    FUZZ_CHECK(
        headerBytes <= limits.maxHeaderBytes,
        QStringLiteral("%1 header bytes passed a limit of %2").arg(headerBytes).arg(limits.maxHeaderBytes));
    FUZZ_CHECK(r.path.size() + r.query.size() <= limits.maxUrlBytes, QStringLiteral("URL passed the limit"));
    FUZZ_CHECK(acceptableRequestId(r.requestId), QStringLiteral("request id ") + fuzz::shown(r.requestId));
}

// The status lines of what was written, in order; body bytes are never status lines here, as
// every body is JSON.
std::vector<QByteArray> responses(const QByteArray& out)
{
    std::vector<QByteArray> all;
    qsizetype at = out.indexOf("HTTP/1.1 ");
    while (at >= 0) {
        const qsizetype next = out.indexOf("HTTP/1.1 ", at + 1);
        all.push_back(out.mid(at, next < 0 ? -1 : next - at));
        at = next;
    }
    return all;
}

// The reference reading of the same bytes: the same http_parser, with textbook callbacks. A
// request's header section is what comes before its body; trailer fields of a chunked body are
// not header fields (RFC 9110, 6.5.1) and are not merged into them.
struct ReferenceMessage
{
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
};

class Reference
{
public:
    Reference()
    {
        http_parser_init(&m_parser, HTTP_REQUEST);
        m_parser.data = this;
        http_parser_settings_init(&m_settings);
        m_settings.on_message_begin = [](http_parser* p) {
            self(p)->m_current = ReferenceMessage{};
            self(p)->m_field.clear();
            self(p)->m_value.clear();
            self(p)->m_lastWasValue = false;
            self(p)->m_inHeaders = true;
            return 0;
        };
        m_settings.on_header_field = [](http_parser* p, const char* at, size_t n) {
            Reference* r = self(p);
            if (!r->m_inHeaders)
                return 0; // a trailer field
            if (r->m_lastWasValue) {
                r->pushHeader();
                r->m_lastWasValue = false;
            }
            r->m_field.append(at, qsizetype(n));
            return 0;
        };
        m_settings.on_header_value = [](http_parser* p, const char* at, size_t n) {
            Reference* r = self(p);
            if (!r->m_inHeaders)
                return 0;
            r->m_value.append(at, qsizetype(n));
            r->m_lastWasValue = true;
            return 0;
        };
        m_settings.on_headers_complete = [](http_parser* p) {
            Reference* r = self(p);
            if (r->m_lastWasValue || !r->m_field.isEmpty())
                r->pushHeader();
            r->m_inHeaders = false;
            return 0;
        };
        m_settings.on_body = [](http_parser* p, const char* at, size_t n) {
            self(p)->m_current.body.append(at, qsizetype(n));
            return 0;
        };
        m_settings.on_message_complete = [](http_parser* p) {
            self(p)->messages.push_back(std::move(self(p)->m_current));
            // After an Upgrade request the bytes are another protocol's: nothing more is HTTP.
            self(p)->m_upgraded = p->upgrade != 0;
            return 0;
        };
    }

    void feed(QByteArrayView bytes)
    {
        // An empty read is not the end of the stream (http_parser would take a zero length as
        // EOF); the connection does not feed one to its parser either.
        if (m_stopped || bytes.isEmpty())
            return;
        const size_t parsed = http_parser_execute(&m_parser, &m_settings, bytes.data(), size_t(bytes.size()));
        m_stopped = HTTP_PARSER_ERRNO(&m_parser) != HPE_OK || m_upgraded || parsed != size_t(bytes.size());
    }

    std::vector<ReferenceMessage> messages;

private:
    static Reference* self(http_parser* p) { return static_cast<Reference*>(p->data); }
    void pushHeader()
    {
        m_current.headers.append({m_field.toLower(), m_value.trimmed()});
        m_field.clear();
        m_value.clear();
    }

    http_parser m_parser;
    http_parser_settings m_settings;
    ReferenceMessage m_current;
    QByteArray m_field;
    QByteArray m_value;
    bool m_lastWasValue = false;
    bool m_inHeaders = false;
    bool m_upgraded = false;
    bool m_stopped = false;
};

QString shownHeaders(const QList<QPair<QByteArray, QByteArray>>& headers)
{
    QString out;
    for (const auto& [name, value] : headers)
        out += fuzz::shown(name) + QStringLiteral(": ") + fuzz::shown(value) + QStringLiteral(" | ");
    return out;
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv)
{
    fuzz::quietQtMessages();
    // HttpConnection arms QTimers: they need the event dispatcher of an application object.
    static QCoreApplication app(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    FuzzedDataProvider fdp(data, size);
    const HttpLimits limits = fdp.ConsumeBool() ? smallLimits() : HttpLimits{};
    std::vector<qsizetype> cuts(fdp.ConsumeIntegralInRange(0, 16));
    for (auto& cut : cuts)
        cut = fdp.ConsumeIntegral<quint16>();
    const std::vector<uint8_t> bytes = fdp.ConsumeRemainingBytes<uint8_t>();
    const QByteArrayView stream(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size()));

    std::vector<HttpRequest> seen;
    bool closedBefore = false; // a closing response had been written when the handler was called
    auto* socket = new MemorySocket;
    auto* connection = new HttpConnection(socket, limits, [&](HttpRequest& request, HttpResponder responder) {
        checkRequest(request, limits);
        seen.push_back(request);
        closedBefore = closedBefore || socket->written().contains("Connection: close");
        responder.send(HttpResponse::json(200, nlohmann::json{{"ok", true}}));
    });

    Reference reference;
    qsizetype pos = 0;
    for (size_t i = 0; pos < stream.size(); ++i) {
        const qsizetype n = i < cuts.size() ? std::min(cuts[i], stream.size() - pos) : stream.size() - pos;
        socket->deliver(stream.sliced(pos, n));
        reference.feed(stream.sliced(pos, n));
        pos += n;
    }

    FUZZ_CHECK(!closedBefore, QStringLiteral("a request was handled after the connection was closing"));
    const std::vector<QByteArray> written = responses(socket->written());
    int answered = 0;
    for (size_t i = 0; i < written.size(); ++i) {
        const QByteArray& r = written[i];
        answered += r.startsWith("HTTP/1.1 200 ") ? 1 : 0;
        FUZZ_CHECK(r.contains("\r\nContent-Length: "),
                   QStringLiteral("response without Content-Length: ") + fuzz::shown(r));
        if (r.contains("Connection: close"))
            FUZZ_CHECK(i + 1 == written.size(),
                       QStringLiteral("a response was written after Connection: close"));
    }
    const int handled = int(seen.size());
    FUZZ_CHECK(answered == handled,
               QStringLiteral("%1 requests handled, %2 answered").arg(handled).arg(answered));

    // The requests handled are the first ones of the stream, with their own headers and body.
    FUZZ_CHECK(seen.size() <= reference.messages.size(),
               QStringLiteral("%1 requests handled, the stream holds %2")
                   .arg(seen.size())
                   .arg(reference.messages.size()));
    for (size_t i = 0; i < seen.size(); ++i) {
        const ReferenceMessage& want = reference.messages[i];
        FUZZ_CHECK(seen[i].headers == want.headers,
                   QStringLiteral("request %1 headers: got %2 expected %3")
                       .arg(i)
                       .arg(shownHeaders(seen[i].headers), shownHeaders(want.headers)));
        FUZZ_CHECK(seen[i].body == want.body, QStringLiteral("request %1 body differs").arg(i));
    }
    delete connection; // owns the socket
    return 0;
}
