// SPDX-License-Identifier: Apache-2.0
// `user import`'s file checks (issue 18, moving users over): the CSV reading (RFC 4180 quoting,
// CRLF, a byte-order mark), the header, and one problem per bad line with its number. The import
// itself, against a real database and server: integration/TestUserImportCli.
#include "auth/PasswordHasher.h"
#include "cli/UserImport.h"

#include <QTest>

using namespace ehrs::server;

namespace {
// bcrypt known-answer vector (John the Ripper's and OpenBSD's test set): "U*U" at cost 5.
const QByteArray kBcryptVector = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
const QByteArray kArgon2 =
    "$argon2id$v=19$m=32768,t=2,p=1$c29tZXNhbHQxNmJ5dGVzWA$OpI6ScDk7B51FyNXvMD50g9uDj8QvKqFw37j5mZhZjw";

QString problemsOf(const ImportPlan& plan)
{
    QStringList out;
    for (const ImportProblem& p : plan.problems)
        out << QStringLiteral("line %1: %2").arg(p.line).arg(p.message);
    return out.join(u'\n');
}
} // namespace

class TestUserImport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bcryptVerifiesAndAsksForARehash()
    {
        PasswordHasher hasher(PasswordHasher::Params{1024, 1, 1});
        QVERIFY(hasher.verify(kBcryptVector, QStringLiteral("U*U")));
        QVERIFY(!hasher.verify(kBcryptVector, QStringLiteral("U*V")));
        QVERIFY(hasher.needsRehash(kBcryptVector));
        QCOMPARE(PasswordHasher::formatOf(kBcryptVector), PasswordHasher::Format::Bcrypt);
        // A truncated or altered bcrypt string is neither accepted by import nor verified.
        QByteArray broken = kBcryptVector;
        broken.chop(1);
        QCOMPARE(PasswordHasher::formatOf(broken), PasswordHasher::Format::Unknown);
        QVERIFY(!hasher.verify(broken, QStringLiteral("U*U")));
        // Our own hashes: current parameters need nothing, older ones a rehash.
        const QByteArray own = hasher.hash(QStringLiteral("a long enough password")).value();
        QCOMPARE(PasswordHasher::formatOf(own), PasswordHasher::Format::Argon2id);
        QVERIFY(!hasher.needsRehash(own));
        QVERIFY(hasher.needsRehash(kArgon2));
        QCOMPARE(PasswordHasher::formatOf("{SSHA}abcdefgh"), PasswordHasher::Format::Unknown);
        QCOMPARE(PasswordHasher::formatOf("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
                 PasswordHasher::Format::Unknown);
    }

    void readsQuotedFieldsCrlfAndAByteOrderMark()
    {
        const QByteArray csv = "\xEF\xBB\xBF"
                               "Email,Name,password_hash,role,groups\r\n"
                               "Nurse@Example.org,\"Smith, Anna \"\"Annie\"\"\"," +
                               kBcryptVector +
                               ",,\"nurses; Ward-3\"\r\n"
                               "\r\n"
                               "admin@example.org,\"Two\nLines\",\"" +
                               kArgon2 + "\",admin,\r\n";
        const ImportPlan plan = parseUserImport(csv);
        QVERIFY2(plan.problems.isEmpty(), qPrintable(problemsOf(plan)));
        QCOMPARE(plan.users.size(), 2);
        const ImportedUser& nurse = plan.users.at(0);
        QCOMPARE(nurse.line, 2);
        QCOMPARE(nurse.email, QStringLiteral("nurse@example.org"));
        QCOMPARE(nurse.name, QStringLiteral("Smith, Anna \"Annie\""));
        QCOMPARE(nurse.passwordHash, kBcryptVector);
        QCOMPARE(nurse.role, QStringLiteral("user"));
        QCOMPARE(nurse.groups, (QStringList{QStringLiteral("nurses"), QStringLiteral("ward-3")}));
        const ImportedUser& admin = plan.users.at(1);
        QCOMPARE(admin.line, 4); // after the blank line 3
        QCOMPARE(admin.name, QStringLiteral("Two\nLines"));
        QCOMPARE(admin.role, QStringLiteral("admin"));
        QVERIFY(admin.groups.isEmpty());
    }

    void namesEveryBadLine()
    {
        const QByteArray csv = "email,name,password_hash,role\n"
                               "ok@example.org,Ok," +
                               kBcryptVector +
                               ",user\n"
                               "ssha@example.org,Ldap,{SSHA}c2VjcmV0c2FsdA==,user\n"
                               "OK@example.org,Again," +
                               kBcryptVector +
                               ",user\n"
                               "boss@example.org,Boss,\"" +
                               kArgon2 +
                               "\",root\n"
                               "short@example.org,Short\n"
                               "not-an-email,X," +
                               kBcryptVector + ",user\n";
        const ImportPlan plan = parseUserImport(csv);
        const QString text = problemsOf(plan);
        QVERIFY2(text.contains(QStringLiteral("line 3: unknown password hash format")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("line 4: ok@example.org is already on line 2")),
                 qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("line 5: role \"root\"")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("line 6: 2 fields where the header has 4")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("line 7: 'not-an-email' is not a valid email address")),
                 qPrintable(text));
        QCOMPARE(plan.problems.size(), 5);
        QVERIFY2(!text.contains(QStringLiteral("c2VjcmV0c2FsdA")), "a problem repeats the hash");
    }

    void refusesABadHeader()
    {
        auto plan = parseUserImport("email,nmae,password_hash\nx@example.org,X," + kBcryptVector + "\n");
        QVERIFY2(problemsOf(plan).contains(QStringLiteral("line 1: unknown column \"nmae\"")),
                 qPrintable(problemsOf(plan)));
        QVERIFY2(problemsOf(plan).contains(QStringLiteral("line 1: the header has no \"name\" column")),
                 qPrintable(problemsOf(plan)));
        QVERIFY(plan.users.isEmpty());
        plan = parseUserImport("");
        QVERIFY2(problemsOf(plan).contains(QStringLiteral("the file is empty")),
                 qPrintable(problemsOf(plan)));
        plan = parseUserImport("email,name,password_hash\n\"x@example.org,X," + kBcryptVector + "\n");
        QVERIFY2(problemsOf(plan).contains(QStringLiteral("line 2: a quoted field is not closed")),
                 qPrintable(problemsOf(plan)));
        plan = parseUserImport("email,name,password_hash\nx@example.org,X," + kArgon2 + "\n");
        QVERIFY2(problemsOf(plan).contains(
                     QStringLiteral("line 2: 5 fields where the header has 3 (an argon2id hash "
                                    "holds commas: put it in double quotes)")),
                 qPrintable(problemsOf(plan)));
        plan = parseUserImport("email,name,password_hash\n");
        QVERIFY2(problemsOf(plan).contains(QStringLiteral("no users")), qPrintable(problemsOf(plan)));
        plan = parseUserImport("email,name,password_hash,groups\nx@example.org,X," + kBcryptVector +
                               ",ward 3!\n");
        QVERIFY2(problemsOf(plan).contains(QStringLiteral("line 2: group \"3!\" is not a valid group name")),
                 qPrintable(problemsOf(plan)));
    }
};

QTEST_GUILESS_MAIN(TestUserImport)
#include "TestUserImport.moc"
