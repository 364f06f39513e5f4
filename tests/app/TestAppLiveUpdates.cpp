// SPDX-License-Identifier: Apache-2.0
// The Active Sessions page keeps itself current and says what is wrong, against a real server and
// agent: the error state when the server is down and recovery with "Try again"; reloads on the
// agent's events, on window focus and every 30 s with no user action; and the app starts the agent
// when none is running.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "AppUnderTest.h"
#include "PrometheusText.h"
#include "ServerProcess.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "sessions/SessionDelegate.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "shell/MainWindow.h"
#include "shell/PasswordDialog.h"
#include "signin/SignInPage.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QLocalSocket>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>
#include <csignal>
#include <sys/socket.h>

using namespace ehrs;
using namespace ehrs::app;
using ehrs::agent::test::AgentProcess;
using ehrs::app::test::AppUnderTest;
using ehrs::test::ApiClient;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("correct horse battery staple");

/// The pid of the process serving a local socket (SO_PEERCRED), or 0.
pid_t socketOwner(const QString& path)
{
    QLocalSocket socket;
    socket.connectToServer(path);
    if (!socket.waitForConnected(2000))
        return 0;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(int(socket.socketDescriptor()), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return 0;
    return cred.pid;
}

bool processExists(pid_t pid)
{
    return pid > 0 && ::kill(pid, 0) == 0;
}
} // namespace

class TestAppLiveUpdates : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void errorStateThenRecoveryThenAgentEvents();
    void signInElsewhereShowsAtOnce();
    void startsTheAgentWhenNoneIsRunning();
    void agentCrashDoesNotSignTheClinicianOut();
    void messagesFollowTheServerThroughAnOutage();
    void noPollingWhileTheStreamIsLive();

private:
    bool signInAgent(AgentProcess& agent, ServerProcess& server, const QString& email);
    /// Starts `server` with `email` as its user and `app`'s agent signed in to it (no window yet).
    bool startSignedIn(ServerProcess& server, const QString& email, AppUnderTest& app);
    std::unique_ptr<MainWindow> openWindow(AgentConnection* connection, ServerApi* api);
    QString loginElsewhere(ServerProcess& server, const QString& email, const char* device);
};

namespace {
/// GET /api/sessions requests the server has answered with 200, from its /metrics.
double sessionListRequests(ServerProcess& server)
{
    auto r = ApiClient(server.url()).request("GET", "/metrics");
    if (r.status != 200)
        return -1;
    const auto e = ehrs::test::exposition::parseExposition(r.body);
    return e.value("ehrs_http_requests_total",
                   {{"route", "/api/sessions"}, {"method", "GET"}, {"status", "200"}});
}
} // namespace

void TestAppLiveUpdates::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

bool TestAppLiveUpdates::signInAgent(AgentProcess& agent, ServerProcess& server, const QString& email)
{
    auto r = agent.cli({QStringLiteral("login"), QStringLiteral("--server"), server.url().toString(),
                        QStringLiteral("--password-stdin"), email},
                       kPassword.toUtf8() + '\n');
    if (r.exitCode != 0)
        qWarning("agent login failed: %s", r.err.constData());
    return r.exitCode == 0;
}

bool TestAppLiveUpdates::startSignedIn(ServerProcess& server, const QString& email, AppUnderTest& app)
{
    return server.start() && server.addUser(email, kPassword, email.section(u'@', 0, 0)) && app.startAgent() &&
           signInAgent(*app.agent, server, email);
}

std::unique_ptr<MainWindow> TestAppLiveUpdates::openWindow(AgentConnection* connection, ServerApi* api)
{
    auto window = std::make_unique<MainWindow>(connection, api);
    window->show();
    window->start();
    return window;
}

QString TestAppLiveUpdates::loginElsewhere(ServerProcess& server, const QString& email, const char* device)
{
    nlohmann::json body{{"email", email.toStdString()},
                        {"password", kPassword.toStdString()},
                        {"deviceInfo", {{"type", "mobile"}, {"name", device}, {"os", "iOS 17"}}}};
    auto r = ApiClient(server.url()).request("POST", "/api/auth/login", body);
    return r.status == 200 ? QString::fromStdString(r.str("sessionId")) : QString();
}

