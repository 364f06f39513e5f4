// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Counter.h"
#include "Gauge.h"
#include "Histogram.h"
#include "Metrics.h"

#include <QByteArray>
#include <QMutex>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace ehrs::server {

/// Every metric of the process, rendered in the Prometheus text exposition format 0.0.4 for
/// `/metrics`. Looking a series up takes a mutex and may allocate, so callers look it up once and
/// keep the reference: the same name and labels always give the same object, alive and at the same
/// address for as long as the registry. Recording on that object is lock-free.
///
/// Misuse (an invalid metric or label name, `le` on a histogram, one name used with two types or
/// a histogram with other buckets) asserts in debug builds; release builds log a warning and carry
/// on with a sanitised name, the family's buckets, or a detached object that is never rendered.
class MetricsRegistry
{
public:
    using Labels = MetricLabels;

    /// The Content-Type of render()'s output.
    static constexpr char contentType[] = "text/plain; version=0.0.4; charset=utf-8";

    MetricsRegistry() = default;
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    Counter& counter(const QByteArray& name, const QByteArray& help, Labels labels = {});
    Gauge& gauge(const QByteArray& name, const QByteArray& help, Labels labels = {});
    /// `upperBounds` in seconds for durations; +Inf is implicit (passing it is harmless).
    Histogram& histogram(const QByteArray& name, const QByteArray& help, std::vector<double> upperBounds,
                         Labels labels = {});
    /// A gauge whose value is read when render() runs, on the thread that renders, without the
    /// registry's lock held: `read` must be thread-safe and should be quick. Registering the same
    /// name and labels again replaces the function.
    void gaugeCallback(const QByteArray& name, const QByteArray& help, std::function<double()> read,
                       Labels labels = {});

    /// `# HELP` and `# TYPE` once per family, families sorted by name, series by labels.
    QByteArray render() const;

private:
    struct Series
    {
        QByteArray labelText; // `a="x",b="y"`, escaped, without braces
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
        std::function<double()> read;
    };
    struct Family
    {
        Metrics::Type type = Metrics::Type::Counter;
        QByteArray help;
        std::vector<double> upperBounds;  // histograms
        std::vector<QByteArray> leLabels; // histograms: `le="0.5"` ... `le="+Inf"`
        std::map<Labels, Series> series;
    };

    // Called with m_mutex held. Returns a detached series when the name has another type. For a
    // histogram, `upperBounds` comes back as the buckets the series must have.
    Series& series(Metrics::Type type, const QByteArray& name, const QByteArray& help, Labels labels,
                   std::vector<double>* upperBounds = nullptr);

    mutable QMutex m_mutex;
    std::map<QByteArray, Family> m_families;
    std::vector<std::unique_ptr<Series>> m_detached;
};

} // namespace ehrs::server
