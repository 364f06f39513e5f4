// SPDX-License-Identifier: Apache-2.0
// ehrs-app-screenshots: renders the app's main screens into PNGs for docs/screenshots
// (scripts/screenshots.sh runs it under Xvfb against a real server and agent). It drives the
// real MainWindow the way a person would: fills in the sign-in form, signs in, opens Security and
// starts TOTP enrolment, grabbing the window at each step.
#include "FakeAgentSocket.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "security/SecurityPage.h"
#include "security/TotpSetupPanel.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "shell/MainWindow.h"
#include "shell/PasswordDialog.h"
#include "shell/Theme.h"
#include "signin/SignInPage.h"
#include "workstation/SwitchUserPage.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>
#include <QTreeWidget>
#include <cstdio>

using namespace ehrs::app;

namespace {
bool waitFor(const std::function<bool()>& done, int timeoutMs = 20000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!done()) {
        if (deadline.hasExpired())
            return false;
        QTest::qWait(50);
    }
    return true;
}

bool save(QWidget* window, const QString& path)
{
    QTest::qWait(400); // let the last layout and paint settle
    const bool ok = window->grab().save(path);
    std::fprintf(stderr, "%s %s\n", ok ? "wrote" : "FAILED to write", qPrintable(path));
    return ok;
}

int fail(const char* what)
{
    std::fprintf(stderr, "ehrs-app-screenshots: %s\n", what);
    return 1;
}

