// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "HttpResponse.h"

#include <QPointer>

namespace ehrs::server {

class HttpConnection;

/// The way to answer one request, handed to the handler with it. A handler may answer at once or
/// later (after a database reply, on a hashing thread's completion): answers of pipelined requests
/// still leave in request order. Cheap to copy. send() must be called in the connection's thread,
/// at most once; answering a request whose client has gone does nothing.
class HttpResponder
{
public:
    HttpResponder() = default;
    HttpResponder(HttpConnection* connection, quint64 sequence)
        : m_connection(connection), m_sequence(sequence)
    {
    }

    void send(HttpResponse response) const;
    /// False once the client's connection has closed: work for it may be skipped.
    bool isConnected() const { return !m_connection.isNull(); }

private:
    QPointer<HttpConnection> m_connection;
    quint64 m_sequence = 0;
};

} // namespace ehrs::server
