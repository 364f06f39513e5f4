// SPDX-License-Identifier: Apache-2.0
#include "ClientConnectionCounter.h"

#include <QMutexLocker>

namespace ehrs::server {

ClientConnectionCounter::ClientConnectionCounter(int maxPerClient, QList<QPair<QHostAddress, int>> exempt)
    : m_max(maxPerClient), m_exempt(std::move(exempt))
{
}

QByteArray ClientConnectionCounter::keyOf(const QHostAddress& peer)
{
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    if (isV4)
        return "4:" + QByteArray::number(v4);
    const Q_IPV6ADDR v6 = peer.toIPv6Address();
    return "6:" + QByteArray(reinterpret_cast<const char*>(v6.c), 8); // the /64 prefix
}

bool ClientConnectionCounter::isExempt(const QHostAddress& peer) const
{
    for (const auto& subnet : m_exempt) {
        if (peer.isInSubnet(subnet))
            return true;
    }
    bool isV4 = false;
    const QHostAddress v4(peer.toIPv4Address(&isV4));
    if (isV4 && peer.protocol() == QAbstractSocket::IPv6Protocol) {
        for (const auto& subnet : m_exempt) {
            if (v4.isInSubnet(subnet))
                return true;
        }
    }
    return false;
}

bool ClientConnectionCounter::tryAcquire(const QHostAddress& peer)
{
    if (m_max <= 0 || isExempt(peer))
        return true;
    const QByteArray key = keyOf(peer);
    QMutexLocker lock(&m_mutex);
    int& n = m_counts[key];
    if (n >= m_max)
        return false;
    ++n;
    return true;
}

void ClientConnectionCounter::release(const QHostAddress& peer)
{
    if (m_max <= 0 || isExempt(peer))
        return;
    const QByteArray key = keyOf(peer);
    QMutexLocker lock(&m_mutex);
    auto it = m_counts.find(key);
    if (it == m_counts.end())
        return;
    if (--it.value() <= 0)
        m_counts.erase(it);
}

int ClientConnectionCounter::count(const QHostAddress& peer) const
{
    QMutexLocker lock(&m_mutex);
    return m_counts.value(keyOf(peer));
}

} // namespace ehrs::server
