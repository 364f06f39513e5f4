// SPDX-License-Identifier: Apache-2.0
#include "Crypto.h"
#include "keys/KeyHierarchy.h"

#include <QSet>
#include <QTest>

using namespace ehrs;
using namespace ehrs::server;

namespace {
const QByteArray kRoot = "root-secret-root-secret-root-secret-0123456789";

QList<QByteArray> all(const KeyHierarchy& k)
{
    return {k.accessTokenHs256, k.accessTokenIds, k.refreshRetry,
            k.totpEncryption,   k.backupCodes,    k.mfaChallenge};
}
} // namespace

class TestKeyHierarchy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hkdfMatchesRfc5869_data()
    {
        QTest::addColumn<QByteArray>("ikm");
        QTest::addColumn<QByteArray>("salt");
        QTest::addColumn<QByteArray>("info");
        QTest::addColumn<int>("length");
        QTest::addColumn<QByteArray>("okm");
        // RFC 5869, appendix A, test cases 1 and 3 (SHA-256).
        QTest::newRow("A.1") << QByteArray(22, '\x0b') << QByteArray::fromHex("000102030405060708090a0b0c")
                             << QByteArray::fromHex("f0f1f2f3f4f5f6f7f8f9") << 42
                             << QByteArray::fromHex(
                                    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                                    "34007208d5b887185865");
        QTest::newRow("A.3") << QByteArray(22, '\x0b') << QByteArray() << QByteArray() << 42
                             << QByteArray::fromHex(
                                    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                                    "9d201395faa4b61a96c8");
    }

    void hkdfMatchesRfc5869()
    {
        QFETCH(QByteArray, ikm);
        QFETCH(QByteArray, salt);
        QFETCH(QByteArray, info);
        QFETCH(int, length);
        QFETCH(QByteArray, okm);
        auto out = KeyHierarchy::hkdfSha256(ikm, salt, info, length);
        QVERIFY(out);
        QCOMPARE(out->toHex(), okm.toHex());
    }

    void hkdfRejectsBadArguments()
    {
        QVERIFY(!KeyHierarchy::hkdfSha256({}, "salt", "info", 32));
        QVERIFY(!KeyHierarchy::hkdfSha256(kRoot, "salt", "info", 0));
        QVERIFY(!KeyHierarchy::hkdfSha256(kRoot, "salt", "info", 255 * 32 + 1));
    }

    void oneDistinctKeyPerPurpose()
    {
        const KeyHierarchy k = KeyHierarchy::fromRoot(kRoot);
        QSet<QByteArray> seen;
        for (const QByteArray& key : all(k)) {
            QCOMPARE(key.size(), 32);
            QVERIFY(!seen.contains(key));
            seen.insert(key);
            // None is the root, or the pre-hierarchy derivation (an HMAC of the root).
            QVERIFY(!kRoot.contains(key));
            QVERIFY(key != crypto::hmacSha256(kRoot, "ehrs-token-derivation-v1"));
        }
        QCOMPARE(KeyHierarchy::derive(kRoot, "a"), KeyHierarchy::derive(kRoot, "a"));
        QVERIFY(KeyHierarchy::derive(kRoot, "a") != KeyHierarchy::derive(kRoot, "b"));
    }

    void deterministicPerRoot()
    {
        // Every instance that shares the root derives the same keys; another root shares none.
        const QList<QByteArray> a = all(KeyHierarchy::fromRoot(kRoot));
        QCOMPARE(all(KeyHierarchy::fromRoot(QByteArray(kRoot))), a);
        const QList<QByteArray> b = all(KeyHierarchy::fromRoot(kRoot + "x"));
        for (qsizetype i = 0; i < a.size(); ++i) {
            QVERIFY(a[i] != b[i]);
            QVERIFY(!b.contains(a[i]));
        }
    }
};

QTEST_GUILESS_MAIN(TestKeyHierarchy)
#include "TestKeyHierarchy.moc"
