// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "MetricsRegistry.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QReadWriteLock>
#include <array>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

namespace prometheus {
class Counter;
class Histogram;
template <typename T> class Family;
} // namespace prometheus

namespace ehrs::server {

/// The server's standard metric families (`ehrs_*`, docs/operations.md), prometheus-cpp families
/// registered in the injected registry. Series are cached here once first seen, so recording
/// costs a hash lookup under a shared read lock and prometheus-cpp's increment or observation,
/// without allocating; the family's mutex is only taken the first time a label combination
/// appears. Safe from any thread; the registry must outlive it.
class HttpMetrics
{
public:
    /// Upper bounds of `ehrs_http_request_duration_seconds`, in seconds.
    static constexpr std::array<double, 13> durationBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1,    0.25,  0.5,    1,     2.5,  5};

    explicit HttpMetrics(MetricsRegistry& registry);
    HttpMetrics(const HttpMetrics&) = delete;
    HttpMetrics& operator=(const HttpMetrics&) = delete;

    /// Counts the request and records its duration. `route` is the router's pattern
    /// ("/api/sessions/:id", "unmatched"), never the raw path, so the number of series stays
    /// bounded; for the same reason a method other than GET, HEAD, POST, PUT, DELETE, PATCH and
    /// OPTIONS is counted as "OTHER".
    void observeRequest(QByteArrayView route, QByteArrayView method, int status, double seconds);
    void refreshed();
    void refreshReuseDetected();
    /// `reason`, `scope` and `result` are label values chosen by the code ("logout", "ip",
    /// "success"), never client input.
    void revoked(QByteArrayView reason);
    void rateLimited(QByteArrayView scope);
    void login(QByteArrayView result);

    /// `ehrs_active_sessions`, read from `count` at each scrape (see MetricsRegistry::gaugeCallback).
    void watchActiveSessions(std::function<double()> count);
    /// `ehrs_redis_up`: 1 while Redis is in use, 0 while the server falls back to its own cache.
    void watchRedisUp(std::function<bool()> up);

private:
    struct RequestKeyView
    {
        QByteArrayView route;
        int method;
        int status;
    };
    struct RequestKey
    {
        QByteArray route;
        int method;
        int status;
        operator RequestKeyView() const { return {route, method, status}; }
    };
    // Transparent, so a lookup by view needs no QByteArray.
    struct RequestKeyHash
    {
        using is_transparent = void;
        std::size_t operator()(RequestKeyView key) const;
    };
    struct RequestKeyEqual
    {
        using is_transparent = void;
        bool operator()(RequestKeyView a, RequestKeyView b) const;
    };
    struct RequestSeries
    {
        prometheus::Counter* requests = nullptr;
        prometheus::Histogram* duration = nullptr;
    };
    struct ViewHash
    {
        using is_transparent = void;
        std::size_t operator()(QByteArrayView key) const;
    };
    struct ViewEqual
    {
        using is_transparent = void;
        bool operator()(QByteArrayView a, QByteArrayView b) const { return a == b; }
    };
    // The counters of one family with a single label, cached by label value.
    struct LabelledCounters
    {
        LabelledCounters(prometheus::Family<prometheus::Counter>& counterFamily, std::string labelName)
            : family(counterFamily), label(std::move(labelName))
        {
        }

        prometheus::Family<prometheus::Counter>& family;
        std::string label;
        QReadWriteLock lock;
        std::unordered_map<QByteArray, prometheus::Counter*, ViewHash, ViewEqual> counters;
    };

    RequestSeries createRequestSeries(RequestKeyView key);
    prometheus::Counter& counterFor(LabelledCounters& family, QByteArrayView value);

    MetricsRegistry& m_registry;
    prometheus::Family<prometheus::Counter>& m_requestFamily;
    prometheus::Family<prometheus::Histogram>& m_durationFamily;
    prometheus::Counter& m_refreshes;
    prometheus::Counter& m_reuseDetected;
    QReadWriteLock m_requestsLock;
    std::unordered_map<RequestKey, RequestSeries, RequestKeyHash, RequestKeyEqual> m_requests;
    LabelledCounters m_revocations;
    LabelledCounters m_rateLimited;
    LabelledCounters m_logins;
};

} // namespace ehrs::server
