// SPDX-License-Identifier: Apache-2.0
// Against the real Secret Service (gnome-keyring under dbus-run-session, as scripts/test.sh sets
// up). Skips when there is no keychain, unless EHRS_REQUIRE_SERVICES=1 (CI), where it fails.
#include "core/Await.h"
#include "storage/KeychainTokenStore.h"

#include <QTest>
#include <QUuid>

using namespace ehrs;
using namespace ehrs::agent;
using namespace Qt::StringLiterals;

class TestKeychainTokenStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void roundTrip_data();
    void roundTrip();
    void rotationOverwrites();
    void removeDeletesEntryAndPointer();
    void removeOfAbsentSucceeds();
    void unreadableEntryIsIgnored();

private:
    StoredAccount account(const QString& email = QStringLiteral("nurse@example.org")) const;
    QString m_service;
};

void TestKeychainTokenStore::initTestCase()
{
    // A private service name per run: never touches a developer's real "ehr-sessions" entries.
    m_service = QStringLiteral("ehr-sessions-test-") + QUuid::createUuid().toString(QUuid::Id128).left(12);
    KeychainTokenStore store(m_service);
    auto probe = await(store.load());
    if (!probe && probe.error().code == ErrorCode::Unavailable) {
        if (qEnvironmentVariable("EHRS_REQUIRE_SERVICES") == u"1")
            QFAIL(qPrintable(u"no keychain in CI: "_s + probe.error().message));
        QSKIP(qPrintable(u"no keychain: "_s + probe.error().message));
    }
    QVERIFY2(probe, qPrintable(probe ? QString() : probe.error().message));
    QVERIFY(!*probe);
}

StoredAccount TestKeychainTokenStore::account(const QString& email) const
{
    return StoredAccount{QStringLiteral("https://sessions.example.org"), QStringLiteral("user-1"), email,
                         QStringLiteral("session-1"), QStringLiteral("refresh-AAAA")};
}

void TestKeychainTokenStore::roundTrip_data()
{
    QTest::addColumn<QString>("email");
    QTest::addColumn<QString>("refreshToken");
    QTest::newRow("plain") << u"nurse@example.org"_s << u"abc"_s;
    QTest::newRow("unicode") << u"lægen@sykehus.no"_s << u"ø-token"_s;
    QTest::newRow("long token") << u"x@y.z"_s << QString(64, u'Q');
}

void TestKeychainTokenStore::roundTrip()
{
    QFETCH(QString, email);
    QFETCH(QString, refreshToken);
    KeychainTokenStore store(m_service);
    StoredAccount a = account(email);
    a.refreshToken = refreshToken;
    QVERIFY(await(store.save(a)));
    KeychainTokenStore other(m_service); // a new process would see the same
    auto loaded = await(other.load());
    QVERIFY(loaded);
    QVERIFY(*loaded);
    QCOMPARE(**loaded, a);
    auto raw = await(other.readEntry(a.storageKey()));
    QVERIFY(raw && *raw);
    QVERIFY((*raw)->contains(u"\"refreshToken\""_s));
    QVERIFY(await(store.remove(a)));
}

void TestKeychainTokenStore::rotationOverwrites()
{
    KeychainTokenStore store(m_service);
    StoredAccount a = account();
    QVERIFY(await(store.save(a)));
    a.refreshToken = QStringLiteral("refresh-BBBB");
    QVERIFY(await(store.save(a)));
    auto loaded = await(store.load());
    QVERIFY(loaded && *loaded);
    QCOMPARE((*loaded)->refreshToken, QStringLiteral("refresh-BBBB"));
    QVERIFY(await(store.remove(a)));
}

void TestKeychainTokenStore::removeDeletesEntryAndPointer()
{
    KeychainTokenStore store(m_service);
    const StoredAccount a = account();
    QVERIFY(await(store.save(a)));
    QVERIFY(await(store.remove(a)));
    auto entry = await(store.readEntry(a.storageKey()));
    QVERIFY(entry);
    QVERIFY(!*entry);
    auto pointer = await(store.readEntry(KeychainTokenStore::currentAccountKey()));
    QVERIFY(pointer);
    QVERIFY(!*pointer);
    auto loaded = await(store.load());
    QVERIFY(loaded);
    QVERIFY(!*loaded);
}

void TestKeychainTokenStore::removeOfAbsentSucceeds()
{
    KeychainTokenStore store(m_service);
    QVERIFY(await(store.remove(account(QStringLiteral("nobody@example.org")))));
}

void TestKeychainTokenStore::unreadableEntryIsIgnored()
{
    KeychainTokenStore store(m_service);
    const StoredAccount a = account();
    QVERIFY(await(store.writeEntry(a.storageKey(), QStringLiteral("not json"))));
    QVERIFY(await(store.writeEntry(KeychainTokenStore::currentAccountKey(), a.storageKey())));
    auto loaded = await(store.load());
    QVERIFY(loaded);
    QVERIFY(!*loaded); // signed out rather than crashing on start-up
    QVERIFY(await(store.remove(a)));
}

QTEST_GUILESS_MAIN(TestKeychainTokenStore)
#include "TestKeychainTokenStore.moc"
