// SPDX-License-Identifier: Apache-2.0
#include "sessions/RelativeTime.h"
#include "sessions/SessionListModel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>
#include <QTimeZone>

using namespace ehrs;
using namespace ehrs::app;

namespace {
class FixedClock final : public Clock
{
public:
    qint64 now = QDateTime(QDate(2026, 11, 28), QTime(12, 0), Qt::UTC).toMSecsSinceEpoch();
    qint64 nowMs() const override { return now; }
};

QDateTime minutesAgo(const FixedClock& c, int minutes)
{
    return QDateTime::fromMSecsSinceEpoch(c.now, Qt::UTC).addSecs(-60 * qint64(minutes));
}

SessionDto session(const QString& id, const QString& type, bool current = false)
{
    SessionDto s;
    s.id = id;
    s.deviceInfo.type = type;
    s.deviceInfo.browser = QStringLiteral("Firefox 120");
    s.deviceInfo.os = QStringLiteral("Debian GNU/Linux 12");
    s.ipAddress = QStringLiteral("192.0.2.7");
    s.location = QStringLiteral("Local network");
    s.isCurrent = current;
    return s;
}

QStringList ids(const SessionListModel& m)
{
    QStringList out;
    for (int r = 0; r < m.rowCount(); ++r)
        out << m.index(r).data(SessionListModel::IdRole).toString();
    return out;
}
} // namespace

class TestSessionListModel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void currentSessionComesFirst();
    void addedRowsAreInserted();
    void removedRowsAreRemoved();
    void changedRowsEmitDataChanged();
    void unchangedReloadEmitsNothing();
    void reorderedRowsAreMoved();
    void rolesDescribeTheDevice_data();
    void rolesDescribeTheDevice();
    void editingRequestsARename();
    void timesRefreshAsTheClockMoves();
    void relativeTime_data();
    void relativeTime();
};

void TestSessionListModel::currentSessionComesFirst()
{
    SessionListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSessions({session(QStringLiteral("a"), QStringLiteral("mobile")),
                       session(QStringLiteral("b"), QStringLiteral("laptop"), true),
                       session(QStringLiteral("c"), QStringLiteral("tablet"))});
    QCOMPARE(ids(model), (QStringList{QStringLiteral("b"), QStringLiteral("a"), QStringLiteral("c")}));
    QVERIFY(model.index(0).data(SessionListModel::IsCurrentRole).toBool());
    QVERIFY(!model.index(1).data(SessionListModel::IsCurrentRole).toBool());
}

void TestSessionListModel::addedRowsAreInserted()
{
    SessionListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("x"), QStringLiteral("mobile"))});
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("new"), QStringLiteral("tablet")),
                       session(QStringLiteral("x"), QStringLiteral("mobile"))});
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 1);
    QCOMPARE(inserted.at(0).at(2).toInt(), 1);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(reset.size(), 0);
    QCOMPARE(ids(model), (QStringList{QStringLiteral("cur"), QStringLiteral("new"), QStringLiteral("x")}));
}

void TestSessionListModel::removedRowsAreRemoved()
{
    SessionListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("a"), QStringLiteral("mobile")),
                       session(QStringLiteral("b"), QStringLiteral("tablet")),
                       session(QStringLiteral("c"), QStringLiteral("laptop"))});
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("b"), QStringLiteral("tablet"))});
    QCOMPARE(removed.size(), 2);
    // Bottom-up: "c" (row 3) first, then "a" (row 1).
    QCOMPARE(removed.at(0).at(1).toInt(), 3);
    QCOMPARE(removed.at(1).at(1).toInt(), 1);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(changed.size(), 0);
    QCOMPARE(ids(model), (QStringList{QStringLiteral("cur"), QStringLiteral("b")}));
}

void TestSessionListModel::changedRowsEmitDataChanged()
{
    SessionListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("a"), QStringLiteral("mobile"))});
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    auto renamed = session(QStringLiteral("a"), QStringLiteral("mobile"));
    renamed.name = QStringLiteral("Ward phone");
    renamed.ipAddress = QStringLiteral("198.51.100.3");
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true), renamed});
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(model.index(1).data(SessionListModel::TitleRole).toString(), QStringLiteral("Ward phone"));
    QCOMPARE(model.index(1).data(SessionListModel::NetworkLineRole).toString(),
             QStringLiteral("198.51.100.3 · Local network"));
}

void TestSessionListModel::unchangedReloadEmitsNothing()
{
    SessionListModel model;
    const std::vector<SessionDto> list{session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                                       session(QStringLiteral("a"), QStringLiteral("mobile"))};
    model.setSessions(list);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy layout(&model, &QAbstractItemModel::layoutChanged);
    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
    model.setSessions(list);
    QCOMPARE(changed.size(), 0);
    QCOMPARE(layout.size(), 0);
    QCOMPARE(moved.size(), 0);
}

void TestSessionListModel::reorderedRowsAreMoved()
{
    SessionListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("a"), QStringLiteral("mobile")),
                       session(QStringLiteral("b"), QStringLiteral("tablet"))});
    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    // "b" was used most recently: the server lists it before "a".
    model.setSessions({session(QStringLiteral("cur"), QStringLiteral("desktop"), true),
                       session(QStringLiteral("b"), QStringLiteral("tablet")),
                       session(QStringLiteral("a"), QStringLiteral("mobile"))});
    QCOMPARE(moved.size(), 1);
    QCOMPARE(inserted.size(), 0);
    QCOMPARE(removed.size(), 0);
    QCOMPARE(ids(model), (QStringList{QStringLiteral("cur"), QStringLiteral("b"), QStringLiteral("a")}));
}

