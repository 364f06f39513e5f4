// SPDX-License-Identifier: Apache-2.0
// Migrations that convert data, on the back end under test: 0006 copies each session's device out
// of the device_info JSON into columns (malformed or foreign JSON reads as an unknown device), and
// sessions written afterwards fill both.
#include "ServerProcess.h"
#include "TestEnvironment.h"
#include "db/Migrator.h"
#include "sessions/SessionStore.h"

#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace ehrs;
using namespace ehrs::server;
using namespace ehrs::test;

class TestMigrations : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QString freshDatabase()
    {
        if (ServerProcess::onPostgres())
            return createPostgresDatabase();
        return QStringLiteral("sqlite://") + m_dir.filePath(QUuid::createUuid().toString(QUuid::Id128) + QStringLiteral(".db"));
    }

private Q_SLOTS:
    void initTestCase() { EHRS_REQUIRE_BACKEND_UNDER_TEST(); }

    void deviceColumnsAreFilledFromTheJson()
    {
        auto db = Database::open(freshDatabase());
        QVERIFY(db);
        Migrator migrator(**db);
        QVERIFY(migrator.migrate(5));
        QCOMPARE(*migrator.currentVersion(), 5);
        const QString userId = QUuid::createUuid().toString(QUuid::WithoutBraces);
        QVERIFY((*db)->execute(QStringLiteral("INSERT INTO users (id, email, name, password_hash, role, created_at, "
                                              "updated_at) VALUES (?, 'm@example.org', 'M', 'x', 'user', 0, 0)"),
                               {userId}));
        const QStringList ids{QUuid::createUuid().toString(QUuid::WithoutBraces),
                              QUuid::createUuid().toString(QUuid::WithoutBraces),
                              QUuid::createUuid().toString(QUuid::WithoutBraces)};
        const QStringList devices{
            QStringLiteral(R"({"type":"mobile","name":"Pixel 7","os":"Android 14","browser":"Chrome 120"})"),
            QStringLiteral(R"(["not", "an", "object"])"), QStringLiteral(R"({"type":"toaster","name":"T"})")};
        for (int i = 0; i < 3; ++i) {
            QVERIFY((*db)->execute(
                QStringLiteral("INSERT INTO user_sessions (id, user_id, access_token_hash, refresh_token_hash, "
                               "rotated_at, expires_at, created_at, last_activity_at, device_info) "
                               "VALUES (?, ?, ?, ?, 0, 9000000000000, 0, 0, ?)"),
                {ids[i], userId, QStringLiteral("a%1").arg(i), QStringLiteral("r%1").arg(i), devices[i]}));
        }
        auto applied = migrator.migrate();
        QVERIFY(applied);
        QVERIFY(applied->contains(6));
        SessionStore store(**db);
        auto pixel = store.find(ids[0]);
        QVERIFY(pixel && *pixel);
        QCOMPARE((**pixel).device, (DeviceInfo{QStringLiteral("mobile"), QStringLiteral("Pixel 7"),
                                              QStringLiteral("Android 14"), QStringLiteral("Chrome 120")}));
        auto array = store.find(ids[1]);
        QVERIFY(array && *array);
        QCOMPARE((**array).device, DeviceInfo{});
        auto toaster = store.find(ids[2]);
        QVERIFY(toaster && *toaster);
        QCOMPARE((**toaster).device.type, QStringLiteral("unknown")); // not a type the list knows
        QCOMPARE((**toaster).device.name, QStringLiteral("T"));

        // Written after the migration: both the columns and the JSON.
        SessionRecord s;
        s.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        s.userId = userId;
        s.accessHash = "a9";
        s.refreshHash = "r9";
        s.expiresAt = 9'000'000'000'000;
        s.device = DeviceInfo{QStringLiteral("laptop"), QStringLiteral("ward-pc-12"), QStringLiteral("Debian GNU/Linux 12"),
                              QStringLiteral("EHR Sessions Agent 0.1.0")};
        QVERIFY(store.insert(s));
        auto back = store.find(s.id);
        QVERIFY(back && *back);
        QCOMPARE((**back).device, s.device);
        auto json = (*db)->exec(QStringLiteral("SELECT device_info FROM user_sessions WHERE id = ?"), {s.id});
        QVERIFY(json && (*json)->next());
        QVERIFY((*json)->value(0).toString().contains(QStringLiteral("ward-pc-12")));
        (*json)->finish();
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "TestMigrations.moc"
