// SPDX-License-Identifier: Apache-2.0
#include "Histogram.h"

#include <algorithm>
#include <cmath>

namespace ehrs::server {

Histogram::Histogram(std::vector<double> upperBounds)
    : m_upperBounds(normalizeBounds(std::move(upperBounds))),
      m_buckets(std::make_unique<std::atomic<std::uint64_t>[]>(m_upperBounds.size() + 1))
{
}

void Histogram::observe(double value)
{
    if (std::isnan(value))
        return;
    const auto bucket =
        std::lower_bound(m_upperBounds.begin(), m_upperBounds.end(), value) - m_upperBounds.begin();
    m_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    m_sum.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const
{
    Snapshot snapshot;
    snapshot.cumulativeCounts.reserve(m_upperBounds.size() + 1);
    for (std::size_t i = 0; i <= m_upperBounds.size(); ++i) {
        snapshot.count += m_buckets[i].load(std::memory_order_relaxed);
        snapshot.cumulativeCounts.push_back(snapshot.count);
    }
    snapshot.sum = m_sum.load(std::memory_order_relaxed);
    return snapshot;
}

std::vector<double> Histogram::normalizeBounds(std::vector<double> bounds)
{
    std::erase_if(bounds, [](double b) { return !std::isfinite(b); });
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    return bounds;
}

} // namespace ehrs::server
