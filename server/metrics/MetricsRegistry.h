// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QMutex>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace ehrs::server {

/// The (name, value) label pairs of one series.
using MetricLabels = std::vector<std::pair<QByteArray, QByteArray>>;

/// Every metric of the process, for `/metrics`: a prometheus-cpp registry holding the counters
/// and histograms (HttpMetrics registers the server's families there) plus gauges whose value is
/// read when a scrape renders, all written out by prometheus-cpp's text serializer (exposition
/// format 0.0.4), families sorted by name and series by labels so that the output is stable.
class MetricsRegistry
{
public:
    /// The Content-Type of render()'s output.
    static constexpr char contentType[] = "text/plain; version=0.0.4; charset=utf-8";

    MetricsRegistry();
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    /// Where counter, gauge and histogram families are built (`prometheus::BuildCounter()...`).
    prometheus::Registry& registry() { return *m_registry; }

    /// A gauge whose value is read when render() runs, on the thread that renders, without the
    /// registry's lock held: `read` must be thread-safe and should be quick. Registering the same
    /// name and labels again replaces the function.
    void gaugeCallback(const QByteArray& name, const QByteArray& help, std::function<double()> read,
                       MetricLabels labels = {});

    QByteArray render() const;

private:
    struct Callback
    {
        QByteArray help;
        std::function<double()> read;
    };

    std::shared_ptr<prometheus::Registry> m_registry;
    mutable QMutex m_mutex;
    std::map<std::pair<QByteArray, MetricLabels>, Callback> m_callbacks;
};

} // namespace ehrs::server
