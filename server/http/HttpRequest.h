// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QMap>
#include <QPair>

namespace ehrs::server {

/// A parsed HTTP/1.1 request as handlers see it: complete, bounded in size, header names in
/// lower case.
struct HttpRequest
{
    QByteArray method; // "GET", "POST" ...
    QByteArray path;   // percent-decoded path without the query
    QByteArray query;  // raw query string, without '?'
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QHostAddress peerAddress;
    QByteArray requestId;

    /// First value of a header (name in lower case), or empty.
    QByteArray header(QByteArrayView lowerName) const
    {
        for (const auto& [name, value] : headers) {
            if (name == lowerName)
                return value;
        }
        return {};
    }

    /// Every value of a header, in the order the lines arrived (name in lower case).
    QList<QByteArray> headerValues(QByteArrayView lowerName) const
    {
        QList<QByteArray> values;
        for (const auto& [name, value] : headers) {
            if (name == lowerName)
                values.append(value);
        }
        return values;
    }
};

/// Values of `:name` segments of the matched route.
using RouteParams = QMap<QByteArray, QByteArray>;

} // namespace ehrs::server
