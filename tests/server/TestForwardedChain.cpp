// SPDX-License-Identifier: Apache-2.0
// Client addresses behind trusted proxies: every header line counts, the walk goes from the right,
// Forwarded (RFC 7239) nodes parse with quotes, brackets and ports; per-address rate-limit
// subjects aggregate IPv6 to /64; audit pseudonyms use a key derived with HKDF.
#include "api/ForwardedChain.h"
#include "auth/EmailPseudonym.h"
#include "ratelimit/RateLimiter.h"

#include <QTest>

using namespace ehrs::server;

using Headers = QList<QPair<QByteArray, QByteArray>>;
Q_DECLARE_METATYPE(Headers)

class TestForwardedChain : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void nodes_data()
    {
        QTest::addColumn<QByteArray>("node");
        QTest::addColumn<QString>("address"); // empty: not an address
        QTest::newRow("v4") << QByteArray("192.0.2.1") << QStringLiteral("192.0.2.1");
        QTest::newRow("v4 port") << QByteArray("192.0.2.1:8080") << QStringLiteral("192.0.2.1");
        QTest::newRow("quoted v4") << QByteArray("\"192.0.2.1\"") << QStringLiteral("192.0.2.1");
        QTest::newRow("v6") << QByteArray("2001:db8::1") << QStringLiteral("2001:db8::1");
        QTest::newRow("bracketed v6") << QByteArray("[2001:db8::1]") << QStringLiteral("2001:db8::1");
        QTest::newRow("quoted v6 port")
            << QByteArray("\"[2001:db8:cafe::17]:4711\"") << QStringLiteral("2001:db8:cafe::17");
        QTest::newRow("mapped v4") << QByteArray("::ffff:192.0.2.7") << QStringLiteral("192.0.2.7");
        QTest::newRow("unknown") << QByteArray("unknown") << QString();
        QTest::newRow("obfuscated") << QByteArray("_hidden") << QString();
        QTest::newRow("short v4") << QByteArray("10.1") << QString();
        QTest::newRow("empty") << QByteArray("") << QString();
        QTest::newRow("unclosed bracket") << QByteArray("[2001:db8::1") << QString();
        QTest::newRow("v4 in brackets") << QByteArray("[192.0.2.1]") << QString();
    }
    void nodes()
    {
        QFETCH(QByteArray, node);
        QFETCH(QString, address);
        const QHostAddress parsed = parseForwardedNode(node);
        QCOMPARE(parsed.isNull() ? QString() : parsed.toString(), address);
    }

    void clientAddress_data()
    {
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<bool>("forwarded"); // TRUSTED_PROXY_HEADER=Forwarded
        QTest::addColumn<QString>("client");
        const QByteArray xff = "x-forwarded-for";
        QTest::newRow("no header") << Headers{} << false << QStringLiteral("10.0.0.1");
        QTest::newRow("one line") << Headers{{xff, "203.0.113.9"}} << false << QStringLiteral("203.0.113.9");
        QTest::newRow("forged first line")
            << Headers{{xff, "198.51.100.1"}, {xff, "203.0.113.9"}} << false << QStringLiteral("203.0.113.9");
        QTest::newRow("forged in the same line")
            << Headers{{xff, "198.51.100.1, 203.0.113.9"}} << false << QStringLiteral("203.0.113.9");
        QTest::newRow("past inner proxies") << Headers{{xff, "198.51.100.1"}, {xff, "203.0.113.9, 10.0.0.2"}}
                                            << false << QStringLiteral("203.0.113.9");
        QTest::newRow("garbage stops the walk")
            << Headers{{xff, "198.51.100.1, nonsense"}} << false << QStringLiteral("10.0.0.1");
        QTest::newRow("forwarded ignored by default")
            << Headers{{"forwarded", "for=203.0.113.9"}} << false << QStringLiteral("10.0.0.1");
        QTest::newRow("forwarded") << Headers{{"forwarded", "for=198.51.100.1"},
                                              {"forwarded",
                                               "for=\"[2001:db8::5]:80\";proto=https;by=10.0.0.1"}}
                                   << true << QStringLiteral("2001:db8::5");
        QTest::newRow("forwarded element list")
            << Headers{{"forwarded", "for=198.51.100.1, For=203.0.113.9;proto=http"}} << true
            << QStringLiteral("203.0.113.9");
        QTest::newRow("xff ignored with forwarded")
            << Headers{{xff, "198.51.100.1"}, {"forwarded", "for=203.0.113.9"}} << true
            << QStringLiteral("203.0.113.9");
        QTest::newRow("element without for")
            << Headers{{"forwarded", "for=203.0.113.9, proto=https"}} << true << QStringLiteral("10.0.0.1");
    }
    void clientAddress()
    {
        QFETCH(Headers, headers);
        QFETCH(bool, forwarded);
        QFETCH(QString, client);
        HttpRequest request;
        request.peerAddress = QHostAddress(QStringLiteral("::ffff:10.0.0.1"));
        request.headers = headers;
        const QList<QPair<QHostAddress, int>> trusted{
            QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8"))};
        const QHostAddress resolved = resolveClientAddress(
            request, trusted, forwarded ? ForwardedHeader::Forwarded : ForwardedHeader::XForwardedFor);
        QCOMPARE(resolved.toString(), client);
        // An untrusted peer is the client, whatever it claims.
        request.peerAddress = QHostAddress(QStringLiteral("192.0.2.200"));
        QCOMPARE(resolveClientAddress(request, trusted, ForwardedHeader::XForwardedFor).toString(),
                 QStringLiteral("192.0.2.200"));
    }

    void addressSubjects_data()
    {
        QTest::addColumn<QString>("address");
        QTest::addColumn<QByteArray>("subject");
        QTest::newRow("v4") << QStringLiteral("192.0.2.1") << QByteArray("192.0.2.1");
        QTest::newRow("v6") << QStringLiteral("2001:db8:1:2:3:4:5:6") << QByteArray("2001:db8:1:2::/64");
        QTest::newRow("v6 same /64") << QStringLiteral("2001:db8:1:2::ffff")
                                     << QByteArray("2001:db8:1:2::/64");
        QTest::newRow("v6 next /64") << QStringLiteral("2001:db8:1:3::1") << QByteArray("2001:db8:1:3::/64");
        QTest::newRow("mapped v4") << QStringLiteral("::ffff:192.0.2.1") << QByteArray("192.0.2.1");
    }
    void addressSubjects()
    {
        QFETCH(QString, address);
        QFETCH(QByteArray, subject);
        QCOMPARE(RateLimiter::addressSubject(address), subject);
    }

    void emailPseudonyms()
    {
        // RFC 5869 test case 3: empty salt and info.
        QCOMPARE(EmailPseudonym::hkdfSha256(QByteArray(22, '\x0b'), {}).toHex(),
                 QByteArray("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"));
        const QByteArray key = EmailPseudonym::keyFrom("root secret of at least thirty-two bytes");
        QCOMPARE(key.size(), 32);
        QVERIFY(key != EmailPseudonym::keyFrom("another root secret of thirty-two bytes"));
        const QString p = EmailPseudonym::of(key, QStringLiteral(" Typed.Password@Example.org "));
        QVERIFY(p.startsWith(u"hmac-sha256:"));
        QVERIFY(!p.contains(u"typed", Qt::CaseInsensitive));
        QCOMPARE(EmailPseudonym::of(key, QStringLiteral("typed.password@example.org")), p); // normalised
        QVERIFY(EmailPseudonym::of(EmailPseudonym::keyFrom("another root secret of thirty-two bytes"),
                                   QStringLiteral("typed.password@example.org")) != p);
    }
};

QTEST_GUILESS_MAIN(TestForwardedChain)
#include "TestForwardedChain.moc"
