// SPDX-License-Identifier: Apache-2.0
// Issue 18, new-session email: the real server binary, a real SMTP server on loopback
// (python3-aiosmtpd), on the embedded SQLite default and on PostgreSQL + Redis. A mail server that
// is down delays no sign-in; the mail waits in the outbox across a restart and arrives once the
// mail server is up; it says device, place and time and how to end the session, never a token;
// without SMTP_URL nothing is queued or sent.
#include "SignInKit.h"
#include "TestEnvironment.h"

#include <QElapsedTimer>
#include <QTest>

using namespace ehrs::test;

class TestAccountMail : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        EHRS_REQUIRE_BACKEND_UNDER_TEST();
        EHRS_REQUIRE_SMTP_SINK();
    }

    void signInNeverWaitsForTheMailServer()
    {
        MailSink sink; // not started yet: the mail server is down
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        useMail(server, sink);
        const QString email = QStringLiteral("nurse@example.org");
        QVERIFY(server.addUser(email, QString::fromLatin1(kKitPassword), QStringLiteral("Nora Nurse")));
        QVERIFY(server.start());

        QElapsedTimer t;
        t.start();
        auto signedIn = signIn(server, email, {}, {});
        QCOMPARE(signedIn.status, 200);
        QVERIFY2(t.elapsed() < 2000, qPrintable(QStringLiteral("sign-in took %1 ms").arg(t.elapsed())));
        // The notifier queued the mail and tried it (connection refused), without the sign-in noticing.
        QTRY_COMPARE_WITH_TIMEOUT(
            scalar(server, QStringLiteral(
                               "SELECT COUNT(*) FROM mail_outbox WHERE attempts >= 1 AND sent_at IS NULL")),
            qint64(1), 15000);
        QCOMPARE(signIn(server, email).status, 200); // still prompt while it retries
        QVERIFY(t.elapsed() < 4000);

        // The queue survives a restart; the mail server comes back meanwhile.
        server.stop();
        QVERIFY(sink.start());
        QVERIFY(server.start());
        QTRY_COMPARE_WITH_TIMEOUT(sink.withSubject("New sign-in").size(), 2, 20000);
        const QByteArray mail = sink.withSubject("New sign-in").front();
        QVERIFY2(mail.contains("X-Envelope-To: nurse@example.org"), mail.constData());
        QVERIFY(mail.contains("From: ehr-sessions@hospital.example"));
        QVERIFY(mail.contains("Hello Nora Nurse"));
        QVERIFY(mail.contains("Device: "));
        QVERIFY(mail.contains("Place: Local network (127.0.0.1)"));
        QVERIFY(mail.contains("Time: "));
        QVERIFY(mail.contains("Active Sessions"));
        QVERIFY(mail.contains("ehr-sessions"));
        for (const char* secret : {"accessToken", "refreshToken", "deviceCredential"}) {
            const QByteArray value = QByteArray::fromStdString(signedIn.str(secret));
            QVERIFY(!value.isEmpty());
            QVERIFY2(!mail.contains(value), secret);
        }
        QVERIFY(!mail.contains("http://") && !mail.contains("https://")); // no sign-in link of any kind
        QTRY_VERIFY_WITH_TIMEOUT(outboxEmpty(server), 10000);
        QCOMPARE(scalar(server, QStringLiteral("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL")),
                 qint64(2));

        // Metrics of this instance: both mails sent (the queue was filled before the restart).
        auto metrics = ApiClient(server.url()).request("GET", "/metrics");
        QVERIFY2(metrics.body.contains("ehrs_mail_total{result=\"sent\"} 2"), metrics.body.constData());
    }

    void passwordChangeIsMailed()
    {
        MailSink sink;
        QVERIFY(sink.start());
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        useMail(server, sink);
        const QString email = QStringLiteral("porter@example.org");
        QVERIFY(server.addUser(email, QString::fromLatin1(kKitPassword)));
        QVERIFY(server.start());
        auto signedIn = signIn(server, email);
        QCOMPARE(signedIn.status, 200);
        auto changed = ApiClient(server.url())
                           .request("POST", "/api/auth/password",
                                    {{"currentPassword", kKitPassword.toStdString()},
                                     {"newPassword", "another long enough password"}},
                                    QByteArray::fromStdString(signedIn.str("accessToken")));
        QCOMPARE(changed.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(sink.withSubject("Your EHR password was changed").size(), 1, 15000);
        QVERIFY(!sink.withSubject("Your EHR password was changed")
                     .front()
                     .contains("another long enough password"));
    }

    void noSmtpUrlSendsNothing()
    {
        MailSink sink;
        QVERIFY(sink.start());
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        server.setEnv(QStringLiteral("NOTIFY_POLL_SECONDS"), QStringLiteral("1"));
        const QString email = QStringLiteral("clerk@example.org");
        QVERIFY(server.addUser(email, QString::fromLatin1(kKitPassword)));
        QVERIFY(server.start());
        QCOMPARE(signIn(server, email).status, 200);
        // The notifier read the sign-in (it still forgets devices without mail), and queued nothing.
        QTRY_VERIFY_WITH_TIMEOUT(notifierCaughtUp(server), 15000);
        QCOMPARE(scalar(server, QStringLiteral("SELECT COUNT(*) FROM mail_outbox")), qint64(0));
        QCOMPARE(sink.messages().size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestAccountMail)
#include "TestAccountMail.moc"