void TestAppLiveUpdates::errorStateThenRecoveryThenAgentEvents()
{
    // Short-lived access tokens: the agent refreshes every few seconds and, alongside, notices
    // sessions it has not seen (its new-sign-in event).
    ServerProcess server;
    server.setEnv(QStringLiteral("ACCESS_TOKEN_TTL"), QStringLiteral("8"));
    const QString email = QStringLiteral("nurse@example.org");
    AppUnderTest app;
    auto closeApp = qScopeGuard([&app] { app.close(); });
    QVERIFY(startSignedIn(server, email, app));
    const QString port = QString::number(server.url().port());

    // The clinician opens the app while the server is down: a designed error state, not a blank list.
    server.stop();
    app.openWindow();
    MainWindow* window = app.window.get();
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Main, 15000);
    SessionsPage* page = window->sessionsPage();
    QTRY_COMPARE_WITH_TIMEOUT(page->state(), SessionsPage::State::Error, 15000);
    QVERIFY2(page->errorText()->text().contains(QStringLiteral("Cannot reach the server")),
             qPrintable(page->errorText()->text()));
    QVERIFY(page->retryButton()->isVisibleTo(window));
    QCOMPARE(window->page(), MainWindow::Page::Main); // an outage is not a sign-out

    // The server is back (same address): "Try again" shows the list, with the empty state.
    QVERIFY(server.start({QStringLiteral("--port"), port}));
    QCOMPARE(QString::number(server.url().port()), port);
    QTest::mouseClick(page->retryButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(page->state(), SessionsPage::State::List, 15000);
    QCOMPARE(window->sessionModel()->rowCount(), 1);
    QVERIFY(page->onlyThisDeviceLabel()->isVisibleTo(window));

    // A sign-in elsewhere: the agent reports it and the list follows, with no click, no focus
    // change and well before the 30 s timer.
    // First let the agent complete a refresh against the restarted server: the check that follows
    // it records the sessions it knows, so the phone below is new to it.
    QSignalSpy refreshed(app.connection.get(), &AgentConnection::tokenRefreshed);
    QVERIFY(refreshed.wait(30000));
    QTest::qWait(500);
    QSignalSpy changed(app.connection.get(), &AgentConnection::sessionsChanged);
    QElapsedTimer clock;
    clock.start();
    const QString phone = loginElsewhere(server, email, "Ward phone");
    QVERIFY(!phone.isEmpty());
    // (The agent's token-refreshed event reloads too; its new-sign-in event follows the refresh
    // that noticed the phone, so either may show the row first.)
    QTRY_VERIFY_WITH_TIMEOUT(window->sessionModel()->rowOf(phone) >= 0, 25000);
    QTRY_VERIFY_WITH_TIMEOUT(changed.count() >= 1, 20000);
    QVERIFY2(clock.elapsed() < 25000, "the list followed the agent's events, not the periodic reload");
    QVERIFY(!page->onlyThisDeviceLabel()->isVisibleTo(window));
}

void TestAppLiveUpdates::signInElsewhereShowsAtOnce()
{
    ServerProcess server; // default 15-minute tokens: the agent stays quiet meanwhile
    const QString email = QStringLiteral("doctor@example.org");
    AppUnderTest app;
    auto closeApp = qScopeGuard([&app] { app.close(); });
    QVERIFY(startSignedIn(server, email, app));
    app.openWindow();
    MainWindow* window = app.window.get();
    QApplication::setActiveWindow(window);
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionsPage()->state(), SessionsPage::State::List, 15000);
    SessionListModel* model = window->sessionModel();
    QCOMPARE(model->rowCount(), 1);
    QSignalSpy changed(app.connection.get(), &AgentConnection::sessionsChanged);

    // A sign-in elsewhere reaches the list at once (issue 13): the server's event stream tells the
    // agent, which tells the app; before, only the 30 s reload or coming back to the window did.
    QElapsedTimer clock;
    clock.start();
    const QString tablet = loginElsewhere(server, email, "Ward tablet");
    QVERIFY(!tablet.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(model->rowOf(tablet) >= 0, 5000);
    QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    QVERIFY(changed.count() >= 1); // from the agent's event, not the periodic reload

    // Coming back to the window still reloads.
    QWidget other;
    other.show();
    QApplication::setActiveWindow(&other);
    QApplication::setActiveWindow(window);
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionsPage()->state(), SessionsPage::State::List, 5000);
    QVERIFY(model->rowOf(tablet) >= 0);
}

