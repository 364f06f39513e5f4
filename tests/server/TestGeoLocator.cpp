// SPDX-License-Identifier: Apache-2.0
#include "MmdbWriter.h"
#include "geo/GeoLocator.h"

#include <QTemporaryDir>
#include <QTest>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

class TestGeoLocator : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;

private Q_SLOTS:
    void initTestCase()
    {
        m_db = m_dir.filePath(QStringLiteral("test.mmdb"));
        QVERIFY(MmdbWriter::write(m_db, QHostAddress(QStringLiteral("203.0.113.0")), 24, "Springfield", "Testland", "TL"));
    }

    void locate_data()
    {
        QTest::addColumn<QString>("ip");
        QTest::addColumn<QString>("location");
        QTest::newRow("in the database") << QStringLiteral("203.0.113.7") << QStringLiteral("Springfield, Testland");
        QTest::newRow("mapped ipv6") << QStringLiteral("::ffff:203.0.113.200") << QStringLiteral("Springfield, Testland");
        QTest::newRow("not in it") << QStringLiteral("198.51.100.1") << QString();
        QTest::newRow("private 10/8") << QStringLiteral("10.1.2.3") << QStringLiteral("Local network");
        QTest::newRow("private 192.168") << QStringLiteral("192.168.0.9") << QStringLiteral("Local network");
        QTest::newRow("loopback") << QStringLiteral("127.0.0.1") << QStringLiteral("Local network");
        QTest::newRow("ipv6 loopback") << QStringLiteral("::1") << QStringLiteral("Local network");
        QTest::newRow("ipv6 ula") << QStringLiteral("fd00::1") << QStringLiteral("Local network");
        QTest::newRow("garbage") << QStringLiteral("not-an-ip") << QString();
        QTest::newRow("empty") << QString() << QString();
    }

    void locate()
    {
        QFETCH(QString, ip);
        QFETCH(QString, location);
        auto geo = GeoLocator::open(m_db);
        QVERIFY2(geo, geo ? "" : qPrintable(geo.error().message));
        QCOMPARE((*geo)->locate(ip), location);
    }

    void withoutDatabaseNothingIsInvented()
    {
        auto geo = GeoLocator::open({});
        QVERIFY(geo);
        QCOMPARE((*geo)->locate(QStringLiteral("203.0.113.7")), QString());
        QCOMPARE((*geo)->locate(QStringLiteral("10.0.0.1")), QStringLiteral("Local network"));
    }

    void badDatabaseIsAClearError()
    {
        QVERIFY(!GeoLocator::open(m_dir.filePath(QStringLiteral("absent.mmdb"))));
        QFile junk(m_dir.filePath(QStringLiteral("junk.mmdb")));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("this is not a database");
        junk.close();
        auto r = GeoLocator::open(junk.fileName());
        QVERIFY(!r);
        QVERIFY(r.error().message.contains(QStringLiteral("GEOIP_DB")));
    }
};

QTEST_GUILESS_MAIN(TestGeoLocator)
#include "TestGeoLocator.moc"
