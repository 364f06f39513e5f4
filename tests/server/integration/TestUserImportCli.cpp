// SPDX-License-Identifier: Apache-2.0
// Issue 18, point 4 (moving users over), against a real server process on PostgreSQL and on the
// embedded SQLite default: `ehr-sessions-server user import FILE` takes the replaced system's
// bcrypt hashes (here made by Apache's htpasswd, an implementation of its own, and a published
// known-answer vector) and our own argon2id; imported users sign in with their old password,
// after which their stored hash is argon2id with our parameters. A file with bad lines names
// every one of them and changes nothing; --dry-run writes nothing; the import is all or nothing.
#include "ApiClient.h"
#include "ServerProcess.h"
#include "TestEnvironment.h"
#include "db/Database.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryFile>
#include <QTest>

using namespace ehrs::test;

namespace {
const QByteArray kNursePassword = "correct horse battery staple";
// bcrypt known-answer vector (John the Ripper's and OpenBSD's test set): "U*U" at cost 5.
const QByteArray kVector = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
// `echo -n 'pw' | argon2 somesalt16bytesX -id -t 2 -m 15 -p 1 -e`: older parameters than ours.
const QByteArray kArgon2Pw =
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQxNmJ5dGVzWA$OpI6ScDk7B51FyNXvMD50g9uDj8QvKqFw37j5mZhZjw";

int loginStatus(ServerProcess& server, const QString& email, const QByteArray& password)
{
    return ApiClient(server.url())
        .request("POST", "/api/auth/login",
                 {{"email", email.toStdString()}, {"password", password.toStdString()}})
        .status;
}

QString writeFile(QTemporaryDir& dir, const char* name, const QByteArray& text)
{
    const QString path = dir.filePath(QString::fromLatin1(name));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(text);
    return path;
}
} // namespace

class TestUserImportCli : public QObject
{
    Q_OBJECT

    /// column of the users row of `email`, read from the server's database.
    QString userColumn(ServerProcess& server, const char* column, const QString& email)
    {
        auto db = ehrs::server::Database::open(server.databaseUrl());
        if (!db)
            return QStringLiteral("<no database: %1>").arg(db.error().message);
        auto q = (*db)->exec(
            QStringLiteral("SELECT %1 FROM users WHERE email = ?").arg(QLatin1String(column)), {email});
        if (!q || !(*q)->next())
            return QStringLiteral("<no user>");
        const QString v = (*q)->value(0).toString();
        (*q)->finish();
        return v;
    }

    int userCount(ServerProcess& server)
    {
        auto db = ehrs::server::Database::open(server.databaseUrl());
        if (!db)
            return -1;
        auto q = (*db)->exec(QStringLiteral("SELECT COUNT(*) FROM users"));
        if (!q || !(*q)->next())
            return -1;
        const int n = (*q)->value(0).toInt();
        (*q)->finish();
        return n;
    }

private Q_SLOTS:
    void initTestCase() { EHRS_REQUIRE_BACKEND_UNDER_TEST(); }

