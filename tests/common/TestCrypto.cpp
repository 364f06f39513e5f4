// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"

#include <QTest>

using namespace ehrs;

class TestCrypto : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sha256Vector()
    {
        // FIPS 180-2 "abc"
        QCOMPARE(crypto::sha256Hex("abc"), QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    void hmacVectors()
    {
        // RFC 4231 test case 2
        QCOMPARE(crypto::hmacSha256("Jefe", "what do ya want for nothing?").toHex(),
                 QByteArray("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
        QCOMPARE(crypto::hmacSha384("Jefe", "what do ya want for nothing?").toHex(),
                 QByteArray("af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"));
    }

    void base64Url_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QByteArray>("encoded");
        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("f") << QByteArray("f") << QByteArray("Zg");
        QTest::newRow("fo") << QByteArray("fo") << QByteArray("Zm8");
        QTest::newRow("foo") << QByteArray("foo") << QByteArray("Zm9v");
        QTest::newRow("url alphabet") << QByteArray("\xfb\xff\xbf", 3) << QByteArray("-_-_");
    }

    void base64Url()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QByteArray, encoded);
        QCOMPARE(crypto::base64UrlEncode(raw), encoded);
        auto decoded = crypto::base64UrlDecode(encoded);
        QVERIFY(decoded);
        QCOMPARE(*decoded, raw);
    }

    void base64UrlRejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("standard alphabet") << QByteArray("+/+/");
        QTest::newRow("padding") << QByteArray("Zg==");
        QTest::newRow("space") << QByteArray("Zm 9v");
        QTest::newRow("impossible length") << QByteArray("Zm9vY");
    }

    void base64UrlRejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!crypto::base64UrlDecode(text));
    }

    void constantTimeEquals()
    {
        QVERIFY(crypto::constantTimeEquals("abc", "abc"));
        QVERIFY(!crypto::constantTimeEquals("abc", "abd"));
        QVERIFY(!crypto::constantTimeEquals("abc", "abcd"));
    }

    void randomBytes()
    {
        const QByteArray a = crypto::randomBytes(48);
        const QByteArray b = crypto::randomBytes(48);
        QCOMPARE(a.size(), 48);
        QVERIFY(a != b);
    }
};

QTEST_GUILESS_MAIN(TestCrypto)
#include "TestCrypto.moc"
