// SPDX-License-Identifier: Apache-2.0
#include "ServerApp.h"

#include "Logging.h"
#include "db/Migrator.h"

#include <QFile>
#include <QSaveFile>

#include <unistd.h>

namespace ehrs::server {

Result<QList<int>> migrateDatabase(const ServerConfig& config)
{
    auto db = Database::open(config.effectiveDatabaseUrl());
    if (!db)
        return fail(db.error());
    return Migrator(**db).migrate();
}

ServerApp::ServerApp(std::unique_ptr<SharedState> shared, QObject* parent) : QObject(parent), m_shared(std::move(shared))
{
}

ServerApp::~ServerApp()
{
    stop();
}

Result<void> ServerApp::start()
{
    const ServerConfig& config = m_shared->config();
    if (auto m = migrateDatabase(config); !m)
        return fail(m.error());
    if (RevocationFeed* feed = m_shared->revocationFeed())
        feed->start();
    m_notifier = std::make_unique<AccountNotifier>(config, m_shared->clock(), m_shared->metricsRegistry());
    m_notifier->start();

    int count = config.workerThreads > 0 ? config.workerThreads : QThread::idealThreadCount();
    count = qBound(1, count, 256);
    HttpLimits limits;
    limits.maxBodyBytes = config.maxBodyBytes;
    limits.idleTimeoutMs = config.httpIdleTimeout * 1000;
    limits.maxConnectionsPerClient = config.maxConnectionsPerClient;
    // One count for all workers; reverse proxies carry many clients and are not capped.
    auto connections =
        std::make_shared<ClientConnectionCounter>(config.maxConnectionsPerClient, config.trustedProxies);

    quint16 port = config.port;
    std::vector<qintptr> sockets;
    for (int i = 0; i < count; ++i) {
        auto fd = createListeningSocket(config.host, port);
        if (!fd) {
            for (qintptr s : sockets)
                ::close(int(s));
            return fail(fd.error());
        }
        port = boundPort(*fd);
        sockets.push_back(*fd);
    }

    for (int i = 0; i < count; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("http-%1").arg(i));
        auto worker = std::make_unique<Worker>(*m_shared, sockets[size_t(i)], limits, connections);
        worker->moveToThread(thread.get());
        thread->start();
        QString error;
        Worker* w = worker.get();
        QMetaObject::invokeMethod(w, [w] { return w->start(); }, Qt::BlockingQueuedConnection, &error);
        m_threads.push_back(std::move(thread));
        m_workers.push_back(std::move(worker));
        if (!error.isEmpty()) {
            for (size_t j = size_t(i) + 1; j < sockets.size(); ++j)
                ::close(int(sockets[j]));
            stop();
            return fail(ErrorCode::Unavailable, error);
        }
    }

    const QString host = config.host.protocol() == QAbstractSocket::IPv6Protocol
                             ? u'[' + config.host.toString() + u']'
                             : config.host.toString();
    m_url = QUrl(QStringLiteral("%1://%2:%3").arg(m_shared->tls() ? QStringLiteral("https") : QStringLiteral("http"), host)
                     .arg(port));

    if (config.cleanupInterval > 0) {
        m_cleanupTimer.setInterval(std::chrono::seconds(config.cleanupInterval));
        connect(&m_cleanupTimer, &QTimer::timeout, this, [this] {
            if (!m_workers.empty())
                QMetaObject::invokeMethod(m_workers.front().get(), &Worker::runCleanup, Qt::QueuedConnection);
        });
        m_cleanupTimer.start();
    }

    qCInfo(lcServer).noquote() << "listening on" << m_url.toString() << "with" << count << "worker thread(s);"
                               << "database" << (config.usesPostgres() ? "postgres" : "sqlite (embedded)") << "cache"
                               << (config.redisUrl.isEmpty() ? "in-process" : "redis");
    if (!config.readyFile.isEmpty()) {
        QSaveFile f(config.readyFile);
        if (f.open(QIODevice::WriteOnly)) {
            f.write(m_url.toString().toUtf8() + '\n');
            f.commit();
        }
    }
    return {};
}

void ServerApp::stop()
{
    m_cleanupTimer.stop();
    if (m_notifier)
        m_notifier->stop();
    if (RevocationFeed* feed = m_shared->revocationFeed())
        feed->stop();
    for (auto& worker : m_workers) {
        Worker* w = worker.get();
        QMetaObject::invokeMethod(w, [w] { w->shutdown(); }, Qt::BlockingQueuedConnection);
    }
    for (auto& thread : m_threads) {
        thread->quit();
        thread->wait();
    }
    m_workers.clear();
    m_threads.clear();
}

} // namespace ehrs::server
