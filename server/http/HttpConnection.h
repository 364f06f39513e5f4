// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "HttpLimits.h"
#include "HttpRequest.h"
#include "HttpResponse.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <http_parser.h>

class QTcpSocket;

namespace ehrs::server {

/// One client connection: incremental HTTP/1.1 parsing (keep-alive, pipelining, chunked bodies)
/// with the limits of HttpLimits, and in-order responses. Deletes itself when the socket closes.
class HttpConnection : public QObject
{
    Q_OBJECT
public:
    using Handler = std::function<HttpResponse(HttpRequest&)>;

    HttpConnection(QTcpSocket* socket, const HttpLimits& limits, Handler handler, QObject* parent = nullptr);
    ~HttpConnection() override;

Q_SIGNALS:
    void closed();

private:
    void onReadyRead();
    void onTimeout();
    void sendResponse(HttpResponse response, const QByteArray& requestId, bool headOnly, bool keepAlive);
    void failAndClose(int status, const QString& message);
    void closeGracefully();
    void armTimer();

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
    QTimer m_timer;
    http_parser m_parser;

    // Request being parsed.
    HttpRequest m_current;
    QByteArray m_url;
    QByteArray m_field;
    QByteArray m_value;
    bool m_lastWasValue = false;
    qint64 m_headerBytes = 0;
    bool m_inRequest = false;
    bool m_headersDone = false; // later header callbacks are chunked trailers: counted, not kept
    int m_errorStatus = 0; // set by a callback that rejected the request
    bool m_closing = false;

    struct Pending
    {
        HttpRequest request;
        bool keepAlive;
    };
    QList<Pending> m_ready;
};

} // namespace ehrs::server
