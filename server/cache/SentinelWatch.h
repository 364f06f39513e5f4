// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "cache/RedisEndpoint.h"

#include <QObject>
#include <memory>
#include <vector>

namespace ehrs::server {

class AsyncRedis;

/// Follows Sentinel's failovers as they happen: subscribes to `+switch-master` on every Sentinel of
/// a redis-sentinel:// endpoint and announces a switch of its master to the endpoint's Primary,
/// which moves every Redis connection of the instance to the new primary at once (rather than at
/// their next error: a forced failover leaves the old primary up and writable for seconds). Each
/// time a subscription is (re)established the Sentinels are asked again, since a switch may have
/// been missed meanwhile. Lives on the event loop of the thread that creates it.
class SentinelWatch final : public QObject
{
    Q_OBJECT
public:
    explicit SentinelWatch(RedisEndpoint endpoint, QObject* parent = nullptr);
    ~SentinelWatch() override;

    void start();
    /// Subscriptions confirmed now (tests).
    int subscribed() const;

    static constexpr const char* kChannel = "+switch-master";

private:
    void handleMessage(const QByteArray& payload);
    void handleState(bool up);

    RedisEndpoint m_endpoint;
    std::vector<std::unique_ptr<AsyncRedis>> m_sentinels;
    int m_up = 0;
};

} // namespace ehrs::server
