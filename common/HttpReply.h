// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <nlohmann/json.hpp>

class QNetworkReply;

namespace ehrs {

/// Reads a finished QNetworkReply of the EHR Sessions API the way the agent and the app both need
/// it: a 2xx JSON body, or an Error that keeps the server's code (`session_revoked`, ...), its
/// message and Retry-After. Transport failures are NetworkError ("Cannot reach the server"),
/// 5xx answers Unavailable (worth a retry), and an answer that is not the API's JSON (an HTML
/// page, a proxy's error) says that the address is not an EHR Sessions server. Messages never
/// carry the URL's query or a header.
[[nodiscard]] Result<nlohmann::json> readApiReply(QNetworkReply* reply, qint64 maxBytes = 4 * 1024 * 1024);

/// Seconds of a Retry-After header (delta-seconds or HTTP-date); 0 when absent or unreadable.
int parseRetryAfter(const QByteArray& header);

/// The message for an answer that did not come from an EHR Sessions server.
QString notOurServerMessage(const QString& host, int httpStatus, const QString& what);

} // namespace ehrs
