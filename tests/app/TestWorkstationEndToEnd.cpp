// SPDX-License-Identifier: Apache-2.0
// The shared-workstation screens (issue 14) against a real ehr-sessions-server, ehr-sessions-agent
// and keychain: two clinicians switch back and forth through the app's switch-user screen with
// their PINs, and the lock screen follows a stand-in logind (FakeLogind, on a private bus) as the
// desktop locks and unlocks.
#include "AgentProcess.h"
#include "AppUnderTest.h"
#include "FakeLogind.h"
#include "ServerProcess.h"
#include "ipc/AgentMessages.h"
#include "security/SecurityPage.h"
#include "sessions/SessionsPage.h"
#include "shell/MainWindow.h"
#include "signin/SignInPage.h"
#include "workstation/LockPage.h"
#include "workstation/ShiftPinBox.h"
#include "workstation/SwitchUserPage.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>

using namespace ehrs;
using namespace ehrs::app;
using ehrs::agent::test::AgentProcess;
using ehrs::agent::test::FakeDesktopBus;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("correct horse battery staple");
} // namespace

class TestWorkstationEndToEnd : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void twoCliniciansSwitchByPin();
    void lockScreenFollowsTheDesktop();

private:
    QString newUser();
    /// Starts the agent as a shared workstation's, with `extraEnv`, and opens the window.
    bool openApp(const QList<QPair<QString, QString>>& extraEnv = {});
    void signInThroughUi(const QString& email);
    void setPinThroughUi(const QString& pin);
    void resumeThroughUi(const QString& typed, const QString& pin);
    /// The agent's status as `ehr-sessions-agent status --json` prints it.
    ipc::StatusReply agentStatus();

    ServerProcess m_server;
    FakeDesktopBus m_desktop;
    QString m_desktopError;
    ehrs::app::test::AppUnderTest m_app;
    int m_users = 0;
    int m_agents = 0;
};

void TestWorkstationEndToEnd::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    qputenv("EHRS_CLIENT_CONFIG", "/nonexistent/client.conf");
    const QString noKeychain = AgentProcess::missingKeychain();
    if (!noKeychain.isEmpty())
        QSKIP(qPrintable(noKeychain));
    EHRS_REQUIRE_BACKEND_UNDER_TEST();
    QVERIFY(m_server.useBackendUnderTest());
    QVERIFY(m_server.start());
    if (!m_desktop.start(false, &m_desktopError) && m_desktopError.isEmpty())
        m_desktopError = QStringLiteral("the private bus did not start");
}

void TestWorkstationEndToEnd::cleanup()
{
    m_app.close();
}

QString TestWorkstationEndToEnd::newUser()
{
    const QString email = QStringLiteral("ward%1@example.org").arg(++m_users);
    return m_server.addUser(email, kPassword, QStringLiteral("Nurse %1").arg(m_users)) ? email : QString();
}

bool TestWorkstationEndToEnd::openApp(const QList<QPair<QString, QString>>& extraEnv)
{
    m_app.agent = std::make_unique<AgentProcess>();
    m_app.agent->setEnv(QStringLiteral("EHRS_AGENT_DEVICE_CLASS"), QStringLiteral("shared_workstation"));
    // Not this machine's own id (a container may have no /etc/machine-id).
    m_app.agent->setEnv(QStringLiteral("EHRS_AGENT_WORKSTATION_ID"),
                        QStringLiteral("ws-app-e2e-%1").arg(++m_agents));
    for (const auto& [name, value] : extraEnv)
        m_app.agent->setEnv(name, value);
    if (!m_app.agent->start())
        return false;
    m_app.openWindow();
    m_app.window->setStatusPollInterval(100);
    return QTest::qWaitFor([this] { return m_app.window->page() != MainWindow::Page::Connecting; }, 15000);
}

