// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"
#include "keys/SecretBox.h"

#include <QSet>
#include <QTest>

using namespace ehrs;
using namespace ehrs::server;

namespace {
const QByteArray kKey = "0123456789abcdef0123456789abcdef"; // 32 bytes
constexpr int kOverhead = 12 + 16;                          // nonce + tag
} // namespace

class TestSecretBox : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data()
    {
        QTest::addColumn<QByteArray>("plaintext");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("one byte") << QByteArray("x");
        QTest::newRow("totp secret") << QByteArray("12345678901234567890");
        QTest::newRow("binary") << QByteArray("\x00\xff\x00\x80", 4);
        QTest::newRow("one block and a bit") << QByteArray(17, 'a');
        QTest::newRow("4 KiB") << QByteArray(4096, '\x5a');
    }

    void roundTrip()
    {
        QFETCH(QByteArray, plaintext);
        const SecretBox box(kKey);
        auto sealed = box.seal(plaintext);
        QVERIFY(sealed);
        QVERIFY(sealed->startsWith("v1."));
        auto raw = crypto::base64UrlDecode(sealed->mid(3));
        QVERIFY(raw);
        QCOMPARE(raw->size(), plaintext.size() + kOverhead);
        if (plaintext.size() >= 8)
            QVERIFY(!sealed->contains(plaintext) && !raw->contains(plaintext));
        auto opened = box.open(*sealed);
        QVERIFY(opened);
        QCOMPARE(*opened, plaintext);
        // Another instance with the same key opens it too: nothing but the key is state.
        QCOMPARE(*SecretBox(kKey).open(*sealed), plaintext);
    }

    void freshNonceEachSeal()
    {
        const SecretBox box(kKey);
        QSet<QByteArray> nonces;
        QSet<QByteArray> sealedValues;
        for (int i = 0; i < 50; ++i) {
            const QByteArray sealed = *box.seal("same plaintext");
            sealedValues.insert(sealed);
            nonces.insert(crypto::base64UrlDecode(sealed.mid(3))->left(12));
            QCOMPARE(*box.open(sealed), QByteArray("same plaintext"));
        }
        QCOMPARE(nonces.size(), 50);
        QCOMPARE(sealedValues.size(), 50);
    }

    void tamperedByteFails()
    {
        // Flipping any single bit of nonce, ciphertext or tag must be detected.
        const SecretBox box(kKey);
        const QByteArray sealed = *box.seal("12345678901234567890");
        const QByteArray raw = *crypto::base64UrlDecode(sealed.mid(3));
        for (int i = 0; i < raw.size(); ++i) {
            for (int bit = 0; bit < 8; ++bit) {
                QByteArray changed = raw;
                changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
                auto opened = box.open("v1." + crypto::base64UrlEncode(changed));
                QVERIFY2(!opened, qPrintable(QStringLiteral("byte %1 bit %2").arg(i).arg(bit)));
                QCOMPARE(opened.error().code, ErrorCode::InvalidRequest);
            }
        }
    }

    void rejected_data()
    {
        QTest::addColumn<QByteArray>("sealed");
        const SecretBox box(kKey);
        QByteArray good, raw;
        do { // a sealing whose standard base64 differs from base64url (no '+' or '/' is ~13% likely)
            good = *box.seal("12345678901234567890");
            raw = *crypto::base64UrlDecode(good.mid(3));
        } while (raw.toBase64() == crypto::base64UrlEncode(raw));
        const QByteArray emptySealed = *box.seal(QByteArray());
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("prefix only") << QByteArray("v1.");
        QTest::newRow("no prefix") << good.mid(3);
        QTest::newRow("wrong version") << "v2." + good.mid(3);
        QTest::newRow("upper-case version") << "V1." + good.mid(3);
        QTest::newRow("truncated by one char") << good.chopped(1);
        QTest::newRow("truncated by one byte") << "v1." + crypto::base64UrlEncode(raw.chopped(1));
        QTest::newRow("tag removed") << "v1." + crypto::base64UrlEncode(raw.chopped(16));
        QTest::newRow("shorter than nonce and tag") << "v1." + crypto::base64UrlEncode(raw.left(27));
        QTest::newRow("empty plaintext truncated") << emptySealed.chopped(2);
        QTest::newRow("byte appended") << "v1." + crypto::base64UrlEncode(raw + 'x');
        QTest::newRow("standard base64") << "v1." + raw.toBase64();
        QTest::newRow("whitespace") << good + ' ';
        QTest::newRow("garbage") << QByteArray("v1.!!!not base64!!!");
        QTest::newRow("binary garbage") << QByteArray("\x00\xff\x01v1.", 6);
        QTest::newRow("zeros") << "v1." + crypto::base64UrlEncode(QByteArray(64, '\0'));
    }

    void rejected()
    {
        QFETCH(QByteArray, sealed);
        auto opened = SecretBox(kKey).open(sealed);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, ErrorCode::InvalidRequest);
    }

    void wrongKeyFails()
    {
        const QByteArray sealed = *SecretBox(kKey).seal("12345678901234567890");
        QByteArray otherKey = kKey;
        otherKey[31] = 'g';
        auto opened = SecretBox(otherKey).open(sealed);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, ErrorCode::InvalidRequest);
        QVERIFY(!SecretBox(crypto::randomBytes(32)).open(sealed));
        // An empty plaintext is authenticated too.
        QVERIFY(!SecretBox(otherKey).open(*SecretBox(kKey).seal(QByteArray())));
    }

    void contextIsBound()
    {
        const SecretBox box(kKey);
        const QByteArray sealed = *box.seal("12345678901234567890", "user-a");
        QCOMPARE(*box.open(sealed, "user-a"), QByteArray("12345678901234567890"));
        QVERIFY(!box.open(sealed, "user-b"));
        QVERIFY(!box.open(sealed));
        QVERIFY(!box.open(*box.seal("12345678901234567890"), "user-a"));
    }

    void badKeySize_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("16 bytes") << QByteArray(16, 'k');
        QTest::newRow("31 bytes") << QByteArray(31, 'k');
        QTest::newRow("33 bytes") << QByteArray(33, 'k');
        QTest::newRow("64 bytes") << QByteArray(64, 'k');
    }

    void badKeySize()
    {
        QFETCH(QByteArray, key);
        const SecretBox box(key);
        auto sealed = box.seal("secret");
        QVERIFY(!sealed);
        QCOMPARE(sealed.error().code, ErrorCode::Internal);
        auto opened = box.open(*SecretBox(kKey).seal("secret"));
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, ErrorCode::Internal);
    }

    void errorsCarryNoSecret()
    {
        const QByteArray secret = "GEZDGNBVGY3TQOJQ";
        const QByteArray sealed = *SecretBox(kKey).seal(secret);
        auto opened = SecretBox(crypto::randomBytes(32)).open(sealed);
        QVERIFY(!opened);
        QVERIFY(!opened.error().message.contains(QString::fromLatin1(secret)));
        QVERIFY(!opened.error().message.contains(QString::fromLatin1(sealed)));
    }

    void previousKeyOnlyOpens()
    {
        // After a key change (the key hierarchy), values sealed under the old key still open,
        // new ones are sealed under the new key only, and a third key opens neither.
        const QByteArray newKey = crypto::randomBytes(32);
        const QByteArray oldSealed = *SecretBox(kKey).seal("old secret", "user-1");
        const SecretBox box(newKey, kKey);
        QCOMPARE(*box.open(oldSealed, "user-1"), QByteArray("old secret"));
        QVERIFY(!box.open(oldSealed, "user-2")); // context still binds
        const QByteArray newSealed = *box.seal("new secret", "user-1");
        QCOMPARE(*SecretBox(newKey).open(newSealed, "user-1"), QByteArray("new secret"));
        QVERIFY(!SecretBox(kKey).open(newSealed, "user-1"));
        QVERIFY(!SecretBox(crypto::randomBytes(32), kKey).open(newSealed, "user-1"));
    }
};

QTEST_GUILESS_MAIN(TestSecretBox)
#include "TestSecretBox.moc"
