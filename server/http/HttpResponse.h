// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "HttpStream.h"
#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <functional>
#include <nlohmann/json_fwd.hpp>

namespace ehrs::server {

struct HttpResponse
{
    int status = 200;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    /// Close the connection after sending (bad framing, over-size bodies).
    bool closeConnection = false;
    /// A streamed response (Server-Sent Events): the head is sent without Content-Length and,
    /// once it has left, this receives the stream that writes the body (HttpStream). `body` is
    /// ignored; the connection carries no further request.
    std::function<void(HttpStream)> onStream;

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
