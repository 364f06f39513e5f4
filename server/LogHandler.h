// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>

namespace ehrs::server {

/// Installs the server's log format: "category: [request-id] message" lines, or with `json` one
/// JSON object per line ({"time","level","category","requestId","message"}, LOG_FORMAT=json).
/// The request id is the one of the request the logging thread is handling, if any. Messages
/// never carry secrets: the code that logs takes care of that.
void installLogHandler(bool json);

/// Marks the request whose work runs on this thread while the scope lives, so that its log lines
/// carry the request's id; the previous mark comes back at the end. One worker thread interleaves
/// many requests, so every piece of a request's work (the handler, each continuation after a
/// database or hashing reply) opens its own scope: the id follows the request, not the thread.
class RequestScope
{
public:
    explicit RequestScope(const QByteArray& requestId);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

    /// The id of the request whose work is running on this thread, or empty.
    static const QByteArray& current();

private:
    QByteArray m_previous;
};

} // namespace ehrs::server
