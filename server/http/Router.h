// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "HttpRequest.h"
#include "HttpResponse.h"

#include <functional>
#include <vector>

namespace ehrs::server {

/// Maps method + path pattern (`/api/sessions/:id`) to a handler. A path that matches with
/// another method gives 405 with `Allow`; no match gives 404. Handlers are request -> response
/// functions, testable without a socket: plain ones answer at once, asynchronous ones call
/// `respond` once, later (it must be called in the thread that dispatched).
class Router
{
public:
    using Respond = std::function<void(HttpResponse)>;
    using Handler = std::function<HttpResponse(const HttpRequest&, const RouteParams&)>;
    using AsyncHandler = std::function<void(const HttpRequest&, const RouteParams&, Respond)>;

    void add(QByteArray method, QByteArray pattern, Handler handler);
    void addAsync(QByteArray method, QByteArray pattern, AsyncHandler handler);
    void dispatch(const HttpRequest& request, Respond respond) const;
    /// "METHOD pattern" of every route, for the OpenAPI check and metrics labels.
    QList<QByteArray> routes() const;
    /// The pattern that matches a path (for metrics labels), or "unmatched".
    QByteArray patternFor(const HttpRequest& request) const;

private:
    struct Route
    {
        QByteArray method;
        QByteArray pattern;
        QList<QByteArray> segments;
        AsyncHandler handler;
    };
    static bool match(const Route& route, const QList<QByteArray>& segments, RouteParams* params);

    std::vector<Route> m_routes;
};

} // namespace ehrs::server