int extraScenes(MainWindow& window, const QDir& dir, const QString& password, const QString& handshake)
{
    // A dialog showing an error: "Sign out all other devices" with a mistyped password.
    SessionsPage* sessions = window.sessionsPage();
    sessions->confirmSignOutOthers();
    auto* dialog = sessions->findChild<PasswordDialog*>(QStringLiteral("confirmSignOutOthers"));
    if (!dialog || !waitFor([&] { return dialog->isVisible(); }))
        return fail("the sign-out-others dialog did not open");
    QTest::keyClicks(dialog->passwordField(), password + QStringLiteral("x"));
    QTest::keyClick(dialog->passwordField(), Qt::Key_Return);
    if (!waitFor([&] { return dialog->errorLabel()->isVisible(); }))
        return fail("the dialog showed no error");
    if (!save(dialog, dir.filePath(QStringLiteral("dialog-error.png"))))
        return 1;
    dialog->reject();

    // The recent security activity, scrolled into view.
    SecurityPage* security = window.securityPage();
    QSignalSpy activity(security, &SecurityPage::activityLoaded);
    window.tabs()->setCurrentWidget(security);
    security->reloadActivity();
    if (!activity.wait(10000) || activity.last().at(0).toInt() <= 0)
        return fail("the recent activity did not load");
    if (auto* scroll = security->findChild<QScrollArea*>())
        scroll->ensureWidgetVisible(security->activityList(), 0, 0);
    if (!save(&window, dir.filePath(QStringLiteral("activity.png"))))
        return 1;

    // Offline: the server stops under the running app, and the list says how old it is.
    window.tabs()->setCurrentWidget(sessions);
    QFile ready(handshake + QStringLiteral(".ready"));
    if (!ready.open(QIODevice::WriteOnly))
        return fail("cannot write the handshake file");
    ready.close();
    if (!waitFor([&] { return QFile::exists(handshake + QStringLiteral(".stopped")); }, 30000))
        return fail("the server was not stopped");
    QTest::mouseClick(sessions->refreshButton(), Qt::LeftButton);
    if (!waitFor([&] { return sessions->isOffline(); }))
        return fail("the app did not notice the server stopped");
    return save(&window, dir.filePath(QStringLiteral("offline.png"))) ? 0 : 1;
}
/// The shared-workstation screens (issue 14): the switch-user screen (two clinicians paused, one
/// picked, PIN typed) and the lock screen. The agent's answers come from FakeAgentSocket (the
/// same JSON the agent sends): a locked desktop needs a logind the screenshot host lacks.
int workstationScenes(const QDir& dir, const QString& tail)
{
    using Json = nlohmann::json;
    ehrs::app::test::FakeAgentSocket fake;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const auto iso = [](const QDateTime& t) { return t.toString(Qt::ISODateWithMs).toStdString(); };
    const Json parked = Json::array(
        {Json{{"email", "a.morgan@stmarys.example"},
              {"userId", "u1"},
              {"parkedAt", iso(now.addSecs(-25 * 60))}},
         Json{{"email", "j.okafor@stmarys.example"}, {"userId", "u2"}, {"parkedAt", iso(now.addSecs(-70))}}});
    Json status{{"state", "signed-out"},
                {"signedIn", false},
                {"serverUrl", "http://127.0.0.1:9"},
                {"email", ""},
                {"deviceClass", "shared_workstation"},
                {"workstationId", "ws-7f3a9c2e01d45b68"},
                {"pinSet", false},
                {"locked", false},
                {"parkedAccounts", parked}};
    fake.setReply(QStringLiteral("status"), status);
    fake.setError(QStringLiteral("token"), "no_active_clinician", "Nobody is signed in on this workstation");
    AgentConnection agent({fake.path(), {}, false});
    ServerApi api(&agent);
    MainWindow window(&agent, &api);
    window.resize(920, 700);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window))
        return fail("window not exposed");
    window.start();
    if (!waitFor([&] { return window.page() == MainWindow::Page::SwitchUser; }))
        return fail("the switch-user screen did not show");
    SwitchUserPage* page = window.switchUserPage();
    // As after "Switch user": who just stepped away, above the list.
    page->showParked(
        {{QStringLiteral("a.morgan@stmarys.example"), QStringLiteral("u1"), now.addSecs(-25 * 60), {}},
         {QStringLiteral("j.okafor@stmarys.example"), QStringLiteral("u2"), now.addSecs(-70), {}}},
        QStringLiteral("j.okafor@stmarys.example is paused. Type your PIN to come back."));
    QTest::keyClicks(page->nameField(), QStringLiteral("a.morgan"));
    QTest::keyClick(page->nameField(), Qt::Key_Return);
    QTest::keyClicks(page->pinField(), QStringLiteral("4071"));
    if (!save(&window, dir.filePath(QStringLiteral("switch-user") + tail)))
        return 1;

    status["signedIn"] = true;
    status["state"] = "signed-in";
    status["email"] = "a.morgan@stmarys.example";
    status["locked"] = true;
    status["parkedAccounts"] = Json::array({parked[1]});
    fake.setReply(QStringLiteral("status"), status);
    window.start();
    if (!waitFor([&] { return window.page() == MainWindow::Page::Locked; }))
        return fail("the lock screen did not show");
    return save(&window, dir.filePath(QStringLiteral("lock-screen") + tail)) ? 0 : 1;
}
} // namespace

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ehr-sessions-screenshots"));
    QCommandLineParser parser;
    const QCommandLineOption socket(QStringLiteral("socket"), QStringLiteral("agent socket"),
                                    QStringLiteral("path"));
    const QCommandLineOption server(QStringLiteral("server"), QStringLiteral("server URL"),
                                    QStringLiteral("url"));
    const QCommandLineOption email(QStringLiteral("email"), QStringLiteral("account"),
                                   QStringLiteral("email"));
    const QCommandLineOption password(QStringLiteral("password"), QStringLiteral("password"),
                                      QStringLiteral("pw"));
    const QCommandLineOption out(QStringLiteral("out"), QStringLiteral("output directory"),
                                 QStringLiteral("dir"));
    const QCommandLineOption theme(QStringLiteral("theme"), QStringLiteral("light or dark"),
                                   QStringLiteral("name"), QStringLiteral("light"));
    const QCommandLineOption suffix(QStringLiteral("suffix"), QStringLiteral("file name suffix, e.g. -dark"),
                                    QStringLiteral("text"));
    // The states around the main screens: a dialog showing an error, the recent activity, and
    // offline (the tool creates <handshake>.ready, waits for the caller to stop the server and
    // create <handshake>.stopped, then reloads).
    const QCommandLineOption extra(QStringLiteral("extra"),
                                   QStringLiteral("render dialog-error, activity and offline instead"),
                                   QStringLiteral("handshake"));
    const QCommandLineOption workstation(QStringLiteral("workstation"),
                                         QStringLiteral("render switch-user and lock-screen instead"));
    parser.addOptions({socket, server, email, password, out, theme, suffix, extra, workstation});
    parser.addHelpOption();
    parser.process(app);
    const QDir dir(parser.value(out));
    const QString tail = parser.value(suffix) + QStringLiteral(".png");

    Theme::apply(app, Theme::modeFromName(parser.value(theme)));
    if (parser.isSet(workstation))
        return workstationScenes(dir, tail);
    AgentConnection agent({parser.value(socket), {}, false});
    ServerApi api(&agent);
    MainWindow window(&agent, &api);
    window.resize(920, 860);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window))
        return fail("window not exposed");
    window.start();
    if (!waitFor([&] { return window.page() != MainWindow::Page::Connecting; }))
        return fail("agent not reachable");

    if (window.page() == MainWindow::Page::SignIn) {
        SignInPage* signIn = window.signInPage();
        signIn->serverField()->setText(parser.value(server));
        signIn->emailField()->setText(parser.value(email));
        signIn->passwordField()->setFocus();
        if (!save(&window, dir.filePath(QStringLiteral("sign-in") + tail)))
            return 1;
        QTest::keyClicks(signIn->passwordField(), parser.value(password));
        QTest::mouseClick(signIn->signInButton(), Qt::LeftButton);
        if (!waitFor([&] { return window.page() == MainWindow::Page::Main; }))
            return fail("sign-in did not succeed");
    }
    SessionsPage* sessions = window.sessionsPage();
    if (!waitFor([&] { return sessions->state() == SessionsPage::State::List; }))
        return fail("the session list did not load");
    if (parser.isSet(extra))
        return extraScenes(window, dir, parser.value(password), parser.value(extra));
    window.sessionModel()->refreshTimes();
    if (!save(&window, dir.filePath(QStringLiteral("sessions") + tail)))
        return 1;

    window.tabs()->setCurrentWidget(window.securityPage());
    QSignalSpy ready(window.securityPage()->totpPanel(), &TotpSetupPanel::readyToScan);
    window.securityPage()->beginTotpSetup();
    auto* confirm = window.securityPage()->findChild<PasswordDialog*>(QStringLiteral("confirmEnableTotp"));
    if (!confirm)
        return fail("TOTP setup did not ask for the password");
    QTest::keyClicks(confirm->passwordField(), parser.value(password));
    QTest::keyClick(confirm->passwordField(), Qt::Key_Return);
    if (!ready.wait(10000))
        return fail("TOTP setup did not start");
    return save(&window, dir.filePath(QStringLiteral("security") + tail)) ? 0 : 1;
}
