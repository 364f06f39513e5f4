// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QPair>

#include <nlohmann/json_fwd.hpp>

namespace ehrs::server {

struct HttpResponse
{
    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    /// Close the connection after sending (bad framing, over-size bodies).
    bool closeConnection = false;

    void setHeader(const QByteArray& name, const QByteArray& value);
    bool hasHeader(const QByteArray& name) const;

    static HttpResponse json(int status, const nlohmann::json& body);
    static HttpResponse text(int status, QByteArray body, QByteArray contentType = "text/plain; charset=utf-8");
    /// `{error, message}` with the status that belongs to the code (ErrorMapping.cpp), plus
    /// Retry-After where the error carries one.
    static HttpResponse error(const Error& error);
};

/// The single place where an ErrorCode becomes an HTTP status.
int httpStatusFor(ErrorCode code);
/// Reason phrase for a status line.
QByteArray reasonPhrase(int status);

} // namespace ehrs::server
