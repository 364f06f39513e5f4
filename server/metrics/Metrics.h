// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <cstdint>
#include <utility>
#include <vector>

namespace ehrs::server {

/// The (name, value) label pairs of one series. Their order does not matter: the registry sorts
/// them by name, so {a, b} and {b, a} are the same series.
using MetricLabels = std::vector<std::pair<QByteArray, QByteArray>>;

/// How the Prometheus text exposition format (version 0.0.4) spells names, label values, help
/// text and numbers. Pure functions, safe from any thread; the registry uses them when a series
/// is created and when it renders, tests use them to state what is expected.
class Metrics
{
public:
    enum class Type { Counter, Gauge, Histogram };

    Metrics() = delete;

    static QByteArrayView typeName(Type type);

    /// Metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static bool isValidName(QByteArrayView name);
    /// Label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
    static bool isValidLabelName(QByteArrayView name);
    /// Every character outside the alphabet becomes '_', a leading digit gets a '_' in front and
    /// an empty name becomes "_", so the result is always valid.
    static QByteArray sanitizeName(QByteArrayView name);
    static QByteArray sanitizeLabelName(QByteArrayView name);

    /// Backslash, double quote and newline escaped; invalid UTF-8 replaced by U+FFFD.
    static QByteArray escapeLabelValue(QByteArrayView value);
    /// Backslash and newline escaped (the text of a `# HELP` line); invalid UTF-8 replaced.
    static QByteArray escapeHelp(QByteArrayView help);

    /// Integral values up to 2^53 without exponent or decimals, other finite values with the fewest
    /// digits that read back to the same double, `%g`-style ("0.0005", "1e-07", like Go's
    /// FormatFloat(v, 'g', -1, 64) that Prometheus clients use for `le`), and `+Inf`, `-Inf`, `NaN`.
    static QByteArray formatValue(double value);
    static QByteArray formatCount(std::uint64_t value);
};

} // namespace ehrs::server