void TestWorkstationEndToEnd::signInThroughUi(const QString& email)
{
    SignInPage* page = m_app.window->signInPage();
    page->serverField()->setText(m_server.url().toString());
    page->emailField()->setText(email);
    page->passwordField()->clear();
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::keyClick(page->passwordField(), Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
}

void TestWorkstationEndToEnd::setPinThroughUi(const QString& pin)
{
    // Offered at once after the sign-in: the Security tab, the focus in the PIN field.
    ShiftPinBox* box = m_app.window->shiftPinBox();
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->tabs()->currentWidget(), m_app.window->securityPage(), 5000);
    QTRY_VERIFY(box->pinField()->hasFocus());
    QTest::keyClicks(box->pinField(), pin);
    QTest::keyClick(box->pinField(), Qt::Key_Return);
    QTest::keyClicks(box->repeatField(), pin);
    QTest::keyClick(box->repeatField(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(box->messageLabel()->text().startsWith(u"PIN set."), 10000);
    QVERIFY(box->stateLabel()->text().contains(u"until"));
}

void TestWorkstationEndToEnd::resumeThroughUi(const QString& typed, const QString& pin)
{
    SwitchUserPage* page = m_app.window->switchUserPage();
    // The switch is over once the agent answered who was paused (typed sooner, the agent says
    // "a switch of user is in progress").
    QTRY_VERIFY_WITH_TIMEOUT(page->reasonLabel()->text().contains(u"is paused"), 10000);
    QTRY_VERIFY(page->nameField()->hasFocus());
    QTest::keyClicks(page->nameField(), typed);
    QTest::keyClick(page->nameField(), Qt::Key_Return);
    QVERIFY(page->pinField()->hasFocus());
    QTest::keyClicks(page->pinField(), pin);
    QTest::keyClick(page->pinField(), Qt::Key_Return);
}

ipc::StatusReply TestWorkstationEndToEnd::agentStatus()
{
    const auto r = m_app.agent->cli({QStringLiteral("status"), QStringLiteral("--json")});
    auto s = ipc::statusReplyFromPayload(r.out.trimmed());
    return s ? *s : ipc::StatusReply{};
}

void TestWorkstationEndToEnd::twoCliniciansSwitchByPin()
{
    const QString alice = newUser();
    const QString bob = newUser();
    QVERIFY(openApp());
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 15000);

    // Alice signs in with her password and sets her PIN, as the window offers.
    signInThroughUi(alice);
    setPinThroughUi(QStringLiteral("2580"));
    QTRY_VERIFY(m_app.window->switchUserAction()->isEnabled());

    // Switch user (Ctrl+Shift+U): Alice is parked; Bob is not in the list and signs in with his
    // password.
    QTest::keyClick(m_app.window.get(), Qt::Key_U, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SwitchUser, 10000);
    SwitchUserPage* page = m_app.window->switchUserPage();
    QCOMPARE(page->parkedList()->count(), 1);
    QTRY_VERIFY(page->reasonLabel()->text().contains(alice));
    QCOMPARE(agentStatus().email, QString()); // nobody active: no token for anybody
    page->passwordButton()->click();
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    signInThroughUi(bob);
    setPinThroughUi(QStringLiteral("4071"));
    QCOMPARE(agentStatus().email, bob);

    // Bob steps away; Alice comes back with "ward1" and her PIN.
    m_app.window->switchUserAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SwitchUser, 10000);
    QCOMPARE(page->parkedList()->count(), 2);
    resumeThroughUi(QStringLiteral("ward1"), QStringLiteral("2580"));
    QTRY_VERIFY2_WITH_TIMEOUT(m_app.window->page() == MainWindow::Page::Main,
                              qPrintable(page->errorLabel()->text()), 10000);
    QCOMPARE(agentStatus().email, alice);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);

    // Alice steps away; Bob mistypes his PIN once (told how many tries are left), then gets in.
    m_app.window->switchUserAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SwitchUser, 10000);
    resumeThroughUi(bob, QStringLiteral("1357"));
    QTRY_VERIFY_WITH_TIMEOUT(page->errorLabel()->isVisible(), 10000);
    QVERIFY2(page->errorLabel()->text().contains(u"attempt"), qPrintable(page->errorLabel()->text()));
    QCOMPARE(m_app.window->page(), MainWindow::Page::SwitchUser);
    QTRY_VERIFY(page->pinField()->hasFocus());
    QTest::keyClicks(page->pinField(), QStringLiteral("4071"));
    QTest::keyClick(page->pinField(), Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 10000);
    QCOMPARE(agentStatus().email, bob);
}

void TestWorkstationEndToEnd::lockScreenFollowsTheDesktop()
{
    if (!m_desktopError.isEmpty())
        QSKIP(qPrintable(m_desktopError));
    const QString nurse = newUser();
    auto& desk = m_desktop.addSession(QStringLiteral("lockapp1"));
    QVERIFY(openApp({{QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_desktop.address()},
                     {QStringLiteral("EHRS_AGENT_SCREENSAVER_BUS"), m_desktop.address()},
                     {QStringLiteral("XDG_SESSION_ID"), desk.id()}}));
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 15000);
    signInThroughUi(nurse);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
    // The agent's lock-changed event moves the window, not its status read now and then.
    m_app.window->setStatusPollInterval(3600 * 1000);
    QTest::qWait(200);

    desk.setLocked(true);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Locked, 5000);
    QCOMPARE(m_app.window->lockPage()->messageLabel()->text(),
             QStringLiteral("This workstation is locked. Unlock the desktop to continue."));
    QVERIFY(m_app.window->lockPage()->clinicianLabel()->text().contains(nurse));
    QVERIFY(!m_app.window->sessionsPage()->isVisible());
    // A token asked for meanwhile is refused as locked, and the window stays on the lock screen.
    m_app.window->sessionsPage()->reload();
    QTest::qWait(300);
    QCOMPARE(m_app.window->page(), MainWindow::Page::Locked);

    desk.setLocked(false);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
}

QTEST_MAIN(TestWorkstationEndToEnd)

#include "TestWorkstationEndToEnd.moc"
