// SPDX-License-Identifier: Apache-2.0
#include "HttpReply.h"

#include "WireModels.h"

#include <QDateTime>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace ehrs {

int parseRetryAfter(const QByteArray& header)
{
    bool ok = false;
    const int seconds = header.trimmed().toInt(&ok);
    if (ok && seconds >= 0)
        return seconds;
    const QDateTime when = QDateTime::fromString(QString::fromLatin1(header.trimmed()), Qt::RFC2822Date);
    if (when.isValid())
        return static_cast<int>(std::max<qint64>(0, QDateTime::currentDateTimeUtc().secsTo(when)));
    return 0;
}

QString notOurServerMessage(const QString& host, int httpStatus, const QString& what)
{
    return QStringLiteral("%1 answered (HTTP %2, %3), but it is not an EHR Sessions server: check the "
                          "server address")
        .arg(host.isEmpty() ? QStringLiteral("the server") : host)
        .arg(httpStatus)
        .arg(what.isEmpty() ? QStringLiteral("no JSON") : what);
}

Result<nlohmann::json> readApiReply(QNetworkReply* reply, qint64 maxBytes)
{
    using nlohmann::json;
    const QVariant statusAttr = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!statusAttr.isValid() || statusAttr.toInt() == 0)
        return fail(ErrorCode::NetworkError,
                    QStringLiteral("Cannot reach the server (%1)").arg(reply->errorString()));
    const int status = statusAttr.toInt();
    const QByteArray data = reply->read(maxBytes);
    json parsed = json::parse(data.begin(), data.end(), nullptr, false);
    const bool isJson = !parsed.is_discarded() && parsed.is_object();
    const QString host = reply->url().host();
    const QString contentType =
        reply->header(QNetworkRequest::ContentTypeHeader).toString().section(u';', 0, 0).trimmed();
    if (status >= 200 && status < 300) {
        // Every success of the API is a JSON object; an empty body (204) counts as one.
        if (isJson)
            return parsed;
        if (data.trimmed().isEmpty())
            return json::object();
        return fail(ErrorCode::InvalidRequest, notOurServerMessage(host, status, contentType));
    }
    if (!isJson || !parsed.contains("error")) {
        // A proxy's or another program's page: transient from a gateway (502, 503, 504: the
        // server behind it is restarting or overloaded), otherwise the address is wrong.
        if (status == 502 || status == 503 || status == 504)
            return fail(ErrorCode::Unavailable,
                        QStringLiteral("the server is temporarily unavailable (HTTP %1)").arg(status),
                        parseRetryAfter(reply->rawHeader("Retry-After")));
        return fail(ErrorCode::InvalidRequest, notOurServerMessage(host, status, contentType));
    }
    Error error = apiErrorFromJson(parsed, status);
    if (status >= 500 && error.code == ErrorCode::Internal)
        error.code = ErrorCode::Unavailable; // 500/502/504: treat as transient, retry with backoff
    error.retryAfterSeconds = parseRetryAfter(reply->rawHeader("Retry-After"));
    return fail(std::move(error));
}

} // namespace ehrs
