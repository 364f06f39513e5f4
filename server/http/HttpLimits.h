// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QtGlobal>

namespace ehrs::server {

/// Bounds that keep one client from exhausting the server (QHttpServer 6.4 has none of them).
struct HttpLimits
{
    qint64 maxBodyBytes = 64 * 1024;     // larger bodies: 413 and the connection closes
    qint64 maxHeaderBytes = 16 * 1024;   // all header names + values: 431
    int maxHeaderCount = 100;            // 431
    qint64 maxUrlBytes = 8 * 1024;       // 414
    int requestTimeoutMs = 10'000;       // from a request's first byte to its last: 408 (slow clients)
    int idleTimeoutMs = 60'000;          // keep-alive connection with no request: closed
    int maxConnections = 4096;           // per worker; beyond it new connections get 503 and close
};

} // namespace ehrs::server
