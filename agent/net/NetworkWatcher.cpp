// SPDX-License-Identifier: Apache-2.0
#include "NetworkWatcher.h"

#include "Logging.h"

#include <QNetworkInformation>

namespace ehrs::agent {

NetworkWatcher::NetworkWatcher(QObject* parent) : QObject(parent)
{
    // Loading asks the system bus whether NetworkManager runs (blocking, once, at start-up).
    if (!QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability)) {
        qCInfo(lcAgentRefresh) << "no network information backend: retries after a network loss wait for "
                                  "their backoff";
        return;
    }
    QNetworkInformation* info = QNetworkInformation::instance();
    m_backend = info->backendName();
    qCInfo(lcAgentRefresh).noquote() << "network information from the" << m_backend << "backend, reachability"
                                     << info->reachability();
    connect(info, &QNetworkInformation::reachabilityChanged, this,
            [this](QNetworkInformation::Reachability reachability) {
                qCInfo(lcAgentRefresh) << "network reachability:" << reachability;
                if (reachability == QNetworkInformation::Reachability::Online)
                    Q_EMIT networkAvailable();
            });
}

} // namespace ehrs::agent
