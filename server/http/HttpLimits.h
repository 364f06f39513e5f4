// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QtGlobal>

namespace ehrs::server {

/// Bounds that keep one client from exhausting the server (QHttpServer 6.4 has none of them).
struct HttpLimits
{
    qint64 maxBodyBytes = 64 * 1024;   // larger bodies: 413 and the connection closes
    qint64 maxHeaderBytes = 16 * 1024; // all header names + values: 431
    int maxHeaderCount = 100;          // 431
    qint64 maxUrlBytes = 8 * 1024;     // 414
    int requestTimeoutMs = 10'000;     // from a request's first byte to its last: 408 (slow clients)
    int idleTimeoutMs = 60'000;        // no progress in either direction (no request, or a client
                                       // that does not read its answers): closed
    int maxConnections = 4096;         // per worker; beyond it new connections get 503 and close
    int maxConnectionsPerClient = 256; // per client address (IPv6: per /64), all workers; 0: no cap
    // Back-pressure: past either bound the connection stops reading (TCP then stops the client),
    // so a client that pipelines without reading costs a bounded amount of memory.
    int maxPipelined = 16;              // requests read but not yet answered
    qint64 maxUnsentBytes = 256 * 1024; // answers written but not yet taken by the kernel
};

} // namespace ehrs::server
