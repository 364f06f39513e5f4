// SPDX-License-Identifier: Apache-2.0
#include "HttpMetrics.h"

#include <QHashFunctions>
#include <QReadLocker>
#include <QWriteLocker>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace ehrs::server {

namespace {

constexpr std::array<QByteArrayView, 8> methods{"GET",    "HEAD",  "POST",    "PUT",
                                                "DELETE", "PATCH", "OPTIONS", "OTHER"};

int methodIndex(QByteArrayView method)
{
    for (std::size_t i = 0; i + 1 < methods.size(); ++i) {
        if (methods[i] == method)
            return int(i);
    }
    return int(methods.size() - 1);
}

prometheus::Family<prometheus::Counter>& counterFamily(prometheus::Registry& registry, const char* name,
                                                       const char* help)
{
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

} // namespace

HttpMetrics::HttpMetrics(MetricsRegistry& registry)
    : m_registry(registry),
      m_requestFamily(counterFamily(registry.registry(), "ehrs_http_requests_total",
                                    "HTTP requests handled, by route, method and status.")),
      m_durationFamily(prometheus::BuildHistogram()
                           .Name("ehrs_http_request_duration_seconds")
                           .Help("Time from a complete request to its response, by route and method.")
                           .Register(registry.registry())),
      m_refreshes(counterFamily(registry.registry(), "ehrs_refreshes_total",
                                "Refresh tokens exchanged for a new token pair.")
                      .Add({})),
      m_reuseDetected(counterFamily(registry.registry(), "ehrs_refresh_reuse_detected_total",
                                    "Rotated refresh tokens presented again; the session was revoked.")
                          .Add({})),
      m_revocations{
          counterFamily(registry.registry(), "ehrs_revocations_total", "Sessions revoked, by reason."),
          "reason"},
      m_rateLimited{counterFamily(registry.registry(), "ehrs_rate_limited_total",
                                  "Requests refused by a rate limit, by scope."),
                    "scope"},
      m_logins{counterFamily(registry.registry(), "ehrs_logins_total", "Login attempts, by result."),
               "result"}
{
}

void HttpMetrics::observeRequest(QByteArrayView route, QByteArrayView method, int status, double seconds)
{
    const RequestKeyView key{route, methodIndex(method), status};
    RequestSeries series;
    {
        const QReadLocker lock(&m_requestsLock);
        if (const auto it = m_requests.find(key); it != m_requests.end())
            series = it->second;
    }
    if (!series.requests)
        series = createRequestSeries(key);
    series.requests->Increment();
    series.duration->Observe(seconds);
}

void HttpMetrics::refreshed()
{
    m_refreshes.Increment();
}

void HttpMetrics::refreshReuseDetected()
{
    m_reuseDetected.Increment();
}

void HttpMetrics::revoked(QByteArrayView reason)
{
    counterFor(m_revocations, reason).Increment();
}

void HttpMetrics::rateLimited(QByteArrayView scope)
{
    counterFor(m_rateLimited, scope).Increment();
}

void HttpMetrics::login(QByteArrayView result)
{
    counterFor(m_logins, result).Increment();
}

void HttpMetrics::watchActiveSessions(std::function<double()> count)
{
    m_registry.gaugeCallback("ehrs_active_sessions", "Sessions neither revoked nor expired.",
                             std::move(count));
}

void HttpMetrics::watchRedisUp(std::function<bool()> up)
{
    m_registry.gaugeCallback(
        "ehrs_redis_up", "1 while Redis is in use, 0 while the server falls back to its in-process cache.",
        [up = std::move(up)] { return up() ? 1.0 : 0.0; });
}

HttpMetrics::RequestSeries HttpMetrics::createRequestSeries(RequestKeyView key)
{
    const QWriteLocker lock(&m_requestsLock);
    if (const auto it = m_requests.find(key); it != m_requests.end())
        return it->second;
    const QByteArray route = key.route.toByteArray();
    const std::string routeLabel = route.toStdString();
    const std::string method = methods[std::size_t(key.method)].toByteArray().toStdString();
    RequestSeries series;
    series.requests = &m_requestFamily.Add(
        {{"route", routeLabel}, {"method", method}, {"status", std::to_string(key.status)}});
    series.duration = &m_durationFamily.Add(
        {{"route", routeLabel}, {"method", method}},
        prometheus::Histogram::BucketBoundaries(durationBuckets.begin(), durationBuckets.end()));
    m_requests.emplace(RequestKey{route, key.method, key.status}, series);
    return series;
}

prometheus::Counter& HttpMetrics::counterFor(LabelledCounters& family, QByteArrayView value)
{
    {
        const QReadLocker lock(&family.lock);
        if (const auto it = family.counters.find(value); it != family.counters.end())
            return *it->second;
    }
    const QWriteLocker lock(&family.lock);
    if (const auto it = family.counters.find(value); it != family.counters.end())
        return *it->second;
    const QByteArray label = value.toByteArray();
    prometheus::Counter& counter = family.family.Add({{family.label, label.toStdString()}});
    family.counters.emplace(label, &counter);
    return counter;
}

std::size_t HttpMetrics::RequestKeyHash::operator()(RequestKeyView key) const
{
    return qHashMulti(0, key.route, key.method, key.status);
}

bool HttpMetrics::RequestKeyEqual::operator()(RequestKeyView a, RequestKeyView b) const
{
    return a.method == b.method && a.status == b.status && a.route == b.route;
}

std::size_t HttpMetrics::ViewHash::operator()(QByteArrayView key) const
{
    return qHash(key);
}

} // namespace ehrs::server
