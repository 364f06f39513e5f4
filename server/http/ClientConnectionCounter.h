// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QMutex>
#include <QPair>

namespace ehrs::server {

/// Open connections per client address across all workers of a process, so that one client
/// cannot take every connection slot. IPv6 clients count per /64 (one host usually holds a whole
/// /64); IPv4-mapped IPv6 addresses count as their IPv4 address. Addresses in `exempt` (trusted
/// reverse proxies, which carry many clients) are not capped. Thread-safe.
class ClientConnectionCounter
{
public:
    ClientConnectionCounter(int maxPerClient, QList<QPair<QHostAddress, int>> exempt = {});

    /// Counts a new connection; false (and nothing counted) when its client is at the cap.
    bool tryAcquire(const QHostAddress& peer);
    void release(const QHostAddress& peer);
    int count(const QHostAddress& peer) const;

    /// The address a client is counted under.
    static QByteArray keyOf(const QHostAddress& peer);

private:
    bool isExempt(const QHostAddress& peer) const;

    const int m_max;
    const QList<QPair<QHostAddress, int>> m_exempt;
    mutable QMutex m_mutex;
    QHash<QByteArray, int> m_counts;
};

} // namespace ehrs::server
