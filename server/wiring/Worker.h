// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "api/ApiRoutes.h"
#include "api/EventStreams.h"
#include "http/HttpLimits.h"
#include "http/HttpListener.h"
#include "http/Router.h"
#include "wiring/ServiceBundle.h"

#include <QObject>
#include <QTimer>
#include <memory>

namespace ehrs::server {

/// One HTTP worker: lives in its own thread with its own listener (SO_REUSEPORT), database and
/// Redis connections. A slow request blocks only this worker's connections.
class Worker : public QObject
{
    Q_OBJECT
public:
    /// `connections` counts connections per client address across all workers.
    Worker(SharedState& shared, qintptr listenSocket, HttpLimits limits,
           std::shared_ptr<ClientConnectionCounter> connections);
    ~Worker() override;

    /// Builds the services and starts accepting; call in the worker's thread. Empty on success.
    QString start();
    /// Releases connections and the listener; call in the worker's thread before it ends.
    void shutdown();
    void runCleanup();

    /// The request pipeline: routing plus headers every response carries, and an access log line
    /// when the answer is ready (at once, or later for an asynchronous handler).
    void handle(HttpRequest& request, HttpResponder responder);
    const Router& router() const { return m_router; }

private:
    /// Answer to a browser's CORS preflight: allowed origins (CORS_ORIGINS) only.
    HttpResponse corsPreflight(bool allowed) const;

private:
    SharedState& m_shared;
    qintptr m_socket;
    HttpLimits m_limits;
    std::shared_ptr<ClientConnectionCounter> m_connections;
    std::unique_ptr<ServiceBundle> m_services;
    std::unique_ptr<EventStreams> m_events; // before m_api, which points to it; after the services
    std::unique_ptr<ApiRoutes> m_api;
    Router m_router;
    std::unique_ptr<HttpListener> m_listener;
    static constexpr int kReplayIntervalMs = 100;
    QTimer m_replayTimer{this}; // a child, so it moves to the worker's thread with it
};

} // namespace ehrs::server
