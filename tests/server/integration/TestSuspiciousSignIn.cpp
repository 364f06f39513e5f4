// SPDX-License-Identifier: Apache-2.0
// Issue 18, suspicious sign-ins: the real server binary on the embedded SQLite default and on
// PostgreSQL + Redis, a generated GeoIP database (Berlin and Lisbon networks with coordinates),
// clients placed there through TRUSTED_PROXIES, and a real SMTP server on loopback. A sign-in from
// a new country with impossible travel asks for the second factor despite a remembered device and
// produces the suspicious_login audit row, the suspicious-sign-in event and the email, each with
// the reasons in words; a routine sign-in on the remembered device skips the second factor.
#include "MmdbWriter.h"
#include "SignInKit.h"
#include "TestEnvironment.h"

#include <QTest>

using namespace ehrs::test;

namespace {
const QByteArray kBerlin = "198.51.100.7";
const QByteArray kLisbon = "203.0.113.9";
} // namespace

class TestSuspiciousSignIn : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    void configure(ServerProcess& server, const MailSink& sink)
    {
        const QString mmdb = m_dir.filePath(QStringLiteral("cities.mmdb"));
        QVERIFY(MmdbWriter::writeNetworks(mmdb, {{QHostAddress(QStringLiteral("198.51.100.0")), 24, "Berlin",
                                                  "Germany", "DE", 52.52, 13.405},
                                                 {QHostAddress(QStringLiteral("203.0.113.0")), 24, "Lisbon",
                                                  "Portugal", "PT", 38.7223, -9.1393}}));
        server.setEnv(QStringLiteral("GEOIP_DB"), mmdb);
        server.setEnv(QStringLiteral("TRUSTED_PROXIES"), QStringLiteral("127.0.0.1"));
        useMail(server, sink);
    }

private Q_SLOTS:
    void initTestCase()
    {
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
        EHRS_REQUIRE_SMTP_SINK();
    }

    void newCountryWithImpossibleTravelStepsUp()
    {
        MailSink sink;
        QVERIFY(sink.start());
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        configure(server, sink);
        const QString email = QStringLiteral("cardiologist@example.org");
        QVERIFY(server.addUser(email, QString::fromLatin1(kKitPassword)));
        QVERIFY(server.start());

        // At home in Berlin: a device, two-step on, the device remembered.
        auto first = signIn(server, email, kBerlin);
        QCOMPARE(first.status, 200);
        const std::string device = first.str("deviceCredential");
        const QByteArray access = QByteArray::fromStdString(first.str("accessToken"));
        QStringList backup = enableMfa(server, access, kBerlin);
        QVERIFY(backup.size() >= 2);
        auto challenge = signIn(server, email, kBerlin, device);
        QCOMPARE(challenge.json.value("requiresMFA", false), true);
        QCOMPARE(secondStep(server, challenge, backup.takeFirst(), device, true, kBerlin)
                     .json.value("deviceRemembered", false),
                 true);
        auto routine = signIn(server, email, kBerlin, device);
        QVERIFY2(!routine.str("accessToken").empty(),
                 routine.body.constData()); // remembered: no second factor
        QCOMPARE(scalar(server,
                        QStringLiteral("SELECT COUNT(*) FROM audit_events WHERE event = 'suspicious_login'")),
                 qint64(0));

        EventStreamText events;
        QVERIFY(events.open(server.url(), QByteArray::fromStdString(routine.str("accessToken"))));
        QTRY_VERIFY(events.received().contains("event: ready"));

        // Minutes later from Lisbon, with the remembered device: asked for the second factor.
        auto lisbon = signIn(server, email, kLisbon, device);
        QCOMPARE(lisbon.status, 200);
        QCOMPARE(lisbon.json.value("requiresMFA", false), true);
        QVERIFY(lisbon.str("accessToken").empty());

        // The audit row, with the signals and the reasons in words.
        const QByteArray details =
            text(server,
                 QStringLiteral(
                     "SELECT details FROM audit_events WHERE event = 'suspicious_login' ORDER BY id DESC"));
        QVERIFY2(details.contains("impossible_travel") && details.contains("new_place"), details.constData());
        QVERIFY2(details.contains("first sign-in from Lisbon, Portugal"), details.constData());
        QVERIFY2(details.contains("km from your sign-in in Berlin, Germany"), details.constData());
        QVERIFY(!details.contains(device.c_str()));

        // The event on the account's stream.
        QTRY_VERIFY_WITH_TIMEOUT(events.received().contains("event: suspicious-sign-in"), 5000);
        const QByteArray stream = events.received();
        const QByteArray event = stream.mid(stream.indexOf("event: suspicious-sign-in"));
        QVERIFY2(event.contains("first sign-in from Lisbon, Portugal"), event.constData());
        QVERIFY2(event.contains("km from your sign-in in Berlin, Germany"), event.constData());

        // The email, with the same reasons.
        QTRY_COMPARE_WITH_TIMEOUT(sink.withSubject("Unusual sign-in").size(), 1, 15000);
        const QByteArray mail = sink.withSubject("Unusual sign-in").front();
        QVERIFY2(mail.contains("first sign-in from Lisbon, Portugal"), mail.constData());
        QVERIFY2(mail.contains("km from your sign-in in Berlin, Germany"), mail.constData());
        QVERIFY(mail.contains("Place: Lisbon, Portugal (203.0.113.9)"));
        QVERIFY(mail.contains("second sign-in step"));
        QVERIFY(!mail.contains(device.c_str()));

        // The metric.
        auto metrics = ApiClient(server.url()).request("GET", "/metrics");
        QVERIFY2(metrics.body.contains("ehrs_logins_total{result=\"suspicious\"} 1"),
                 metrics.body.constData());

        // The second factor lets the person in.
        auto through = secondStep(server, lisbon, backup.takeFirst(), device, false, kLisbon);
        QCOMPARE(through.status, 200);
        QVERIFY(!through.str("accessToken").empty());
    }

    void withoutTwoStepTheSignInGoesAheadAndIsReported()
    {
        MailSink sink;
        QVERIFY(sink.start());
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        configure(server, sink);
        const QString email = QStringLiteral("locum@example.org");
        QVERIFY(server.addUser(email, QString::fromLatin1(kKitPassword)));
        QVERIFY(server.start());
        auto berlin = signIn(server, email, kBerlin);
        QCOMPARE(berlin.status, 200);
        auto lisbon = signIn(server, email, kLisbon, berlin.str("deviceCredential"));
        QCOMPARE(lisbon.status, 200);
        QVERIFY(!lisbon.str("accessToken").empty()); // no second factor to ask for
        const QByteArray details =
            text(server,
                 QStringLiteral(
                     "SELECT details FROM audit_events WHERE event = 'suspicious_login' ORDER BY id DESC"));
        const auto parsed = nlohmann::json::parse(details.toStdString(), nullptr, false);
        QVERIFY2(parsed.is_object() && parsed.value("stepUp", true) == false, details.constData());
        QTRY_COMPARE_WITH_TIMEOUT(sink.withSubject("Unusual sign-in").size(), 1, 15000);
        QVERIFY(sink.withSubject("Unusual sign-in").front().contains("no second sign-in step"));
    }
};

QTEST_GUILESS_MAIN(TestSuspiciousSignIn)
#include "TestSuspiciousSignIn.moc"
