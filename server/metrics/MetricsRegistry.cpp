// SPDX-License-Identifier: Apache-2.0
#include "MetricsRegistry.h"

#include <QMutexLocker>
#include <algorithm>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sstream>

namespace ehrs::server {

MetricsRegistry::MetricsRegistry() : m_registry(std::make_shared<prometheus::Registry>()) {}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::gaugeCallback(const QByteArray& name, const QByteArray& help,
                                    std::function<double()> read, MetricLabels labels)
{
    std::sort(labels.begin(), labels.end());
    const QMutexLocker lock(&m_mutex);
    m_callbacks[{name, std::move(labels)}] = Callback{help, std::move(read)};
}

QByteArray MetricsRegistry::render() const
{
    std::vector<prometheus::MetricFamily> families = m_registry->Collect();
    std::vector<std::pair<std::pair<QByteArray, MetricLabels>, Callback>> callbacks;
    {
        const QMutexLocker lock(&m_mutex);
        callbacks.assign(m_callbacks.begin(), m_callbacks.end());
    }
    // Outside the lock: a callback may take locks of its own (or even register metrics).
    for (const auto& [key, callback] : callbacks) {
        const std::string name = key.first.toStdString();
        auto family = std::find_if(families.begin(), families.end(),
                                   [&name](const prometheus::MetricFamily& f) { return f.name == name; });
        if (family == families.end()) {
            families.push_back({name, callback.help.toStdString(), prometheus::MetricType::Gauge, {}});
            family = families.end() - 1;
        }
        prometheus::ClientMetric metric;
        for (const auto& [labelName, labelValue] : key.second)
            metric.label.push_back({labelName.toStdString(), labelValue.toStdString()});
        metric.gauge.value = callback.read();
        family->metric.push_back(std::move(metric));
    }
    // prometheus-cpp keeps families in registration order and series in hash order.
    std::sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (prometheus::MetricFamily& family : families) {
        std::sort(family.metric.begin(), family.metric.end(),
                  [](const auto& a, const auto& b) { return a.label < b.label; });
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return QByteArray::fromStdString(out.str());
}

} // namespace ehrs::server
