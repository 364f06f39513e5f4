// SPDX-License-Identifier: Apache-2.0
#include "mfa/Totp.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTest>

using namespace ehrs;
using namespace ehrs::server;

Q_DECLARE_METATYPE(ehrs::server::TotpAlgorithm)

namespace {
// RFC 6238 Appendix A seeds: the ASCII digits repeated to the hash's output length.
const QByteArray kSeedSha1 = "12345678901234567890";
const QByteArray kSeedSha256 = "12345678901234567890123456789012";
const QByteArray kSeedSha512 = "1234567890123456789012345678901234567890123456789012345678901234";
} // namespace

class TestTotp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rfc6238Vectors_data()
    {
        QTest::addColumn<TotpAlgorithm>("algorithm");
        QTest::addColumn<QByteArray>("seed");
        QTest::addColumn<qint64>("time");
        QTest::addColumn<QString>("expected");
        // RFC 6238 Appendix B, 8 digits, 30 s steps.
        const struct
        {
            qint64 time;
            const char* sha1;
            const char* sha256;
            const char* sha512;
        } rows[] = {
            {59, "94287082", "46119246", "90693936"},
            {1111111109, "07081804", "68084774", "25091201"},
            {1111111111, "14050471", "67062674", "99943326"},
            {1234567890, "89005924", "91819424", "93441116"},
            {2000000000, "69279037", "90698825", "38618901"},
            {20000000000, "65353130", "77737706", "47863826"},
        };
        for (const auto& row : rows) {
            QTest::addRow("SHA1 T=%lld", row.time)
                << TotpAlgorithm::Sha1 << kSeedSha1 << row.time << QString::fromLatin1(row.sha1);
            QTest::addRow("SHA256 T=%lld", row.time)
                << TotpAlgorithm::Sha256 << kSeedSha256 << row.time << QString::fromLatin1(row.sha256);
            QTest::addRow("SHA512 T=%lld", row.time)
                << TotpAlgorithm::Sha512 << kSeedSha512 << row.time << QString::fromLatin1(row.sha512);
        }
    }

    void rfc6238Vectors()
    {
        QFETCH(TotpAlgorithm, algorithm);
        QFETCH(QByteArray, seed);
        QFETCH(qint64, time);
        QFETCH(QString, expected);
        const TotpParameters params{.algorithm = algorithm, .digits = 8, .period = 30};
        QCOMPARE(Totp::code(seed, time, params), expected);
        // The same code verifies at that time, and the step it reports is T / 30.
        QCOMPARE(Totp::verify(seed, expected, time, -1, 0, params), std::optional<qint64>(time / 30));
    }

    void rfc4226Vectors_data()
    {
        QTest::addColumn<quint64>("counter");
        QTest::addColumn<QString>("expected");
        // RFC 4226 Appendix D, secret "12345678901234567890".
        const char* values[] = {"755224", "287082", "359152", "969429", "338314",
                                "254676", "287922", "162583", "399871", "520489"};
        for (quint64 counter = 0; counter < 10; ++counter)
            QTest::addRow("counter %llu", counter) << counter << QString::fromLatin1(values[counter]);
    }

    void rfc4226Vectors()
    {
        QFETCH(quint64, counter);
        QFETCH(QString, expected);
        QCOMPARE(Totp::hotp(kSeedSha1, counter), expected);
        // TOTP is HOTP of the time step: any second inside step `counter` gives the same value.
        const qint64 start = static_cast<qint64>(counter) * 30;
        QCOMPARE(Totp::code(kSeedSha1, start), expected);
        QCOMPARE(Totp::code(kSeedSha1, start + 29), expected);
    }

    void invalidParameters_data()
    {
        QTest::addColumn<QByteArray>("secret");
        QTest::addColumn<qint64>("time");
        QTest::addColumn<int>("digits");
        QTest::addColumn<int>("period");
        QTest::newRow("empty secret") << QByteArray() << qint64(59) << 6 << 30;
        QTest::newRow("5 digits") << kSeedSha1 << qint64(59) << 5 << 30;
        // liboath computes 6, 7 or 8 digits (authenticator apps show 6 or 8).
        QTest::newRow("9 digits") << kSeedSha1 << qint64(59) << 9 << 30;
        QTest::newRow("10 digits") << kSeedSha1 << qint64(59) << 10 << 30;
        QTest::newRow("zero period") << kSeedSha1 << qint64(59) << 6 << 0;
        QTest::newRow("negative time") << kSeedSha1 << qint64(-1) << 6 << 30;
    }

    void invalidParameters()
    {
        QFETCH(QByteArray, secret);
        QFETCH(qint64, time);
        QFETCH(int, digits);
        QFETCH(int, period);
        const TotpParameters params{.digits = digits, .period = period};
        QVERIFY(Totp::code(secret, time, params).isEmpty());
        QVERIFY(!Totp::verify(secret, u"000000", time, -1, 1, params));
    }

    void sevenDigits()
    {
        // 31-bit truncation modulo 10^7: RFC 4226 counter 0 is 1284755224 untruncated.
        QCOMPARE(Totp::hotp(kSeedSha1, 0, {.digits = 7}), QStringLiteral("4755224"));
    }

    void oathtoolAgrees_data()
    {
        QTest::addColumn<TotpAlgorithm>("algorithm");
        QTest::addColumn<int>("digits");
        QTest::addColumn<qint64>("time");
        const qint64 times[] = {0, 59, 1700000000, 1700000029, 4102444800};
        for (qint64 time : times) {
            QTest::addRow("SHA1 6 T=%lld", time) << TotpAlgorithm::Sha1 << 6 << time;
            QTest::addRow("SHA1 8 T=%lld", time) << TotpAlgorithm::Sha1 << 8 << time;
            QTest::addRow("SHA256 7 T=%lld", time) << TotpAlgorithm::Sha256 << 7 << time;
            QTest::addRow("SHA512 8 T=%lld", time) << TotpAlgorithm::Sha512 << 8 << time;
        }
    }

    // Codes of fresh random secrets, as the command-line tool from OATH Toolkit computes them from
    // the base32 secret an authenticator app would be given (also its own run as a CTest test:
    // TestTotp_oathtool, Skipped where oathtool is not installed).
    void oathtoolAgrees()
    {
        QFETCH(TotpAlgorithm, algorithm);
        QFETCH(int, digits);
        QFETCH(qint64, time);
        const QString oathtool = QStandardPaths::findExecutable(QStringLiteral("oathtool"));
        if (oathtool.isEmpty())
            QSKIP("oathtool is not installed (Debian package oathtool)");
        const QByteArray secret = Totp::generateSecret();
        const TotpParameters params{.algorithm = algorithm, .digits = digits, .period = 30};
        QProcess tool;
        tool.start(oathtool, {QStringLiteral("--totp=") + Totp::algorithmName(algorithm),
                              QStringLiteral("--base32"), QStringLiteral("--digits=%1").arg(digits),
                              QStringLiteral("--now=@%1").arg(time), Totp::base32Encode(secret)});
        QVERIFY(tool.waitForFinished(10000));
        QCOMPARE(tool.exitCode(), 0);
        const QString expected = QString::fromLatin1(tool.readAllStandardOutput()).trimmed();
        QCOMPARE(expected.size(), digits);
        QCOMPARE(Totp::code(secret, time, params), expected);
        QCOMPARE(Totp::verify(secret, expected, time, -1, 0, params), std::optional<qint64>(time / 30));
    }

    void generateSecret()
    {
        const QByteArray a = Totp::generateSecret();
        const QByteArray b = Totp::generateSecret();
        QCOMPARE(a.size(), 20);
        QCOMPARE(b.size(), 20);
        QVERIFY(a != b);
        QCOMPARE(Totp::code(a, 59).size(), 6);
    }

    void base32Vectors_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QString>("encoded");
        // RFC 4648 §10, without the padding.
        QTest::newRow("empty") << QByteArray() << QString();
        QTest::newRow("f") << QByteArray("f") << QStringLiteral("MY");
        QTest::newRow("fo") << QByteArray("fo") << QStringLiteral("MZXQ");
        QTest::newRow("foo") << QByteArray("foo") << QStringLiteral("MZXW6");
        QTest::newRow("foob") << QByteArray("foob") << QStringLiteral("MZXW6YQ");
        QTest::newRow("fooba") << QByteArray("fooba") << QStringLiteral("MZXW6YTB");
        QTest::newRow("foobar") << QByteArray("foobar") << QStringLiteral("MZXW6YTBOI");
        QTest::newRow("rfc 6238 seed") << kSeedSha1 << QStringLiteral("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        QTest::newRow("all bits") << QByteArray("\x00\xff\x10\x80\x7f", 5) << QStringLiteral("AD7RBAD7");
    }

    void base32Vectors()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QString, encoded);
        QCOMPARE(Totp::base32Encode(raw), encoded);
        auto decoded = Totp::base32Decode(encoded);
        QVERIFY(decoded);
        QCOMPARE(*decoded, raw);
    }

    void base32Lenient_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QByteArray>("raw");
        QTest::newRow("padded") << QStringLiteral("MZXW6YTBOI======") << QByteArray("foobar");
        QTest::newRow("lower case") << QStringLiteral("mzxw6ytboi") << QByteArray("foobar");
        QTest::newRow("mixed case") << QStringLiteral("MzXw6YtBoI") << QByteArray("foobar");
        QTest::newRow("grouped") << QStringLiteral("gezd gnbv gy3t qojq gezd gnbv gy3t qojq") << kSeedSha1;
        QTest::newRow("padded one byte") << QStringLiteral("MY======") << QByteArray("f");
        QTest::newRow("only padding") << QStringLiteral("====") << QByteArray();
    }

    void base32Lenient()
    {
        QFETCH(QString, text);
        QFETCH(QByteArray, raw);
        auto decoded = Totp::base32Decode(text);
        QVERIFY(decoded);
        QCOMPARE(*decoded, raw);
    }

    void base32Rejects_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("digit 0") << QStringLiteral("MZXW0YTB");
        QTest::newRow("digit 1") << QStringLiteral("MZXW1YTB");
        QTest::newRow("digit 8") << QStringLiteral("MZXW8YTB");
        QTest::newRow("dash") << QStringLiteral("MZXW-6YTB");
        QTest::newRow("base64 char") << QStringLiteral("MZXW6YT+");
        QTest::newRow("non-ascii letter") << QStringLiteral("MZXW6YT\u00c9");
        QTest::newRow("1 symbol") << QStringLiteral("M");
        QTest::newRow("3 symbols") << QStringLiteral("MZX");
        QTest::newRow("6 symbols") << QStringLiteral("MZXW6Y");
        QTest::newRow("9 symbols") << QStringLiteral("MZXW6YTBO");
    }

    void base32Rejects()
    {
        QFETCH(QString, text);
        auto decoded = Totp::base32Decode(text);
        QVERIFY(!decoded);
        QCOMPARE(decoded.error().code, ErrorCode::InvalidRequest);
    }

    void base32RoundTrip()
    {
        for (int size = 0; size <= 40; ++size) {
            QByteArray raw(size, Qt::Uninitialized);
            for (int i = 0; i < size; ++i)
                raw[i] = static_cast<char>((i * 37 + size * 11) & 0xff);
            const QString encoded = Totp::base32Encode(raw);
            QCOMPARE(encoded.size(), (size * 8 + 4) / 5);
            auto decoded = Totp::base32Decode(encoded);
            QVERIFY(decoded);
            QCOMPARE(*decoded, raw);
        }
        const QByteArray secret = Totp::generateSecret();
        QCOMPARE(*Totp::base32Decode(Totp::base32Encode(secret)), secret);
    }

    void window_data()
    {
        QTest::addColumn<int>("offset"); // step of the typed code relative to the current step
        QTest::addColumn<int>("window");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("current, window 0") << 0 << 0 << true;
        QTest::newRow("previous, window 0") << -1 << 0 << false;
        QTest::newRow("next, window 0") << 1 << 0 << false;
        QTest::newRow("current, window 1") << 0 << 1 << true;
        QTest::newRow("previous, window 1") << -1 << 1 << true;
        QTest::newRow("next, window 1") << 1 << 1 << true;
        QTest::newRow("two back, window 1") << -2 << 1 << false;
        QTest::newRow("two ahead, window 1") << 2 << 1 << false;
        QTest::newRow("two back, window 2") << -2 << 2 << true;
        QTest::newRow("ten back, window 1") << -10 << 1 << false;
        QTest::newRow("negative window") << 0 << -1 << false;
    }

    void window()
    {
        QFETCH(int, offset);
        QFETCH(int, window);
        QFETCH(bool, accepted);
        const qint64 now = 1111111111; // step 37037037, 1 s into it
        const qint64 step = now / 30;
        const QString typed = Totp::code(kSeedSha1, (step + offset) * 30);
        QCOMPARE(typed.size(), 6);
        const auto result = Totp::verify(kSeedSha1, typed, now, -1, window);
        QCOMPARE(result.has_value(), accepted);
        if (accepted)
            QCOMPARE(*result, step + offset);
    }

    void windowAtEpoch()
    {
        // Steps before 0 do not exist; the window just shrinks.
        const QString typed = Totp::code(kSeedSha1, 0);
        QCOMPARE(Totp::verify(kSeedSha1, typed, 5, -1), std::optional<qint64>(0));
    }

    void wrongSecret()
    {
        const qint64 now = 1234567890;
        const QString typed = Totp::code(kSeedSha1, now);
        QVERIFY(Totp::verify(kSeedSha1, typed, now, -1));
        QVERIFY(!Totp::verify(Totp::generateSecret(), typed, now, -1));
    }

    void replay()
    {
        const qint64 now = 2000000000;
        const qint64 step = now / 30;
        const QString current = Totp::code(kSeedSha1, now);
        const auto first = Totp::verify(kSeedSha1, current, now, -1);
        QCOMPARE(first, std::optional<qint64>(step));
        // The same code again, in the same step or the next one: refused.
        QVERIFY(!Totp::verify(kSeedSha1, current, now, *first));
        QVERIFY(!Totp::verify(kSeedSha1, current, now + 30, *first));
        // An older code, still inside the window, cannot come in after a newer one.
        const QString previous = Totp::code(kSeedSha1, now - 30);
        QVERIFY(!Totp::verify(kSeedSha1, previous, now, *first));
        // The next step's code is fresh and is accepted once.
        const QString next = Totp::code(kSeedSha1, now + 30);
        const auto second = Totp::verify(kSeedSha1, next, now + 30, *first);
        QCOMPARE(second, std::optional<qint64>(step + 1));
        QVERIFY(!Totp::verify(kSeedSha1, next, now + 30, *second));
    }

    void spacesIgnored_data()
    {
        QTest::addColumn<QString>("format"); // %1 = first three digits, %2 = last three
        QTest::newRow("plain") << QStringLiteral("%1%2");
        QTest::newRow("grouped") << QStringLiteral("%1 %2");
        QTest::newRow("surrounding") << QStringLiteral("  %1%2 ");
        QTest::newRow("tab") << QStringLiteral("%1\t%2");
    }

    void spacesIgnored()
    {
        QFETCH(QString, format);
        const qint64 now = 1111111109;
        const QString code = Totp::code(kSeedSha1, now);
        const QString typed = format.arg(code.left(3), code.mid(3));
        QCOMPARE(Totp::verify(kSeedSha1, typed, now, -1), std::optional<qint64>(now / 30));
    }

    void malformedRejected_data()
    {
        QTest::addColumn<QString>("typed");
        // The valid code at T=1111111109 is "081804" (the RFC 6238 SHA1 value "07081804", 6 digits).
        QTest::newRow("empty") << QString();
        QTest::newRow("only spaces") << QStringLiteral("      ");
        QTest::newRow("five digits") << QStringLiteral("08180");
        QTest::newRow("seven digits") << QStringLiteral("0818040");
        QTest::newRow("leading zero dropped") << QStringLiteral("81804");
        QTest::newRow("letter") << QStringLiteral("08180x");
        QTest::newRow("dash") << QStringLiteral("081-804");
        QTest::newRow("plus sign") << QStringLiteral("+81804");
        // The right digits in other scripts: QChar::isDigit() is true, but they are not a code.
        QTest::newRow("arabic-indic digits") << QStringLiteral("\u0660\u0668\u0661\u0668\u0660\u0664");
        QTest::newRow("fullwidth digits") << QStringLiteral("\uff10\uff18\uff11\uff18\uff10\uff14");
    }

    void malformedRejected()
    {
        QFETCH(QString, typed);
        const qint64 now = 1111111109;
        QCOMPARE(Totp::code(kSeedSha1, now), QStringLiteral("081804"));
        QVERIFY(Totp::verify(kSeedSha1, u"081804", now, -1));
        QVERIFY(!Totp::verify(kSeedSha1, typed, now, -1));
    }

    void otpauthUri_data()
    {
        QTest::addColumn<QString>("account");
        QTest::addColumn<QString>("issuer");
        QTest::addColumn<int>("digits");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << QStringLiteral("alice") << QStringLiteral("Example") << 6
                               << QStringLiteral(
                                      "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                                      "&issuer=Example&algorithm=SHA1&digits=6&period=30");
        QTest::newRow("encoded") << QStringLiteral("alice@example.com") << QStringLiteral("EHR Sessions") << 6
                                 << QStringLiteral(
                                        "otpauth://totp/EHR%20Sessions:alice%40example.com"
                                        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                                        "&issuer=EHR%20Sessions&algorithm=SHA1&digits=6&period=30");
        QTest::newRow("separators escaped")
            << QStringLiteral("a:b?c") << QStringLiteral("A&B=C/D") << 6
            << QStringLiteral("otpauth://totp/A%26B%3DC%2FD:a%3Ab%3Fc?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                              "&issuer=A%26B%3DC%2FD&algorithm=SHA1&digits=6&period=30");
        QTest::newRow("non-ascii utf-8")
            << QStringLiteral("j\u00fcrgen") << QStringLiteral("Klinik M\u00fcnchen") << 8
            << QStringLiteral(
                   "otpauth://totp/Klinik%20M%C3%BCnchen:j%C3%BCrgen?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                   "&issuer=Klinik%20M%C3%BCnchen&algorithm=SHA1&digits=8&period=30");
        QTest::newRow("no issuer") << QStringLiteral("alice") << QString() << 6
                                   << QStringLiteral(
                                          "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                                          "&algorithm=SHA1&digits=6&period=30");
    }

    void otpauthUri()
    {
        QFETCH(QString, account);
        QFETCH(QString, issuer);
        QFETCH(int, digits);
        QFETCH(QString, expected);
        QCOMPARE(Totp::otpauthUri(kSeedSha1, account, issuer, {.digits = digits}), expected);
    }

    void otpauthUriAlgorithm()
    {
        const QString uri = Totp::otpauthUri(kSeedSha1, QStringLiteral("a"), QStringLiteral("I"),
                                             {.algorithm = TotpAlgorithm::Sha512, .digits = 8, .period = 60});
        QVERIFY(uri.endsWith(u"&algorithm=SHA512&digits=8&period=60"));
        QCOMPARE(Totp::algorithmName(TotpAlgorithm::Sha256), QStringLiteral("SHA256"));
    }
};

QTEST_GUILESS_MAIN(TestTotp)
#include "TestTotp.moc"
