// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QPointer>

namespace ehrs::server {

class HttpConnection;

/// The body of a long-lived response (Server-Sent Events), handed to HttpResponse::onStream once
/// the response's head has left. The body ends when the connection closes (no Content-Length), so
/// the stream is the last response of its connection. Writes never wait: a client that does not
/// read what it was sent loses the connection once it holds more than HttpLimits::maxUnsentBytes
/// or makes no progress for the idle timeout; a stream with nothing unsent is never idle-closed.
/// Cheap to copy; use it in the connection's thread only.
class HttpStream
{
public:
    HttpStream() = default;
    explicit HttpStream(HttpConnection* connection);

    /// Queues `bytes` for the client. False once the connection is gone (or was dropped now
    /// because the client does not read).
    bool write(const QByteArray& bytes) const;
    /// Ends the response: what was written is sent, then the connection closes.
    void close() const;
    bool isOpen() const;
    /// The connection (a QObject whose destruction means the client is gone), or null.
    HttpConnection* connection() const;

private:
    QPointer<QObject> m_connection; // an HttpConnection (incomplete here)
};

} // namespace ehrs::server
