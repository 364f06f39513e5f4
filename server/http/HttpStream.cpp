// SPDX-License-Identifier: Apache-2.0
#include "HttpStream.h"

#include "HttpConnection.h"

namespace ehrs::server {

HttpStream::HttpStream(HttpConnection* connection) : m_connection(connection) {}

HttpConnection* HttpStream::connection() const
{
    return static_cast<HttpConnection*>(m_connection.data());
}

bool HttpStream::write(const QByteArray& bytes) const
{
    HttpConnection* c = connection();
    return c && c->streamWrite(bytes);
}

void HttpStream::close() const
{
    if (HttpConnection* c = connection())
        c->streamClose();
}

bool HttpStream::isOpen() const
{
    const HttpConnection* c = connection();
    return c && c->isStreamOpen();
}

} // namespace ehrs::server
