// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "FakeClock.h"
#include "FakeHttpServer.h"
#include "FakeTokenStore.h"
#include "core/AgentConfig.h"
#include "core/AgentService.h"
#include "net/ServerClient.h"
#include "refresh/RefreshScheduler.h"

#include <QList>
#include <QNetworkAccessManager>
#include <memory>

namespace ehrs::agent::test {

/// An AgentService on fakes (clock, keychain, HTTP server) with every event it emits collected:
/// the common part of the agent's unit tests. Each test adds how it starts and what it reads.
struct AgentServiceHarness
{
    FakeHttpServer http;
    FakeClock clock;
    FakeTokenStore store;
    QNetworkAccessManager network;
    ServerClient server{network};
    RefreshScheduler scheduler{clock, RefreshPolicy(), [] { return 0.5; }};
    std::unique_ptr<AgentService> service;
    QList<ipc::Event> events;

    /// Makes the service (not started) with `config`; its server event stream is off.
    void createService(AgentConfig config = {})
    {
        config.watchServerEvents = false;
        service = std::make_unique<AgentService>(store, server, scheduler, clock, config);
        QObject::connect(service.get(), &AgentService::eventOccurred,
                         [this](const ipc::Event& e) { events << e; });
    }
};

} // namespace ehrs::agent::test
