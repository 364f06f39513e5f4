// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ehrs::server {

/// Counts observations in fixed buckets (`value <= upper bound`, plus an implicit +Inf bucket)
/// and sums them. observe() is a binary search and two relaxed atomic adds: lock-free, no
/// allocation, safe from any thread. The total count is derived from the buckets, so a
/// snapshot's +Inf bucket always equals its count even while other threads observe. Owned by
/// MetricsRegistry, which keeps it at the same address for as long as the registry lives.
class Histogram
{
public:
    struct Snapshot
    {
        /// One per upper bound, then +Inf; each includes the ones before it.
        std::vector<std::uint64_t> cumulativeCounts;
        std::uint64_t count = 0;
        double sum = 0;
    };

    /// `upperBounds` go through normalizeBounds().
    explicit Histogram(std::vector<double> upperBounds);
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    /// NaN is dropped: it would turn the sum into NaN for good.
    void observe(double value);
    Snapshot snapshot() const;
    const std::vector<double>& upperBounds() const { return m_upperBounds; }

    /// Sorted, without duplicates, NaN or infinities (+Inf is always there, implicitly, last).
    static std::vector<double> normalizeBounds(std::vector<double> bounds);

private:
    const std::vector<double> m_upperBounds;
    // Not cumulative: observe() touches one bucket. The last one is +Inf.
    const std::unique_ptr<std::atomic<std::uint64_t>[]> m_buckets;
    std::atomic<double> m_sum{0.0};
};

} // namespace ehrs::server
