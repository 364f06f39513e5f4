// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QString>

namespace ehrs::server {

/// Where a request came from (client IP already resolved through trusted proxies).
struct RequestInfo
{
    QString ipAddress;
    QString userAgent;
};

/// The verified identity behind a request: only ever built from a valid access token.
struct AuthContext
{
    QString userId;
    QString sessionId;
    QByteArray accessHash;
    qint64 tokenExpiresAt = 0; // seconds
    qint64 tokenIssuedAt = 0;  // seconds
};

} // namespace ehrs::server