    void importedUsersSignInWithTheirOldPasswords()
    {
        const QString htpasswd = QStandardPaths::findExecutable(QStringLiteral("htpasswd"));
        if (htpasswd.isEmpty())
            QSKIP("htpasswd (Debian apache2-utils, installed by the test command) is needed to make bcrypt "
                  "hashes");
        QProcess p;
        p.start(htpasswd, {QStringLiteral("-nbBC"), QStringLiteral("5"), QStringLiteral("nurse"),
                           QString::fromLatin1(kNursePassword)});
        QVERIFY(p.waitForFinished(20000));
        const QByteArray line = p.readAllStandardOutput().trimmed();
        const QByteArray nurseHash = line.mid(line.indexOf(':') + 1);
        QVERIFY2(nurseHash.startsWith("$2y$05$"), nurseHash.constData());

        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        QVERIFY(
            server.addUser(QStringLiteral("existing@example.org"), QStringLiteral("an existing password")));
        QTemporaryDir dir;
        const QString file = writeFile(dir, "users.csv",
                                       "email,name,password_hash,role,groups\r\n"
                                       "Nurse.Joy@Example.org,\"Joy, Nurse\"," +
                                           nurseHash +
                                           ",user,\"nurses;ward-3\"\r\n"
                                           "vector@example.org,Vector," +
                                           kVector +
                                           ",,\r\n"
                                           "it.admin@example.org,IT,\"" +
                                           kArgon2Pw + "\",admin,admins\r\n");

        // A dry run checks and counts, and writes nothing.
        QByteArray out;
        QCOMPARE(
            server.run({QStringLiteral("user"), QStringLiteral("import"), file, QStringLiteral("--dry-run")},
                       {}, &out),
            0);
        QVERIFY2(out.contains("dry run: 3 user(s): 2 with bcrypt hashes, 1 with argon2id would be imported"),
                 out.constData());
        QCOMPARE(userCount(server), 1);

        QCOMPARE(server.run({QStringLiteral("user"), QStringLiteral("import"), file}, {}, &out), 0);
        QVERIFY2(out.contains("imported 3 user(s)"), out.constData());
        QVERIFY2(!out.contains(nurseHash) && !out.contains(kVector), "the output shows a hash");
        QCOMPARE(userCount(server), 4);
        QCOMPARE(userColumn(server, "user_groups", QStringLiteral("nurse.joy@example.org")),
                 QStringLiteral("nurses,ward-3"));
        QCOMPARE(userColumn(server, "role", QStringLiteral("it.admin@example.org")), QStringLiteral("admin"));
        QCOMPARE(userColumn(server, "name", QStringLiteral("nurse.joy@example.org")),
                 QStringLiteral("Joy, Nurse"));

        QVERIFY(server.start());
        // A wrong password is refused and leaves the old hash alone.
        QCOMPARE(loginStatus(server, QStringLiteral("nurse.joy@example.org"), "not the password at all"),
                 401);
        QCOMPARE(userColumn(server, "password_hash", QStringLiteral("nurse.joy@example.org")),
                 QString::fromLatin1(nurseHash));
        // The old passwords sign in, and the stored hashes become argon2id with our parameters.
        QCOMPARE(loginStatus(server, QStringLiteral("Nurse.Joy@example.org"), kNursePassword), 200);
        QCOMPARE(loginStatus(server, QStringLiteral("vector@example.org"), "U*U"), 200);
        QCOMPARE(loginStatus(server, QStringLiteral("it.admin@example.org"), "pw"), 200);
        for (const char* email : {"nurse.joy@example.org", "vector@example.org", "it.admin@example.org"}) {
            const QString hash = userColumn(server, "password_hash", QString::fromLatin1(email));
            QVERIFY2(hash.startsWith(QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$")),
                     qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(email), hash.left(40))));
        }
        // ... and keep working with the new hash.
        QCOMPARE(loginStatus(server, QStringLiteral("nurse.joy@example.org"), kNursePassword), 200);
        QCOMPARE(loginStatus(server, QStringLiteral("vector@example.org"), "U*V"), 401);

        // The same file again: every user exists now, so nothing at all is written.
        QCOMPARE(server.run({QStringLiteral("user"), QStringLiteral("import"), file}, {}, &out), 1);
        QVERIFY2(out.contains("line 2: a user nurse.joy@example.org already exists") &&
                     out.contains("nothing was imported"),
                 out.constData());
        QCOMPARE(userCount(server), 4);
    }

    void addingAnExistingUserSaysSo()
    {
        // Qt's SQLite driver reports a constraint violation as a "connection error": it used to
        // come out as "Database unavailable, try again shortly" on the embedded default.
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        QVERIFY(server.addUser(QStringLiteral("twice@example.org"), QStringLiteral("a long enough password")));
        QByteArray out;
        QCOMPARE(server.run({QStringLiteral("user"), QStringLiteral("add"), QStringLiteral("Twice@example.org"),
                             QStringLiteral("--password-stdin")},
                            "a long enough password\n", &out),
                 1);
        QVERIFY2(out.contains("a user with this email already exists"), out.constData());
    }

    void aBrokenFileChangesNothing()
    {
        ServerProcess server;
        QVERIFY(server.useBackendUnderTest());
        QTemporaryDir dir;
        const QString file = writeFile(dir, "broken.csv",
                                       "email,name,password_hash,role\n"
                                       "good@example.org,Good," +
                                           kVector +
                                           ",user\n"
                                           "ldap@example.org,Ldap,{SSHA}c2VjcmV0c2FsdA==,user\n"
                                           "good2@example.org,Good Too," +
                                           kVector + ",superuser\n");
        QByteArray out;
        QCOMPARE(server.run({QStringLiteral("user"), QStringLiteral("import"), file}, {}, &out), 1);
        QVERIFY2(out.contains("line 3: unknown password hash format"), out.constData());
        QVERIFY2(out.contains("line 4: role \"superuser\" is neither user nor admin"), out.constData());
        QVERIFY2(out.contains("nothing was imported (2 problem(s))"), out.constData());
        QVERIFY2(!out.contains("c2VjcmV0c2FsdA"), "the output shows a hash");
        QCOMPARE(userCount(server), 0);

        QCOMPARE(server.run({QStringLiteral("user"), QStringLiteral("import"),
                             dir.filePath(QStringLiteral("none.csv"))},
                            {}, &out),
                 1);
        QVERIFY2(out.contains("cannot read"), out.constData());

        QVERIFY(server.start());
        QCOMPARE(loginStatus(server, QStringLiteral("good@example.org"), "U*U"), 401);
    }
};

QTEST_GUILESS_MAIN(TestUserImportCli)
#include "TestUserImportCli.moc"