void TestAppLiveUpdates::startsTheAgentWhenNoneIsRunning()
{
    ServerProcess server;
    QVERIFY(server.start());
    const QString email = QStringLiteral("porter@example.org");
    QVERIFY(server.addUser(email, kPassword, QStringLiteral("Porter")));
    // The agent the app starts inherits this environment: a private socket directory and
    // keychain entry, no desktop notifications.
    QTemporaryDir runtime;
    QVERIFY(runtime.isValid());
    const QByteArray savedRuntime = qgetenv("XDG_RUNTIME_DIR");
    qputenv("XDG_RUNTIME_DIR", runtime.path().toUtf8());
    qputenv("EHRS_AGENT_KEYCHAIN_SERVICE",
            "ehr-sessions-test-autostart-" + QUuid::createUuid().toByteArray(QUuid::Id128).left(12));
    qputenv("EHRS_AGENT_NOTIFY", "0");
    auto restore = qScopeGuard([&] {
        qputenv("XDG_RUNTIME_DIR", savedRuntime);
        qunsetenv("EHRS_AGENT_KEYCHAIN_SERVICE");
        qunsetenv("EHRS_AGENT_NOTIFY");
    });
    const QString socket = runtime.filePath(QStringLiteral("ehr-sessions/agent.sock"));
    QCOMPARE(socketOwner(socket), 0); // nothing is running there

    AgentConnection connection(AgentConnection::Options{{}, QStringLiteral(EHRS_AGENT_BINARY), true});
    ServerApi api(&connection);
    auto window = openWindow(&connection, &api);
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::SignIn, 15000);
    pid_t agentPid = socketOwner(socket);
    QVERIFY2(agentPid > 0 && agentPid != QCoreApplication::applicationPid(), "the app started an agent");
    auto stopAgent = qScopeGuard([&agentPid] {
        ::kill(agentPid, SIGTERM);
        for (int i = 0; i < 100 && processExists(agentPid); ++i)
            QTest::qWait(50);
    });

    // And it is a working one: sign in through the window.
    SignInPage* signIn = window->signInPage();
    signIn->serverField()->setText(server.url().toString());
    signIn->emailField()->setText(email);
    QTest::keyClicks(signIn->passwordField(), kPassword);
    QTest::keyClick(signIn->passwordField(), Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionModel()->rowCount(), 1, 10000);

    // That agent crashes: the app starts a new one, which signs back in from the keychain.
    ::kill(agentPid, SIGKILL);
    QTRY_VERIFY_WITH_TIMEOUT(!processExists(agentPid) || window->page() == MainWindow::Page::Connecting, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Connecting, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Main, 20000);
    const pid_t relaunched = socketOwner(socket);
    QVERIFY(relaunched > 0 && relaunched != agentPid);
    agentPid = relaunched;

    // The agent outlives the app (it keeps other apps signed in), and the next app uses it.
    window.reset();
    QVERIFY(processExists(agentPid));
    AgentConnection again(AgentConnection::Options{{}, QStringLiteral(EHRS_AGENT_BINARY), true});
    ServerApi api2(&again);
    auto second = openWindow(&again, &api2);
    QTRY_COMPARE_WITH_TIMEOUT(second->page(), MainWindow::Page::Main, 15000);
    QCOMPARE(socketOwner(socket), agentPid);
    second.reset();
    // Leave no keychain entry behind.
    QVERIFY(QProcess::execute(QStringLiteral(EHRS_AGENT_BINARY), {QStringLiteral("logout")}) == 0);
}

