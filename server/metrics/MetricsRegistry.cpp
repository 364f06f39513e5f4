// SPDX-License-Identifier: Apache-2.0
#include "MetricsRegistry.h"

#include "Logging.h"

#include <QMutexLocker>
#include <QString>
#include <algorithm>
#include <limits>

namespace ehrs::server {

namespace {

QByteArray checkedName(const QByteArray& name)
{
    if (Metrics::isValidName(name))
        return name;
    Q_ASSERT_X(false, "MetricsRegistry", "invalid metric name");
    QByteArray sanitized = Metrics::sanitizeName(name);
    qCWarning(lcServer) << "invalid metric name" << name << "renamed" << sanitized;
    return sanitized;
}

MetricLabels checkedLabels(MetricLabels labels, Metrics::Type type)
{
    for (auto& [name, value] : labels) {
        // A histogram's own `le` label would clash with the buckets'.
        const bool reserved = type == Metrics::Type::Histogram && name == "le";
        if (!Metrics::isValidLabelName(name) || reserved) {
            Q_ASSERT_X(false, "MetricsRegistry", "invalid label name");
            QByteArray sanitized = reserved ? QByteArrayLiteral("le_") : Metrics::sanitizeLabelName(name);
            qCWarning(lcServer) << "invalid label name" << name << "renamed" << sanitized;
            name = std::move(sanitized);
        }
        // Two raw values that escape to the same text must be one series, not two with equal labels.
        if (!value.isValidUtf8())
            value = QString::fromUtf8(value).toUtf8();
    }
    std::stable_sort(labels.begin(), labels.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto sameName = [](const auto& a, const auto& b) { return a.first == b.first; };
    if (const auto duplicate = std::adjacent_find(labels.begin(), labels.end(), sameName);
        duplicate != labels.end()) {
        Q_ASSERT_X(false, "MetricsRegistry", "duplicate label name");
        qCWarning(lcServer) << "duplicate label name" << duplicate->first << "; the first value is kept";
        labels.erase(std::unique(labels.begin(), labels.end(), sameName), labels.end());
    }
    return labels;
}

QByteArray labelText(const MetricLabels& labels)
{
    QByteArray text;
    for (const auto& [name, value] : labels) {
        if (!text.isEmpty())
            text += ',';
        text += name + "=\"" + Metrics::escapeLabelValue(value) + '"';
    }
    return text;
}

void appendSample(QByteArray& out, const QByteArray& name, QByteArrayView suffix, const QByteArray& labels,
                  const QByteArray& extraLabel, const QByteArray& value)
{
    out += name;
    out.append(suffix);
    if (!labels.isEmpty() || !extraLabel.isEmpty()) {
        out += '{';
        out += labels;
        if (!labels.isEmpty() && !extraLabel.isEmpty())
            out += ',';
        out += extraLabel;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

} // namespace

Counter& MetricsRegistry::counter(const QByteArray& name, const QByteArray& help, Labels labels)
{
    const QMutexLocker lock(&m_mutex);
    Series& s = series(Metrics::Type::Counter, name, help, std::move(labels));
    if (!s.counter)
        s.counter = std::make_unique<Counter>();
    return *s.counter;
}

Gauge& MetricsRegistry::gauge(const QByteArray& name, const QByteArray& help, Labels labels)
{
    const QMutexLocker lock(&m_mutex);
    Series& s = series(Metrics::Type::Gauge, name, help, std::move(labels));
    Q_ASSERT_X(!s.read, "MetricsRegistry::gauge", "series already read by a callback");
    if (!s.gauge)
        s.gauge = std::make_unique<Gauge>();
    return *s.gauge;
}

Histogram& MetricsRegistry::histogram(const QByteArray& name, const QByteArray& help,
                                      std::vector<double> upperBounds, Labels labels)
{
    if (!upperBounds.empty() && upperBounds.back() == std::numeric_limits<double>::infinity())
        upperBounds.pop_back();
    std::vector<double> bounds = Histogram::normalizeBounds(upperBounds);
    if (bounds != upperBounds) {
        Q_ASSERT_X(false, "MetricsRegistry::histogram", "bucket bounds not finite and strictly increasing");
        qCWarning(lcServer) << "histogram" << name << "buckets sorted and deduplicated";
    }
    const QMutexLocker lock(&m_mutex);
    Series& s = series(Metrics::Type::Histogram, name, help, std::move(labels), &bounds);
    if (!s.histogram)
        s.histogram = std::make_unique<Histogram>(std::move(bounds));
    return *s.histogram;
}

void MetricsRegistry::gaugeCallback(const QByteArray& name, const QByteArray& help,
                                    std::function<double()> read, Labels labels)
{
    const QMutexLocker lock(&m_mutex);
    Series& s = series(Metrics::Type::Gauge, name, help, std::move(labels));
    Q_ASSERT_X(!s.gauge, "MetricsRegistry::gaugeCallback", "series already set as a gauge");
    s.read = std::move(read);
}

MetricsRegistry::Series& MetricsRegistry::series(Metrics::Type type, const QByteArray& name,
                                                 const QByteArray& help, Labels labels,
                                                 std::vector<double>* upperBounds)
{
    const QByteArray familyName = checkedName(name);
    auto [familyIt, newFamily] = m_families.try_emplace(familyName);
    Family& family = familyIt->second;
    if (newFamily) {
        family.type = type;
        family.help = help.isValidUtf8() ? help : QString::fromUtf8(help).toUtf8();
        if (type == Metrics::Type::Histogram) {
            family.upperBounds = *upperBounds;
            for (const double bound : family.upperBounds)
                family.leLabels.push_back("le=\"" + Metrics::formatValue(bound) + '"');
            family.leLabels.push_back(QByteArrayLiteral("le=\"+Inf\""));
        }
    } else if (family.type != type) {
        Q_ASSERT_X(false, "MetricsRegistry", "metric registered again with another type");
        qCWarning(lcServer).nospace()
            << "metric " << familyName << " is a " << Metrics::typeName(family.type).toByteArray().constData()
            << "; the " << Metrics::typeName(type).toByteArray().constData() << " asked for is not exported";
        m_detached.push_back(std::make_unique<Series>());
        return *m_detached.back();
    } else if (type == Metrics::Type::Histogram && family.upperBounds != *upperBounds) {
        Q_ASSERT_X(false, "MetricsRegistry::histogram", "histogram registered again with other buckets");
        qCWarning(lcServer) << "histogram" << familyName << "keeps the buckets it was first registered with";
        *upperBounds = family.upperBounds;
    }

    auto [seriesIt, newSeries] = family.series.try_emplace(checkedLabels(std::move(labels), type));
    if (newSeries)
        seriesIt->second.labelText = labelText(seriesIt->first);
    return seriesIt->second;
}

QByteArray MetricsRegistry::render() const
{
    // Copy what to render under the lock, then read values and callbacks without it: a slow
    // callback (a database count) must not hold up threads creating series.
    struct SeriesView
    {
        QByteArray labelText;
        const Counter* counter;
        const Gauge* gauge;
        const Histogram* histogram;
        std::function<double()> read;
    };
    struct FamilyView
    {
        QByteArray name;
        QByteArray help;
        Metrics::Type type;
        std::vector<QByteArray> leLabels;
        std::vector<SeriesView> series;
    };
    std::vector<FamilyView> families;
    {
        const QMutexLocker lock(&m_mutex);
        families.reserve(m_families.size());
        for (const auto& [name, family] : m_families) {
            FamilyView& view =
                families.emplace_back(FamilyView{name, family.help, family.type, family.leLabels, {}});
            view.series.reserve(family.series.size());
            for (const auto& [labels, s] : family.series) {
                view.series.push_back(
                    SeriesView{s.labelText, s.counter.get(), s.gauge.get(), s.histogram.get(), s.read});
            }
        }
    }

    QByteArray out;
    for (const FamilyView& family : families) {
        if (!family.help.isEmpty())
            out += "# HELP " + family.name + ' ' + Metrics::escapeHelp(family.help) + '\n';
        out += "# TYPE " + family.name + ' ';
        out.append(Metrics::typeName(family.type));
        out += '\n';
        for (const SeriesView& s : family.series) {
            switch (family.type) {
            case Metrics::Type::Counter:
                if (s.counter)
                    appendSample(out, family.name, {}, s.labelText, {},
                                 Metrics::formatCount(s.counter->value()));
                break;
            case Metrics::Type::Gauge:
                if (s.read || s.gauge)
                    appendSample(out, family.name, {}, s.labelText, {},
                                 Metrics::formatValue(s.read ? s.read() : s.gauge->value()));
                break;
            case Metrics::Type::Histogram:
                if (s.histogram) {
                    const Histogram::Snapshot snapshot = s.histogram->snapshot();
                    Q_ASSERT(snapshot.cumulativeCounts.size() == family.leLabels.size());
                    for (std::size_t i = 0; i < family.leLabels.size(); ++i) {
                        appendSample(out, family.name, "_bucket", s.labelText, family.leLabels[i],
                                     Metrics::formatCount(snapshot.cumulativeCounts[i]));
                    }
                    appendSample(out, family.name, "_sum", s.labelText, {},
                                 Metrics::formatValue(snapshot.sum));
                    appendSample(out, family.name, "_count", s.labelText, {},
                                 Metrics::formatCount(snapshot.count));
                }
                break;
            }
        }
    }
    return out;
}

} // namespace ehrs::server
