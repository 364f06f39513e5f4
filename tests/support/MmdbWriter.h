// SPDX-License-Identifier: Apache-2.0
#pragma once

// Writes a minimal MaxMind DB (format 2.0, IPv4, 24-bit records) that maps one IPv4 network to
// {"city":{"names":{"en":CITY}},"country":{"names":{"en":COUNTRY},"iso_code":ISO}}: enough for
// tests of the GeoIP lookup without shipping a real database.

#include <QByteArray>
#include <QFile>
#include <QHostAddress>
#include <QString>

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

private:
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