void TestSessionListModel::rolesDescribeTheDevice_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("deviceName");
    QTest::addColumn<QString>("customName");
    QTest::addColumn<QString>("expectedType");
    QTest::addColumn<QString>("expectedTitle");
    QTest::addColumn<QString>("expectedDeviceLine");
    QTest::newRow("browser and os") << "laptop"
                                    << ""
                                    << ""
                                    << "laptop"
                                    << "Firefox 120 on Debian GNU/Linux 12"
                                    << "Laptop";
    QTest::newRow("device name") << "mobile"
                                 << "iPhone"
                                 << ""
                                 << "mobile"
                                 << "iPhone"
                                 << "Firefox 120 · Debian GNU/Linux 12";
    QTest::newRow("user's name wins") << "tablet"
                                      << "iPad"
                                      << "Ward 3 tablet"
                                      << "tablet"
                                      << "Ward 3 tablet"
                                      << "iPad · Firefox 120 · Debian GNU/Linux 12";
    QTest::newRow("unknown type") << "toaster"
                                  << ""
                                  << ""
                                  << "unknown"
                                  << "Firefox 120 on Debian GNU/Linux 12"
                                  << "Unknown kind of device";
}

void TestSessionListModel::rolesDescribeTheDevice()
{
    QFETCH(QString, type);
    QFETCH(QString, deviceName);
    QFETCH(QString, customName);
    QFETCH(QString, expectedType);
    QFETCH(QString, expectedTitle);
    QFETCH(QString, expectedDeviceLine);
    FixedClock clock;
    SessionListModel model(&clock);
    auto s = session(QStringLiteral("a"), type);
    s.deviceInfo.name = deviceName;
    s.name = customName;
    s.createdAt = minutesAgo(clock, 3 * 24 * 60 + 5);
    s.lastActivityAt = minutesAgo(clock, 5);
    model.setSessions({s});
    const QModelIndex i = model.index(0);
    QCOMPARE(i.data(SessionListModel::DeviceTypeRole).toString(), expectedType);
    QCOMPARE(i.data(SessionListModel::TitleRole).toString(), expectedTitle);
    QCOMPARE(i.data(SessionListModel::DeviceLineRole).toString(), expectedDeviceLine);
    QCOMPARE(i.data(SessionListModel::TimeLineRole).toString(),
             QStringLiteral("Signed in 3 days ago · active 5 minutes ago"));
    QVERIFY(i.data(Qt::AccessibleTextRole).toString().contains(expectedTitle));
}

void TestSessionListModel::editingRequestsARename()
{
    SessionListModel model;
    model.setSessions({session(QStringLiteral("a"), QStringLiteral("mobile"))});
    QSignalSpy rename(&model, &SessionListModel::renameRequested);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QVERIFY(model.setData(model.index(0), QStringLiteral("  My phone  ")));
    QCOMPARE(rename.size(), 1);
    QCOMPARE(rename.at(0).at(0).toString(), QStringLiteral("a"));
    QCOMPARE(rename.at(0).at(1).toString(), QStringLiteral("My phone"));
    QCOMPARE(changed.size(), 1);
    QVERIFY(!model.setData(model.index(0), QStringLiteral("My phone"))); // no change, no request
    QCOMPARE(rename.size(), 1);
}

void TestSessionListModel::timesRefreshAsTheClockMoves()
{
    FixedClock clock;
    SessionListModel model(&clock);
    auto s = session(QStringLiteral("a"), QStringLiteral("mobile"));
    s.createdAt = minutesAgo(clock, 10);
    s.lastActivityAt = minutesAgo(clock, 1);
    model.setSessions({s});
    QCOMPARE(model.index(0).data(SessionListModel::TimeLineRole).toString(),
             QStringLiteral("Signed in 10 minutes ago · active 1 minute ago"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    clock.now += 60 * 60 * 1000;
    model.refreshTimes();
    QCOMPARE(changed.size(), 1);
    QVERIFY(changed.at(0).at(2).value<QList<int>>().contains(SessionListModel::TimeLineRole));
    QCOMPARE(model.index(0).data(SessionListModel::TimeLineRole).toString(),
             QStringLiteral("Signed in 1 hour ago · active 1 hour ago"));
}

void TestSessionListModel::relativeTime_data()
{
    QTest::addColumn<qint64>("secondsAgo");
    QTest::addColumn<QString>("expected");
    QTest::newRow("future (skew)") << qint64(-30) << "just now";
    QTest::newRow("seconds") << qint64(59) << "just now";
    QTest::newRow("a minute") << qint64(60) << "1 minute ago";
    QTest::newRow("minutes") << qint64(5 * 60 + 10) << "5 minutes ago";
    QTest::newRow("hours") << qint64(3 * 3600) << "3 hours ago";
    QTest::newRow("yesterday") << qint64(86400 + 5) << "yesterday";
    QTest::newRow("days") << qint64(3 * 86400) << "3 days ago";
    QTest::newRow("months") << qint64(65 * 86400) << "2 months ago";
    QTest::newRow("years") << qint64(800 * 86400) << "2 years ago";
}

void TestSessionListModel::relativeTime()
{
    QFETCH(qint64, secondsAgo);
    QFETCH(QString, expected);
    const QDateTime now(QDate(2026, 11, 28), QTime(12, 0), Qt::UTC);
    QCOMPARE(ehrs::app::relativeTime(now.addSecs(-secondsAgo), now), expected);
}

QTEST_GUILESS_MAIN(TestSessionListModel)
#include "TestSessionListModel.moc"
