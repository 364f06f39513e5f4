// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QObject>
#include <QString>

namespace ehrs::agent {

/// Tells when the network comes back, so a refresh waiting out its backoff can retry at once. It
/// listens to QNetworkInformation's reachability where a backend is available (on Linux desktops
/// NetworkManager over the system bus, else GLib's GNetworkMonitor); without one it stays silent
/// and retries simply wait for their backoff.
class NetworkWatcher : public QObject
{
    Q_OBJECT
public:
    explicit NetworkWatcher(QObject* parent = nullptr);

    /// The QNetworkInformation backend in use ("networkmanager", "glib", ...); empty when none loaded.
    QString backendName() const { return m_backend; }

Q_SIGNALS:
    /// Reachability became Online (from anything else).
    void networkAvailable();

private:
    QString m_backend;
};

} // namespace ehrs::agent
