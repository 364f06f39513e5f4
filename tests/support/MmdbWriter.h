// SPDX-License-Identifier: Apache-2.0
#pragma once

// Writes a minimal MaxMind DB (format 2.0, IPv4, 24-bit records) that maps one IPv4 network to
// {"city":{"names":{"en":CITY}},"country":{"names":{"en":COUNTRY},"iso_code":ISO}}: enough for
// tests of the GeoIP lookup without shipping a real database.

#include <QByteArray>
#include <QFile>
#include <QHostAddress>
#include <QList>
#include <QString>
#include <array>
#include <cstring>

namespace ehrs::test {

class MmdbWriter
{
public:
    static bool write(const QString& path, const QHostAddress& network, int prefixLength, const QByteArray& city,
                      const QByteArray& country, const QByteArray& iso)
    {
        const quint32 ip = network.toIPv4Address();
        const quint32 nodeCount = quint32(prefixLength);
        const quint32 noData = nodeCount;
        const quint32 dataPointer = nodeCount + 16; // offset 0 of the data section
        QByteArray tree;
        for (quint32 i = 0; i < nodeCount; ++i) {
            const int bit = (ip >> (31 - i)) & 1;
            const quint32 follow = i + 1 == nodeCount ? dataPointer : i + 1;
            const quint32 left = bit == 0 ? follow : noData;
            const quint32 right = bit == 1 ? follow : noData;
            for (quint32 record : {left, right}) {
                tree.append(char((record >> 16) & 0xff));
                tree.append(char((record >> 8) & 0xff));
                tree.append(char(record & 0xff));
            }
        }
        const QByteArray names = [](const QByteArray& en) { return map(1) + str("names") + map(1) + str("en") + str(en); }(city);
        const QByteArray data = map(2) + str("city") + names + str("country") + map(2) + str("names") + map(1) + str("en") +
                                str(country) + str("iso_code") + str(iso);
        return save(path, tree, data, nodeCount);
    }

    /// One network of writeNetworks(): a city with its coordinates.
    struct Network
    {
        QHostAddress address;
        int prefixLength = 24;
        QByteArray city;
        QByteArray country;
        QByteArray iso;
        double latitude = 0;
        double longitude = 0;
    };

    /// Several IPv4 networks, each {"city":{"names":{"en":..}},"country":{"names":{"en":..},
    /// "iso_code":..},"location":{"latitude":..,"longitude":..}} (for distances between places).
    static bool writeNetworks(const QString& path, const QList<Network>& networks)
    {
        // A binary trie over the address bits: each node has two records (left: bit 0, right: bit 1),
        // -1 while empty, -(k + 2) for network k's data, else the index of the next node.
        QList<std::array<qint64, 2>> nodes{{-1, -1}};
        for (int k = 0; k < networks.size(); ++k) {
            const quint32 ip = networks[k].address.toIPv4Address();
            qint64 node = 0;
            for (int i = 0; i < networks[k].prefixLength; ++i) {
                const int bit = (ip >> (31 - i)) & 1;
                if (i + 1 == networks[k].prefixLength) {
                    nodes[node][bit] = -(k + 2);
                } else {
                    if (nodes[node][bit] < 0) {
                        nodes.append({-1, -1});
                        nodes[node][bit] = nodes.size() - 1;
                    }
                    node = nodes[node][bit];
                }
            }
        }
        QByteArray data;
        QList<quint32> offsets;
        for (const Network& n : networks) {
            offsets << quint32(data.size());
            data += map(3) + str("city") + map(1) + str("names") + map(1) + str("en") + str(n.city) +
                    str("country") + map(2) + str("names") + map(1) + str("en") + str(n.country) +
                    str("iso_code") + str(n.iso) + str("location") + map(2) + str("latitude") +
                    real(n.latitude) + str("longitude") + real(n.longitude);
        }
        const quint32 nodeCount = quint32(nodes.size());
        QByteArray tree;
        for (const auto& node : nodes) {
            for (qint64 r : node) {
                const quint32 record = r == -1  ? nodeCount
                                       : r < -1 ? nodeCount + 16 + offsets[int(-r - 2)]
                                                : quint32(r);
                tree.append(char((record >> 16) & 0xff));
                tree.append(char((record >> 8) & 0xff));
                tree.append(char(record & 0xff));
            }
        }
        return save(path, tree, data, nodeCount);
    }

private:
    /// The search tree, the data section and the metadata (format 2.0, IPv4, 24-bit records).
    static bool save(const QString& path, const QByteArray& tree, const QByteArray& data, quint32 nodeCount)
    {
        const QByteArray metadata = map(9) + str("build_epoch") + uint64(1700000000) + str("description") + map(1) +
                                    str("en") + str("test database") + str("node_count") + uint32(nodeCount) + str("record_size") + uint16(24) +
                                    str("ip_version") + uint16(4) + str("database_type") + str("GeoLite2-City") +
                                    str("languages") + array(1) + str("en") + str("binary_format_major_version") +
                                    uint16(2) + str("binary_format_minor_version") + uint16(0);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return false;
        f.write(tree);
        f.write(QByteArray(16, '\0'));
        f.write(data);
        f.write(QByteArray("\xab\xcd\xefMaxMind.com", 14));
        f.write(metadata);
        return true;
    }
    static QByteArray real(double v) // MaxMind "double": 8 bytes, big-endian IEEE 754
    {
        quint64 bits = 0;
        memcpy(&bits, &v, sizeof bits);
        QByteArray out(1, char((3 << 5) | 8));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((bits >> shift) & 0xff));
        return out;
    }
    static QByteArray str(const QByteArray& s) { return QByteArray(1, char(0x40 | s.size())) + s; } // < 29 bytes
    static QByteArray map(int entries) { return QByteArray(1, char(0xe0 | entries)); }
    static QByteArray array(int entries) { return QByteArray(1, char(entries)) + QByteArray(1, char(11 - 7)); }
    static QByteArray uint16(quint16 v) { return QByteArray(1, char(0xa0 | 2)) + char(v >> 8) + char(v & 0xff); }
    static QByteArray uint64(quint64 v)
    {
        QByteArray out(1, char(8)); // extended type: size 8, then type 9 (uint64) as 9 - 7
        out.append(char(9 - 7));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((v >> shift) & 0xff));
        return out;
    }
    static QByteArray uint32(quint32 v)
    {
        return QByteArray(1, char(0xc0 | 4)) + char(v >> 24) + char((v >> 16) & 0xff) + char((v >> 8) & 0xff) + char(v & 0xff);
    }
};

} // namespace ehrs::test
