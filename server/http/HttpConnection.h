// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "HttpLimits.h"
#include "HttpRequest.h"
#include "HttpResponder.h"
#include "HttpResponse.h"

#include <QObject>
#include <QTimer>
#include <deque>
#include <functional>
#include <http_parser.h>
#include <optional>

class QTcpSocket;

namespace ehrs::server {

/// One client connection: incremental HTTP/1.1 parsing (keep-alive, pipelining, chunked bodies)
/// with the limits of HttpLimits. Handlers answer through an HttpResponder, at once or later;
/// answers leave in request order. Back-pressure: the connection stops reading while it holds
/// HttpLimits::maxPipelined unanswered requests or more than maxUnsentBytes of unsent answers, and
/// a connection that makes no progress for idleTimeoutMs (no request, or answers the client does
/// not read) is dropped. Deletes itself when the socket closes.
class HttpConnection : public QObject
{
    Q_OBJECT
public:
    /// Called for each complete request, in order; answer through the responder, once.
    using Handler = std::function<void(HttpRequest&, HttpResponder)>;

    HttpConnection(QTcpSocket* socket, const HttpLimits& limits, Handler handler, QObject* parent = nullptr);
    ~HttpConnection() override;

    /// Unanswered requests (for tests and metrics).
    int pendingRequests() const { return int(m_slots.size()); }

Q_SIGNALS:
    void closed();

private:
    friend class HttpResponder;
    friend class HttpStream;
    bool streamWrite(const QByteArray& bytes);
    void streamClose();
    bool isStreamOpen() const { return m_streaming && !m_closing && !m_finished; }
    void answer(quint64 sequence, HttpResponse response);

    void processInput();
    void dispatchCompleted();
    void flush();
    void updateIdleTimer(bool progress);
    void onIdleTimeout();
    void onRequestTimeout();
    void onBytesWritten();
    QByteArray serialize(const HttpResponse& response, const QByteArray& requestId, bool headOnly,
                         bool keepAlive, bool streamed = false) const;
    void failAndClose(int status, const QString& message);
    void closeGracefully();
    void finish();

    static int onMessageBegin(http_parser* p);
    static int onUrl(http_parser* p, const char* at, size_t length);
    static int onHeaderField(http_parser* p, const char* at, size_t length);
    static int onHeaderValue(http_parser* p, const char* at, size_t length);
    static int onHeadersComplete(http_parser* p);
    static int onBody(http_parser* p, const char* at, size_t length);
    static int onMessageComplete(http_parser* p);
    static const http_parser_settings& settings();

    QTcpSocket* m_socket;
    HttpLimits m_limits;
    Handler m_handler;
    QTimer m_requestTimer; // from a request's first byte to its last
    QTimer m_idleTimer;    // no request coming, or unsent answers not moving
    enum class IdleMode { Off, WaitingForRequest, WaitingForReader } m_idleMode = IdleMode::Off;
    http_parser m_parser;

    // Bytes read from the socket and not parsed yet (at most one read's worth).
    QByteArray m_input;
    qsizetype m_inputPos = 0;
    bool m_processing = false;  // processInput() is on the stack
    bool m_stopReading = false; // after a request that ends the connection, an upgrade or an error
    bool m_finished = false;

    // Request being parsed.
    HttpRequest m_current;
    QByteArray m_url;
    QByteArray m_field;
    QByteArray m_value;
    bool m_lastWasValue = false;
    qint64 m_headerBytes = 0;
    bool m_inRequest = false;
    bool m_headersDone = false; // later header callbacks are chunked trailers: counted, not kept
    int m_errorStatus = 0;      // set by a callback that rejected the request
    bool m_closing = false;
    bool m_streaming = false; // a streamed response's head has left; its body follows

    // The request just completed by the parser (the parser pauses after each one).
    std::optional<HttpRequest> m_completed;
    bool m_completedKeepAlive = false;

    // Requests handed to the handler, oldest first, with their answers once given.
    struct Slot
    {
        quint64 sequence;
        QByteArray requestId;
        bool headOnly;
        bool keepAlive;
        bool answered = false;
        QByteArray bytes;
        std::function<void(HttpStream)> onStream; // a streamed response: its head is in `bytes`
    };
    std::deque<Slot> m_slots;
    quint64 m_nextSequence = 0;
};

} // namespace ehrs::server
