// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "mail/AccountNotifier.h"
#include "wiring/SharedState.h"
#include "wiring/Worker.h"

#include <QObject>
#include <QThread>
#include <QTimer>
#include <QUrl>
#include <memory>
#include <vector>

namespace ehrs::server {

/// The running server: migrates the database, opens one SO_REUSEPORT listener per worker thread,
/// starts the workers and the periodic cleanup. Usable in-process by tests.
class ServerApp : public QObject
{
    Q_OBJECT
public:
    explicit ServerApp(std::unique_ptr<SharedState> shared, QObject* parent = nullptr);
    ~ServerApp() override;

    [[nodiscard]] Result<void> start();
    void stop();
    QUrl url() const { return m_url; }
    SharedState& shared() { return *m_shared; }
    /// "METHOD /pattern" of every registered route (the OpenAPI check).
    QList<QByteArray> routes() const { return m_workers.empty() ? QList<QByteArray>() : m_workers.front()->router().routes(); }

private:
    std::unique_ptr<SharedState> m_shared;
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<std::unique_ptr<Worker>> m_workers;
    QTimer m_cleanupTimer;
    std::unique_ptr<AccountNotifier> m_notifier; // account emails, forgetting remembered devices
    QUrl m_url;
};

/// Applies pending migrations on the configured database (also the `migrate` sub-command).
[[nodiscard]] Result<QList<int>> migrateDatabase(const ServerConfig& config);

} // namespace ehrs::server
