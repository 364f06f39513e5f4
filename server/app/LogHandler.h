// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>

namespace ehrs::server {

/// Installs the server's log format: "category: [request-id] message" lines, or with `json` one
/// JSON object per line ({"time","level","category","requestId","message"}, LOG_FORMAT=json).
/// The request id is the one of the request the logging thread is handling, if any. Messages
/// never carry secrets: the code that logs takes care of that.
void installLogHandler(bool json);

/// Marks the request a worker thread is handling (empty: none), for log lines.
void setCurrentRequestId(const QByteArray& id);

} // namespace ehrs::server
