// SPDX-License-Identifier: Apache-2.0
#include "Router.h"

namespace ehrs::server {
namespace {
QList<QByteArray> splitPath(const QByteArray& path)
{
    QList<QByteArray> out = path.split('/');
    out.removeAll(QByteArray());
    return out;
}
} // namespace

void Router::add(QByteArray method, QByteArray pattern, Handler handler)
{
    addAsync(std::move(method), std::move(pattern),
             [handler = std::move(handler)](const HttpRequest& request, const RouteParams& params,
                                            Respond respond) { respond(handler(request, params)); });
}

void Router::addAsync(QByteArray method, QByteArray pattern, AsyncHandler handler)
{
    Route r{std::move(method), pattern, splitPath(pattern), std::move(handler)};
    m_routes.push_back(std::move(r));
}

bool Router::match(const Route& route, const QList<QByteArray>& segments, RouteParams* params)
{
    if (route.segments.size() != segments.size())
        return false;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const QByteArray& want = route.segments[i];
        if (want.startsWith(':')) {
            if (params)
                params->insert(want.mid(1), segments[i]);
        } else if (want != segments[i]) {
            return false;
        }
    }
    return true;
}

void Router::dispatch(const HttpRequest& request, Respond respond) const
{
    const QList<QByteArray> segments = splitPath(request.path);
    QList<QByteArray> allowed;
    for (const Route& route : m_routes) {
        RouteParams params;
        if (!match(route, segments, &params))
            continue;
        if (route.method == request.method || (request.method == "HEAD" && route.method == "GET"))
            return route.handler(request, params, std::move(respond));
        if (!allowed.contains(route.method))
            allowed.append(route.method);
    }
    if (!allowed.isEmpty()) {
        HttpResponse r = HttpResponse::error(
            Error{ErrorCode::MethodNotAllowed,
                  QStringLiteral("Method %1 is not allowed here").arg(QString::fromLatin1(request.method))});
        r.setHeader(QByteArrayLiteral("Allow"), allowed.join(", "));
        return respond(std::move(r));
    }
    respond(HttpResponse::error(Error{ErrorCode::NotFound, QStringLiteral("No such endpoint")}));
}

QList<QByteArray> Router::routes() const
{
    QList<QByteArray> out;
    for (const Route& r : m_routes)
        out.append(r.method + ' ' + r.pattern);
    return out;
}

QByteArray Router::patternFor(const HttpRequest& request) const
{
    const QList<QByteArray> segments = splitPath(request.path);
    for (const Route& route : m_routes) {
        if (match(route, segments, nullptr))
            return route.pattern;
    }
    return QByteArrayLiteral("unmatched");
}

} // namespace ehrs::server
