// SPDX-License-Identifier: Apache-2.0
#include "SentinelWatch.h"

#include "AsyncRedis.h"
#include "Logging.h"

namespace ehrs::server {

SentinelWatch::SentinelWatch(RedisEndpoint endpoint, QObject* parent)
    : QObject(parent), m_endpoint(std::move(endpoint))
{
}

SentinelWatch::~SentinelWatch() = default;

void SentinelWatch::start()
{
    if (!m_endpoint.usesSentinel() || !m_endpoint.primary || !m_sentinels.empty())
        return;
    for (const auto& [host, port] : m_endpoint.sentinels) {
        RedisEndpoint sentinel; // asked without a password, database 0, no Sentinel of its own
        sentinel.host = host;
        sentinel.port = port;
        auto connection = std::make_unique<AsyncRedis>(sentinel);
        connection->subscribe(
            kChannel, this, [this](const QByteArray& payload) { handleMessage(payload); },
            [this](bool up) { handleState(up); });
        m_sentinels.push_back(std::move(connection));
    }
}

int SentinelWatch::subscribed() const
{
    return m_up;
}

void SentinelWatch::handleMessage(const QByteArray& payload)
{
    // "<master name> <old ip> <old port> <new ip> <new port>"
    const QList<QByteArray> parts = payload.split(' ');
    if (parts.size() != 5 || QString::fromUtf8(parts[0]) != m_endpoint.masterName)
        return;
    bool ok = false;
    const int port = parts[4].toInt(&ok);
    if (!ok || parts[3].isEmpty())
        return;
    const RedisEndpoint::Address address{parts[3], port};
    if (m_endpoint.primary->trusted() != address)
        qCInfo(lcCache).noquote() << "Sentinel: the Redis primary" << m_endpoint.masterName << "switched to"
                                  << address.first + ':' + parts[4];
    m_endpoint.primary->announce(address);
}

void SentinelWatch::handleState(bool up)
{
    m_up += up ? 1 : -1;
    if (!up)
        return;
    // A switch may have happened while this subscription was down: ask (blocking, 200 ms per
    // Sentinel at most, on this thread only).
    if (auto known = m_endpoint.primary->trusted())
        m_endpoint.primary->distrust(*known);
    m_endpoint.resolve();
}

} // namespace ehrs::server