void TestAppLiveUpdates::agentCrashDoesNotSignTheClinicianOut()
{
    ServerProcess server;
    const QString email = QStringLiteral("midwife@example.org");
    AppUnderTest app;
    auto closeApp = qScopeGuard([&app] { app.close(); });
    QVERIFY(startSignedIn(server, email, app));
    app.openWindow();
    MainWindow* window = app.window.get();
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionsPage()->state(), SessionsPage::State::List, 15000);
    const QString session = window->sessionModel()->index(0).data(SessionListModel::IdRole).toString();
    QVERIFY(!session.isEmpty());

    // The agent dies mid-shift: the window says so and keeps trying, it does not sign anyone out.
    app.agent->kill();
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Connecting, 10000);
    QTest::qWait(1500); // a few reconnection attempts against a missing agent
    QCOMPARE(window->page(), MainWindow::Page::Connecting);

    // It comes back (systemd restarts it): same session from the keychain, no password asked.
    QVERIFY(app.agent->start());
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionsPage()->state(), SessionsPage::State::List, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionModel()->rowCount(), 1, 10000);
    QCOMPARE(window->sessionModel()->index(0).data(SessionListModel::IdRole).toString(), session);
}

void TestAppLiveUpdates::messagesFollowTheServerThroughAnOutage()
{
    // The server stops and comes back under the running app: every message says what is true now.
    ServerProcess server;
    const QString email = QStringLiteral("registrar@example.org");
    AppUnderTest app;
    auto closeApp = qScopeGuard([&app] { app.close(); });
    QVERIFY(startSignedIn(server, email, app));
    const QString port = QString::number(server.url().port());
    const QString phone = loginElsewhere(server, email, "Ward phone");
    QVERIFY(!phone.isEmpty());
    app.openWindow();
    MainWindow* window = app.window.get();
    SessionsPage* page = window->sessionsPage();
    SessionListModel* model = window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(page->state(), SessionsPage::State::List, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
    QLabel* status = page->findChild<QLabel*>(QStringLiteral("updatedStatus"));
    QVERIFY(status);
    const QRegularExpression updated(QStringLiteral("^(Updated|Live · updated) \\d\\d:\\d\\d$"));
    QVERIFY2(updated.match(status->text()).hasMatch(), qPrintable(status->text()));
    QVERIFY(status->isVisibleTo(window));

    // The clinician asks to sign out the phone; the server goes down before they confirm.
    QListView* view = page->view();
    const QModelIndex phoneRow = model->index(model->rowOf(phone));
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.rect = view->visualRect(phoneRow);
    QTest::mouseClick(
        view->viewport(), Qt::LeftButton, {},
        page->delegate()->buttonRect(option, phoneRow, SessionDelegate::Button::Revoke).center());
    QPointer<QMessageBox> box = page->findChild<QMessageBox*>(QStringLiteral("confirmRevoke"));
    QVERIFY(box);
    server.stop();
    QAbstractButton* confirm = nullptr;
    for (QAbstractButton* b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            confirm = b;
    }
    QVERIFY(confirm);
    QSignalSpy offline(page, &SessionsPage::sessionsUnavailable);
    confirm->click();
    // The failed sign-out says so, by name and why; the reload after it fails too, and says that
    // separately (it does not replace the message about the sign-out).
    QVERIFY(offline.wait(15000));
    QLabel* banner = page->banner();
    QVERIFY(banner->isVisibleTo(window));
    QVERIFY2(banner->text().startsWith(QStringLiteral("Could not sign out “Ward phone”.")) &&
                 banner->text().contains(QStringLiteral("Cannot reach the server")),
             qPrintable(banner->text()));
    QVERIFY2(status->text().startsWith(QStringLiteral("Offline:")) &&
                 status->text().contains(QStringLiteral("Cannot reach the server")),
             qPrintable(status->text()));
    QCOMPARE(model->rowCount(), 2); // the phone is still listed: it was not signed out
    QVERIFY(model->rowOf(phone) >= 0);

    // Offline, what needs the server is off, with the reason at hand.
    QVERIFY(!page->signOutOthersButton()->isEnabled());
    QVERIFY2(page->signOutOthersButton()->toolTip().contains(QStringLiteral("cannot be reached")),
             qPrintable(page->signOutOthersButton()->toolTip()));
    page->confirmRevoke(model->rowOf(phone)); // Delete, or a click on the row's Sign out
    QVERIFY2(banner->text().startsWith(QStringLiteral("Cannot sign out “Ward phone” now")),
             qPrintable(banner->text()));
    QVERIFY(!page->findChild<QMessageBox*>(QStringLiteral("confirmRevoke")) ||
            !page->findChild<QMessageBox*>(QStringLiteral("confirmRevoke"))->isVisible());

    // The server is back: a manual Refresh clears the outage's messages and says when.
    QVERIFY(server.start({QStringLiteral("--port"), port}));
    QSignalSpy reloaded(page, &SessionsPage::reloaded);
    QTest::mouseClick(page->refreshButton(), Qt::LeftButton);
    QVERIFY(reloaded.wait(15000));
    QVERIFY2(updated.match(status->text()).hasMatch(), qPrintable(status->text()));
    QVERIFY2(!banner->isVisibleTo(window), qPrintable(banner->text()));
    QVERIFY(page->signOutOthersButton()->isEnabled());

    // "Signed out 1 other device." holds for the list it describes, and goes once the list changes.
    QTest::mouseClick(page->signOutOthersButton(), Qt::LeftButton);
    QPointer<PasswordDialog> dialog =
        page->findChild<PasswordDialog*>(QStringLiteral("confirmSignOutOthers"));
    QVERIFY(dialog);
    QTest::keyClicks(dialog->passwordField(), kPassword);
    QTest::keyClick(dialog->passwordField(), Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QCOMPARE(banner->text(), QStringLiteral("Signed out 1 other device."));
    QVERIFY(banner->isVisibleTo(window));
    const QString tablet = loginElsewhere(server, email, "Ward tablet");
    QVERIFY(!tablet.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            page->reload();
            return model->rowOf(tablet) >= 0;
        }(),
        15000);
    QVERIFY2(!banner->isVisibleTo(window), qPrintable(banner->text()));
}

void TestAppLiveUpdates::noPollingWhileTheStreamIsLive()
{
    // Issue 13: the list follows the server's event stream instead of polling. While the agent's
    // stream is live, the periodic timer only re-renders "active 5 minutes ago"; when the stream
    // goes down, the timer polls the server again.
    ServerProcess server;
    const QString email = QStringLiteral("pharmacist@example.org");
    AppUnderTest app;
    auto closeApp = qScopeGuard([&app] { app.close(); });
    QVERIFY(startSignedIn(server, email, app));
    app.openWindow();
    MainWindow* window = app.window.get();
    SessionsPage* page = window->sessionsPage();
    QTRY_COMPARE_WITH_TIMEOUT(page->state(), SessionsPage::State::List, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(page->liveUpdates(), 10000); // the agent's live-updates event or status
    page->setReloadInterval(200);

    // Many timer ticks (each re-renders the times: dataChanged on the rows), not one list request.
    QSignalSpy reloaded(page, &SessionsPage::reloaded);
    QSignalSpy ticks(window->sessionModel(), &QAbstractItemModel::dataChanged);
    // (A few ticks first: the agent reads the list once itself when its stream is ready.)
    QTRY_VERIFY_WITH_TIMEOUT(ticks.count() >= 3, 10000);
    const double before = sessionListRequests(server);
    QVERIFY(before >= 1);
    QTRY_VERIFY_WITH_TIMEOUT(ticks.count() >= 13, 10000);
    QCOMPARE(sessionListRequests(server), before);
    QCOMPARE(reloaded.count(), 0);
    QVERIFY2(page->statusLine()->text().startsWith(QStringLiteral("Live")),
             qPrintable(page->statusLine()->text()));

    // An event still reloads at once.
    const QString phone = loginElsewhere(server, email, "Ward phone");
    QVERIFY(!phone.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(window->sessionModel()->rowOf(phone) >= 0, 5000);
    QVERIFY(sessionListRequests(server) > before);

    // The server goes away, and with it the agent's stream: the app polls again (each poll fails
    // and says so), and says it is no longer live.
    server.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!page->liveUpdates(), 10000);
    QSignalSpy unavailable(page, &SessionsPage::sessionsUnavailable);
    QTRY_VERIFY_WITH_TIMEOUT(unavailable.count() >= 3, 10000);
    QVERIFY(!page->statusLine()->text().startsWith(QStringLiteral("Live")));
}

QTEST_MAIN(TestAppLiveUpdates)
#include "TestAppLiveUpdates.moc"
