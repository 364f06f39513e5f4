// SPDX-License-Identifier: Apache-2.0
#include "HttpResponse.h"

#include <nlohmann/json.hpp>

namespace ehrs::server {

void HttpResponse::setHeader(const QByteArray& name, const QByteArray& value)
{
    for (auto& h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0) {
            h.second = value;
            return;
        }
    }
    headers.append({name, value});
}

bool HttpResponse::hasHeader(const QByteArray& name) const
{
    for (const auto& h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body)
{
    HttpResponse r;
    r.status = status;
    const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    r.body = QByteArray(text.data(), qsizetype(text.size()));
    r.headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
    return r;
}

HttpResponse HttpResponse::text(int status, QByteArray body, QByteArray contentType)
{
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers.append({QByteArrayLiteral("Content-Type"), std::move(contentType)});
    return r;
}

HttpResponse HttpResponse::error(const Error& error)
{
    const int status = httpStatusFor(error.code);
    QString message = error.message;
    if (status >= 500 && error.code == ErrorCode::Internal)
        message = QStringLiteral("Internal error"); // details stay in the log, never in a response
    nlohmann::json body{{"error", std::string(errorCodeName(error.code))},
                        {"message", message.toStdString()}};
    if (error.attemptsLeft >= 0)
        body["attemptsLeft"] = error.attemptsLeft;
    if (!error.helpText.isEmpty())
        body["helpText"] = error.helpText.toStdString();
    HttpResponse r = json(status, body);
    if (error.retryAfterSeconds > 0)
        r.setHeader(QByteArrayLiteral("Retry-After"), QByteArray::number(error.retryAfterSeconds));
    else if (status == 503 || status == 429)
        r.setHeader(QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1"));
    if (status == 401)
        r.setHeader(QByteArrayLiteral("WWW-Authenticate"), QByteArrayLiteral("Bearer"));
    return r;
}

int httpStatusFor(ErrorCode code)
{
    switch (code) {
    case ErrorCode::InvalidRequest: return 400;
    case ErrorCode::Unauthenticated:
    case ErrorCode::SessionRevoked:
    case ErrorCode::RefreshReused:
    case ErrorCode::SessionExpired: return 401;
    case ErrorCode::Forbidden: return 403;
    case ErrorCode::NotFound: return 404;
    case ErrorCode::MethodNotAllowed: return 405;
    case ErrorCode::Conflict: return 409;
    case ErrorCode::PayloadTooLarge: return 413;
    case ErrorCode::RateLimited: return 429;
    case ErrorCode::Unavailable:
    case ErrorCode::NetworkError: return 503;
    case ErrorCode::StorageError:
    case ErrorCode::Internal: return 500;
    }
    return 500;
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

} // namespace ehrs::server
