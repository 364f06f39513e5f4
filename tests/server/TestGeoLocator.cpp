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

    void namedNetworksReplaceLocalNetwork()
    {
        auto geo =
            GeoLocator::open(m_db, QStringLiteral("10.20.0.0/16=St Mary's, Ward 3; 10.20.3.0/24 = St Mary's, "
                                                  "Ward 3 nurses' station\n192.168.7.9=Outpatients desk;"
                                                  "fd00:1::/32=Research wing"));
        QVERIFY2(geo, geo ? "" : qPrintable(geo.error().message));
        QCOMPARE((*geo)->locate(QStringLiteral("10.20.41.7")), QStringLiteral("St Mary's, Ward 3"));
        QCOMPARE((*geo)->locate(QStringLiteral("::ffff:10.20.41.7")), QStringLiteral("St Mary's, Ward 3"));
        // The most specific range wins, whatever the order they were given in.
        QCOMPARE((*geo)->locate(QStringLiteral("10.20.3.50")),
                 QStringLiteral("St Mary's, Ward 3 nurses' station"));
        QCOMPARE((*geo)->locate(QStringLiteral("192.168.7.9")), QStringLiteral("Outpatients desk"));
        QCOMPARE((*geo)->locate(QStringLiteral("fd00:1::5")), QStringLiteral("Research wing"));
        // Other private addresses are still just local; public ones still come from the database.
        QCOMPARE((*geo)->locate(QStringLiteral("192.168.7.10")), QStringLiteral("Local network"));
        QCOMPARE((*geo)->locate(QStringLiteral("203.0.113.7")), QStringLiteral("Springfield, Testland"));
    }

    void badNetworkLocationsAreClearErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("no name") << QStringLiteral("10.20.0.0/16");
        QTest::newRow("empty name") << QStringLiteral("10.20.0.0/16=  ");
        QTest::newRow("not an address") << QStringLiteral("ward3=Ward 3");
        QTest::newRow("prefix too long") << QStringLiteral("10.20.0.0/33=Ward 3");
        QTest::newRow("abbreviated") << QStringLiteral("10.20/16=Ward 3");
        QTest::newRow("control character") << QStringLiteral("10.20.0.0/16=Ward\x07 3");
        QTest::newRow("name too long") << QStringLiteral("10.20.0.0/16=") + QString(101, u'x');
    }

    void badNetworkLocationsAreClearErrors()
    {
        QFETCH(QString, text);
        auto r = GeoLocator::parseNetworkLocations(text);
        QVERIFY(!r);
        QVERIFY2(r.error().message.startsWith(QStringLiteral("NETWORK_LOCATIONS")),
                 qPrintable(r.error().message));
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
