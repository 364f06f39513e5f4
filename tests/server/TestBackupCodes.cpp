// SPDX-License-Identifier: Apache-2.0
#include "mfa/BackupCodes.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <cmath>

using namespace ehrs::server;

class TestBackupCodes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void alphabet()
    {
        const QStringView alphabet = BackupCodes::alphabet();
        QCOMPARE(alphabet.size(), 31);
        for (QChar ambiguous : QStringView(u"0o1li"))
            QVERIFY2(!alphabet.contains(ambiguous), qPrintable(QString(ambiguous)));
        QSet<QChar> distinct;
        for (QChar c : alphabet) {
            QVERIFY((c >= u'a' && c <= u'z') || (c >= u'2' && c <= u'9'));
            distinct.insert(c);
        }
        QCOMPARE(distinct.size(), 31);
        // 15 symbols of 31: over 74 bits (log2(31^15) = 74.3), well above the 60 asked for.
        QVERIFY(BackupCodes::kCodeLength * std::log2(static_cast<double>(alphabet.size())) >= 74.0);
    }

    void count_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("expected");
        QTest::newRow("zero") << 0 << 0;
        QTest::newRow("negative") << -5 << 0;
        QTest::newRow("one") << 1 << 1;
        QTest::newRow("sixteen") << 16 << 16;
        QTest::newRow("thousand") << 1000 << 1000;
    }

    void count()
    {
        QFETCH(int, count);
        QFETCH(int, expected);
        const QStringList codes = BackupCodes::generate(count);
        QCOMPARE(codes.size(), expected);
        // Unique within the set.
        QCOMPARE(QSet<QString>(codes.cbegin(), codes.cend()).size(), expected);
    }

    void defaultCount()
    {
        const QStringList codes = BackupCodes::generate();
        QCOMPARE(codes.size(), 10);
        QCOMPARE(QSet<QString>(codes.cbegin(), codes.cend()).size(), 10);
    }

    void format()
    {
        static const QRegularExpression pattern(
            QStringLiteral("^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$"));
        QVERIFY(pattern.isValid());
        const QStringList codes = BackupCodes::generate(500);
        QSet<QChar> used;
        for (const QString& code : codes) {
            QVERIFY2(pattern.match(code).hasMatch(), qPrintable(code));
            QCOMPARE(BackupCodes::normalize(code).size(), 15);
            for (QChar c : code)
                used.insert(c);
        }
        // 7500 symbols: every one of the 31 characters (and the dash) shows up.
        QCOMPARE(used.size(), 32);
    }

    void setsDiffer()
    {
        const QStringList a = BackupCodes::generate();
        const QStringList b = BackupCodes::generate();
        QSet<QString> all(a.cbegin(), a.cend());
        all.unite(QSet<QString>(b.cbegin(), b.cend()));
        QCOMPARE(all.size(), 20);
    }

    void normalize_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QString>("expected");
        QTest::newRow("display form") << QStringLiteral("k7qd-9xme") << QStringLiteral("k7qd9xme");
        QTest::newRow("upper case with space") << QStringLiteral("K7QD 9XME") << QStringLiteral("k7qd9xme");
        QTest::newRow("no separator") << QStringLiteral("k7qd9xme") << QStringLiteral("k7qd9xme");
        QTest::newRow("surrounding whitespace")
            << QStringLiteral(" \tk7qd-9xme\n") << QStringLiteral("k7qd9xme");
        QTest::newRow("many dashes and spaces")
            << QStringLiteral("k7-qd - 9x-me") << QStringLiteral("k7qd9xme");
        QTest::newRow("mixed case") << QStringLiteral("K7qD-9xMe") << QStringLiteral("k7qd9xme");
        QTest::newRow("empty") << QString() << QString();
        QTest::newRow("other characters kept")
            << QStringLiteral("k7qd_9xme!") << QStringLiteral("k7qd_9xme!");
    }

    void normalize()
    {
        QFETCH(QString, typed);
        QFETCH(QString, expected);
        QCOMPARE(BackupCodes::normalize(typed), expected);
        // Matching only depends on the normalised form.
        QCOMPARE(BackupCodes::legacyHash("pepper", typed), BackupCodes::legacyHash("pepper", expected));
        QVERIFY(BackupCodes::matches("pepper", BackupCodes::seal("pepper", expected), typed));
    }

    void legacyHashStable()
    {
        // HMAC-SHA256("pepper", "k7qd9xme"), computed independently with
        // `printf k7qd9xme | openssl dgst -sha256 -hmac pepper`.
        const QByteArray expected = "ff3e982ab4188916714bfd82cfef775359b026009f38807d15f6bbff624c01b9";
        QCOMPARE(BackupCodes::legacyHash("pepper", u"k7qd-9xme"), expected);
        QCOMPARE(BackupCodes::legacyHash("pepper", u"K7QD 9XME"), expected);
        const QByteArray h = BackupCodes::legacyHash("pepper", u"k7qd-9xme");
        QCOMPARE(h.size(), 64);
        QCOMPARE(h, h.toLower());
    }

    void sealedEntriesHaveTheirOwnSalt()
    {
        const QString code = BackupCodes::generate(1).first();
        const QByteArray a = BackupCodes::seal("pepper", code);
        const QByteArray b = BackupCodes::seal("pepper", code);
        QVERIFY(a.startsWith("v2$") && b.startsWith("v2$"));
        QVERIFY(a != b); // same code, same pepper: different salts, different entries
        QCOMPARE(a.split('$').size(), 3);
        QVERIFY(a.split('$').at(1) != b.split('$').at(1));
        QCOMPARE(QByteArray::fromBase64(a.split('$').at(1), QByteArray::Base64UrlEncoding).size(), 16);
        QVERIFY(!a.contains(BackupCodes::normalize(code).toUtf8()));
        QVERIFY(!a.contains(BackupCodes::legacyHash("pepper", code)));
    }

    void verification()
    {
        const QString code = QStringLiteral("k7qd9-xmeab-fgh2k");
        const QByteArray stored = BackupCodes::seal("pepper", code);
        QVERIFY(BackupCodes::matches("pepper", stored, code));
        QVERIFY(BackupCodes::matches("pepper", stored, u"K7QD9 XMEAB FGH2K"));
        QVERIFY(!BackupCodes::matches("pepper", stored, u"k7qd9-xmeab-fgh2m"));
        QVERIFY(!BackupCodes::matches("pepper2", stored, code)); // the pepper still matters
        QVERIFY(!BackupCodes::matches("pepper", stored, u""));
        // A tampered salt or mac, or a mangled entry, matches nothing.
        QByteArray tampered = stored;
        tampered[4] = tampered[4] == 'A' ? 'B' : 'A';
        QVERIFY(!BackupCodes::matches("pepper", tampered, code));
        QVERIFY(!BackupCodes::matches("pepper", "v2$", code));
        QVERIFY(!BackupCodes::matches("pepper", "v2$$", code));
        QVERIFY(!BackupCodes::matches("pepper", "v2$!!!$00", code));
        // Codes stored before salts (8 characters, unsalted HMAC) still verify.
        const QByteArray legacy = BackupCodes::legacyHash("pepper", u"k7qd-9xme");
        QVERIFY(BackupCodes::matches("pepper", legacy, u"K7QD 9XME"));
        QVERIFY(!BackupCodes::matches("pepper", legacy, u"k7qd-9xmf"));
    }

    void hashDependsOnPepperAndCode()
    {
        const QByteArray base = BackupCodes::legacyHash("pepper", u"k7qd-9xme");
        QVERIFY(BackupCodes::legacyHash("pepper2", u"k7qd-9xme") != base);
        QVERIFY(BackupCodes::legacyHash("", u"k7qd-9xme") != base);
        QVERIFY(BackupCodes::legacyHash("pepper", u"k7qd-9xmf") != base);
        QVERIFY(BackupCodes::legacyHash("pepper", u"7kqd-9xme") != base);
        // Different codes of one set never share a hash.
        const QStringList codes = BackupCodes::generate(50);
        QSet<QByteArray> hashes;
        for (const QString& code : codes)
            hashes.insert(BackupCodes::legacyHash("pepper", code));
        QCOMPARE(hashes.size(), 50);
    }
};

QTEST_GUILESS_MAIN(TestBackupCodes)
#include "TestBackupCodes.moc"
