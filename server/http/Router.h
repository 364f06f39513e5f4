// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "HttpRequest.h"
#include "HttpResponse.h"

#include <functional>
#include <vector>

namespace ehrs::server {

/// Maps method + path pattern (`/api/sessions/:id`) to a handler. A path that matches with
/// another method gives 405 with `Allow`; no match gives 404. Handlers are plain
/// request -> response functions, testable without a socket.
class Router
{
public:
    using Handler = std::function<HttpResponse(const HttpRequest&, const RouteParams&)>;

    void add(QByteArray method, QByteArray pattern, Handler handler);
    HttpResponse dispatch(const HttpRequest& request) const;
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
        Handler handler;
    };
    static bool match(const Route& route, const QList<QByteArray>& segments, RouteParams* params);

    std::vector<Route> m_routes;
};

} // namespace ehrs::server
