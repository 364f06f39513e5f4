// SPDX-License-Identifier: Apache-2.0
// ehrs-app-screenshots: renders the app's main screens into PNGs for docs/screenshots
// (scripts/screenshots.sh runs it under Xvfb against a real server and agent). It drives the
// real MainWindow the way a person would: fills in the sign-in form, signs in, opens Security and
// starts TOTP enrolment, grabbing the window at each step.
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

#include <QApplication>
#include <QCommandLineParser>
#include <QDeadlineTimer>
#include <QDir>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>
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
    parser.addOptions({socket, server, email, password, out, theme, suffix});
    parser.addHelpOption();
    parser.process(app);
    const QDir dir(parser.value(out));
    const QString tail = parser.value(suffix) + QStringLiteral(".png");

    Theme::apply(app, Theme::modeFromName(parser.value(theme)));
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
