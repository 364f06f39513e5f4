// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>

namespace ehrs::server {

/// A value that goes up and down. Lock-free and safe from any thread. Owned by MetricsRegistry,
/// which keeps it at the same address for as long as the registry lives. A value that is cheaper
/// to read when scraped than to keep up to date belongs in MetricsRegistry::gaugeCallback().
class Gauge
{
public:
    Gauge() = default;
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;

    void set(double value) { m_value.store(value, std::memory_order_relaxed); }
    void add(double delta) { m_value.fetch_add(delta, std::memory_order_relaxed); }
    double value() const { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<double> m_value{0.0};
};

} // namespace ehrs::server
