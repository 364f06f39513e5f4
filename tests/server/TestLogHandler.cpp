// SPDX-License-Identifier: Apache-2.0
// The log formats' field mapping: journald entries (journalFields()), the structured fields of
// audit lines, and when the journal is chosen. The real journal write is TestJournalLogging.
#include "ApiClient.h"
#include "LogHandler.h"
#include "ServerProcess.h"
#include "audit/AuditLog.h"

#include <QFile>
#include <QTest>
#include <sys/stat.h>
#include <unistd.h>

using namespace ehrs::server;
using namespace ehrs::test;

Q_DECLARE_METATYPE(ehrs::server::LogFieldList)

namespace {
const QByteArray kPassword = "a long enough password";

// What the message handler saw during AuditLog::announce(): its fields and request id.
LogFieldList g_seenFields;
QByteArray g_seenRequestId;
QString g_seenMessage;

void capture(QtMsgType, const QMessageLogContext&, const QString& message)
{
    g_seenFields = LogFields::current();
    g_seenRequestId = RequestScope::current();
    g_seenMessage = message;
}

QByteArray stderrStream()
{
    struct stat st
    {
    };
    if (fstat(STDERR_FILENO, &st) != 0)
        return {};
    return QByteArray::number(qulonglong(st.st_dev)) + ':' + QByteArray::number(qulonglong(st.st_ino));
}
} // namespace

class TestLogHandler : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void journalFields_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<QByteArray>("requestId");
        QTest::addColumn<LogFieldList>("fields");
        QTest::addColumn<QList<QByteArray>>("expected");
        const QList<QByteArray> common{"SYSLOG_IDENTIFIER=ehr-sessions-server",
                                       "EHRS_CATEGORY=ehrs.server.audit"};
        QTest::newRow("audit line") << int(QtInfoMsg) << QByteArray("req-1")
                                    << LogFieldList{{"EVENT", "login_success"},
                                                    {"USER_ID", "u-1"},
                                                    {"SESSION_ID", "s-1"}}
                                    << (QList<QByteArray>{"MESSAGE=m", "PRIORITY=6"} + common +
                                        QList<QByteArray>{"REQUEST_ID=req-1", "EVENT=login_success",
                                                          "USER_ID=u-1", "SESSION_ID=s-1"});
        QTest::newRow("no request, empty fields left out")
            << int(QtWarningMsg) << QByteArray() << LogFieldList{{"EVENT", "cleanup"}, {"USER_ID", ""}}
            << (QList<QByteArray>{"MESSAGE=m", "PRIORITY=4"} + common + QList<QByteArray>{"EVENT=cleanup"});
        QTest::newRow("critical") << int(QtCriticalMsg) << QByteArray() << LogFieldList{}
                                  << (QList<QByteArray>{"MESSAGE=m", "PRIORITY=3"} + common);
        QTest::newRow("debug") << int(QtDebugMsg) << QByteArray() << LogFieldList{}
                               << (QList<QByteArray>{"MESSAGE=m", "PRIORITY=7"} + common);
    }

    void journalFields()
    {
        QFETCH(int, type);
        QFETCH(QByteArray, requestId);
        QFETCH(LogFieldList, fields);
        QFETCH(QList<QByteArray>, expected);
        const auto out = ehrs::server::journalFields(QtMsgType(type), "ehrs.server.audit",
                                                     QStringLiteral("m"), requestId, fields);
        QCOMPARE(QList<QByteArray>(out.begin(), out.end()), expected);
    }

    void multiLineMessageStaysOneField()
    {
        const auto out =
            ehrs::server::journalFields(QtInfoMsg, nullptr, QStringLiteral("a\nb \u00e9"), {}, {});
        QCOMPARE(out.front(), QByteArray("MESSAGE=a\nb \xc3\xa9"));
        QCOMPARE(out.at(3), QByteArray("EHRS_CATEGORY=default"));
    }

    // LOG_FORMAT=journal where no journald listens (a container, CI): the lines go to stderr.
    void fallsBackToStderrWithoutJournal()
    {
        if (QFile::exists(QStringLiteral("/run/systemd/journal/socket")))
            QSKIP("a journal socket exists here: the fallback cannot be observed");
        ServerProcess server;
        server.setEnv(QStringLiteral("LOG_FORMAT"), QStringLiteral("journal"));
        QVERIFY(server.start());
        QVERIFY(server.addUser(QStringLiteral("fallback@example.org"), QString::fromLatin1(kPassword)));
        QCOMPARE(ApiClient(server.url())
                     .request("POST", "/api/auth/login",
                              {{"email", "fallback@example.org"}, {"password", "wrong!"}})
                     .status,
                 401);
        QTRY_VERIFY2(server.log().contains("audit login_failure"), server.log().constData());
        server.stop();
    }

    void auditLinesCarryTheirFields()
    {
        const QtMessageHandler previous = qInstallMessageHandler(capture);
        {
            const RequestScope scope("req-42");
            AuditLog::announce(QStringLiteral("refresh_reuse_detected"),
                               AuditActor{QStringLiteral("user-7"), QStringLiteral("session-9"),
                                          QStringLiteral("192.0.2.1"), QStringLiteral("agent")});
        }
        qInstallMessageHandler(previous);
        QCOMPARE(g_seenRequestId, QByteArray("req-42"));
        QCOMPARE(g_seenFields, (LogFieldList{{"EVENT", "refresh_reuse_detected"},
                                             {"USER_ID", "user-7"},
                                             {"SESSION_ID", "session-9"},
                                             {"CLIENT_IP", "192.0.2.1"}}));
        QVERIFY(g_seenMessage.contains(u"refresh_reuse_detected"));
        // The scope ends with the line: later lines of the thread carry no audit fields.
        QVERIFY(LogFields::current().empty());
    }

    void journalChosenUnderSystemd()
    {
        const QByteArray saved = qgetenv("JOURNAL_STREAM");
        const QByteArray mine = stderrStream();
        QVERIFY(!mine.isEmpty());
        qputenv("JOURNAL_STREAM", mine);
        QVERIFY(stderrIsJournal());
        QCOMPARE(chooseLogOutput(QStringLiteral("auto")), LogOutput::Journal);
        QCOMPARE(chooseLogOutput(QStringLiteral("json")), LogOutput::Json); // explicit wins
        QCOMPARE(chooseLogOutput(QStringLiteral("text")), LogOutput::Text);
        // Inherited from a parent whose stderr went to the journal: ours does not.
        qputenv("JOURNAL_STREAM", "1:1");
        QVERIFY(!stderrIsJournal());
        QCOMPARE(chooseLogOutput(QStringLiteral("auto")), LogOutput::Text);
        qunsetenv("JOURNAL_STREAM");
        QVERIFY(!stderrIsJournal());
        QCOMPARE(chooseLogOutput(QStringLiteral("journal")), LogOutput::Journal);
        if (!saved.isNull())
            qputenv("JOURNAL_STREAM", saved);
    }
};

QTEST_GUILESS_MAIN(TestLogHandler)
#include "TestLogHandler.moc"
