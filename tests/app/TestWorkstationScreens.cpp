// SPDX-License-Identifier: Apache-2.0
// The shared-workstation screens (issue 14) alone, with a fake agent: the switch-user screen, the
// lock screen, the shift PIN box, and the window's choice between them from the agent's status,
// answers and events (FakeAgentSocket speaks the agent's framed JSON). The real agent and server
// are in TestWorkstationEndToEnd.
#include "FakeAgentSocket.h"
#include "FutureHelpers.h"
#include "LayoutChecks.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "security/SecurityPage.h"
#include "sessions/SessionsPage.h"
#include "shell/MainWindow.h"
#include "signin/SignInPage.h"
#include "workstation/LockPage.h"
#include "workstation/ShiftPinBox.h"
#include "workstation/SwitchUserPage.h"
#include "workstation/WorkstationAgent.h"
#include "workstation/WorkstationStatus.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <deque>

using namespace ehrs;
using namespace ehrs::app;
using ehrs::app::test::FakeAgentSocket;
using Json = nlohmann::json;

namespace {
using ehrs::readyFuture;

/// Records the requests; answers with what the test queued.
class FakeWorkstation : public WorkstationAgent
{
public:
    QFuture<Result<ipc::SetPinReply>> setPin(const QString& pin) override
    {
        pins << pin;
        if (!pinAnswer)
            return readyFuture(Result<ipc::SetPinReply>(fail(pinAnswer.error())));
        return readyFuture(Result<ipc::SetPinReply>(ipc::SetPinReply{*pinAnswer}));
    }
    QFuture<Result<ipc::SwitchUserReply>> switchUser() override
    {
        return readyFuture(Result<ipc::SwitchUserReply>(ipc::SwitchUserReply{}));
    }
    QFuture<Result<ipc::LoginReply>> resume(const QString& email, const QString& pin) override
    {
        resumes << (email + u'/' + pin);
        auto answer = resumeAnswers.front();
        resumeAnswers.pop_front();
        return readyFuture(answer);
    }

    QStringList pins;
    QStringList resumes;
    Result<QDateTime> pinAnswer;
    std::deque<Result<ipc::LoginReply>> resumeAnswers;
};

std::vector<ParkedAccount> twoParked()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    return {{QStringLiteral("alice@example.org"), QStringLiteral("u1"), now.addSecs(-600), {}},
            {QStringLiteral("bob@example.org"), QStringLiteral("u2"), now.addSecs(-60), {}}};
}

/// The agent's answers as they arrive (common/ipc/AgentMessages: the wire code in Error::name).
Error invalidPinError(int attemptsLeft)
{
    Error e{ErrorCode::Unauthenticated, QStringLiteral("The PIN is not correct")};
    e.name = QString::fromLatin1(ipc::kInvalidPinCode);
    e.attemptsLeft = attemptsLeft;
    return e;
}

Error fullSignInRequiredError()
{
    Error e{ErrorCode::Forbidden, QStringLiteral("Sign in with your password")};
    e.name = QString::fromLatin1(ipc::kFullSignInRequiredCode);
    return e;
}

ipc::LoginReply signedInAs(const QString& email)
{
    ipc::LoginReply r;
    r.email = email;
    r.userId = QStringLiteral("u");
    r.sessionId = QStringLiteral("s");
    return r;
}

Json status(bool signedIn, const std::string& email, const std::string& deviceClass, bool locked = false,
            Json parked = Json::array(), bool pinSet = true)
{
    return Json{{"state", signedIn ? "signed-in" : "signed-out"},
                {"signedIn", signedIn},
                {"serverUrl", "http://127.0.0.1:9"},
                {"email", email},
                {"deviceClass", deviceClass},
                {"workstationId", "ws-0123456789abcdef"},
                {"pinSet", pinSet},
                {"pinValidUntil", pinSet ? "2030-01-01T19:00:00.000Z" : ""},
                {"locked", locked},
                {"parkedAccounts", parked}};
}

/// A shared workstation where nobody is active and Alice is paused.
Json aliceParked()
{
    return status(
        false, "", "shared_workstation", false,
        Json::array({Json{
            {"email", "alice@example.org"}, {"userId", "u1"}, {"parkedAt", "2026-12-02T09:00:00.000Z"}}}));
}

/// The window on a fake agent, shown and started.
struct Window
{
    explicit Window(FakeAgentSocket& fake)
        : agent(AgentConnection::Options{fake.path(), {}, false}), api(&agent), window(&agent, &api)
    {
        window.setStatusPollInterval(50);
        window.show();
        window.start();
    }
    AgentConnection agent;
    ServerApi api;
    MainWindow window;
};
} // namespace

class TestWorkstationScreens : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void switchUserIsNamePinEnter();
    void clickingAClinicianFillsTheName();
    void wrongPinSaysHowManyAttemptsAreLeft();
    void unusablePinGoesToPasswordSignInWithTheEmail();
    void someoneNotParkedSignsInWithTheirPassword();
    void pinFieldTakesDigitsWithoutEcho();
    void switchUserScreenFitsAndHasUniqueMnemonics();
    void shiftPinIsTypedTwiceAndRefusalsAreWords();
    void shiftPinSaysUntilWhen();
    void windowShowsTheLockScreenWhileLocked();
    void lockScreenWithoutThePoll_data();
    void lockScreenWithoutThePoll();
    void idleSignOutShowsTheServersWords();
    void nobodyActiveWithParkedShowsSwitchUser();
    void passwordSignInGoesBackToSwitchUser();
    void switchUserOnlyOnSharedWorkstations();
    void signInWithoutPinOffersOne();

private:
    std::unique_ptr<FakeAgentSocket> m_fake;
};

void TestWorkstationScreens::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // the sign-in page remembers the server in QSettings
    qputenv("EHRS_CLIENT_CONFIG", "/nonexistent/client.conf");
}

void TestWorkstationScreens::init()
{
    m_fake = std::make_unique<FakeAgentSocket>();
    m_fake->setReply(QStringLiteral("token"), Json{{"accessToken", "aaaa.bbbb.cccc"}, {"expiresAt", ""}});
}

void TestWorkstationScreens::switchUserIsNamePinEnter()
{
    FakeWorkstation agent;
    agent.resumeAnswers.push_back(signedInAs(QStringLiteral("bob@example.org")));
    SwitchUserPage page(&agent);
    page.resize(600, 560);
    page.show();
    QVERIFY(QTest::qWaitForWindowActive(&page));
    page.showParked(twoParked(), QStringLiteral("alice@example.org is paused."));
    // Newest first; the focus starts in the name field.
    QCOMPARE(page.parkedList()->count(), 2);
    QVERIFY(page.parkedList()->item(0)->text().startsWith(u"bob@example.org"));
    QTRY_VERIFY(page.nameField()->hasFocus());
    QCOMPARE(page.reasonLabel()->text(), QStringLiteral("alice@example.org is paused."));
    QSignalSpy resumed(&page, &SwitchUserPage::resumed);
    // "bob", Enter: the name becomes the email and the PIN field takes the keys.
    QTest::keyClicks(page.nameField(), QStringLiteral("bob"));
    QTest::keyClick(page.nameField(), Qt::Key_Return);
    QCOMPARE(page.nameField()->text(), QStringLiteral("bob@example.org"));
    QVERIFY(page.pinField()->hasFocus());
    QTest::keyClicks(page.pinField(), QStringLiteral("2468"));
    QTest::keyClick(page.pinField(), Qt::Key_Return);
    QCOMPARE(agent.resumes, QStringList{QStringLiteral("bob@example.org/2468")});
    QCOMPARE(resumed.count(), 1);
    QVERIFY(page.pinField()->text().isEmpty());
    // Case and the part before the @ resolve; an ambiguous start does not.
    QCOMPARE(page.resolve(QStringLiteral("ALICE")), QStringLiteral("alice@example.org"));
    QCOMPARE(page.resolve(QStringLiteral("al")), QStringLiteral("alice@example.org"));
    QVERIFY(page.resolve(QStringLiteral("carol")).isEmpty());
}

void TestWorkstationScreens::clickingAClinicianFillsTheName()
{
    FakeWorkstation agent;
    SwitchUserPage page(&agent);
    page.resize(600, 560);
    page.show();
    QVERIFY(QTest::qWaitForWindowActive(&page));
    page.showParked(twoParked());
    QListWidget* list = page.parkedList();
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(list->item(1)).center());
    QCOMPARE(page.nameField()->text(), QStringLiteral("alice@example.org"));
    QVERIFY(page.pinField()->hasFocus());
    QVERIFY(agent.resumes.isEmpty());
}

void TestWorkstationScreens::wrongPinSaysHowManyAttemptsAreLeft()
{
    FakeWorkstation agent;
    agent.resumeAnswers.push_back(Result<ipc::LoginReply>(fail(invalidPinError(2))));
    agent.resumeAnswers.push_back(Result<ipc::LoginReply>(fail(invalidPinError(1))));
    SwitchUserPage page(&agent);
    page.resize(600, 560);
    page.show();
    QVERIFY(QTest::qWaitForWindowActive(&page));
    page.showParked(twoParked());
    page.nameField()->setText(QStringLiteral("alice@example.org"));
    QTest::keyClicks(page.pinField(), QStringLiteral("1357"));
    QTest::keyClick(page.pinField(), Qt::Key_Return);
    QVERIFY(page.errorLabel()->isVisible());
    QCOMPARE(page.errorLabel()->text(),
             QStringLiteral(
                 "That PIN is not correct. 2 attempts left; after that you sign in with your password."));
    QVERIFY(page.pinField()->text().isEmpty());
    QVERIFY(page.pinField()->hasFocus());
    QCOMPARE(page.nameField()->text(), QStringLiteral("alice@example.org")); // kept
    QTest::keyClicks(page.pinField(), QStringLiteral("1358"));
    QTest::keyClick(page.pinField(), Qt::Key_Return);
    QVERIFY(page.errorLabel()->text().contains(u"1 attempt left"));
    QVERIFY(test::clippedTexts(&page).isEmpty());
}

void TestWorkstationScreens::unusablePinGoesToPasswordSignInWithTheEmail()
{
    FakeWorkstation agent;
    agent.resumeAnswers.push_back(Result<ipc::LoginReply>(fail(fullSignInRequiredError())));
    SwitchUserPage page(&agent);
    page.show();
    page.showParked(twoParked());
    QSignalSpy wanted(&page, &SwitchUserPage::passwordSignInWanted);
    page.nameField()->setText(QStringLiteral("alice"));
    page.pinField()->setText(QStringLiteral("9999"));
    page.continueButton()->click();
    QCOMPARE(wanted.count(), 1);
    QCOMPARE(wanted.at(0).at(0).toString(), QStringLiteral("alice@example.org"));
    QVERIFY(wanted.at(0).at(1).toString().contains(u"Sign in with your password"));
}

void TestWorkstationScreens::someoneNotParkedSignsInWithTheirPassword()
{
    FakeWorkstation agent;
    SwitchUserPage page(&agent);
    page.show();
    page.showParked(twoParked());
    QSignalSpy wanted(&page, &SwitchUserPage::passwordSignInWanted);
    // An email that is not parked here: the password sign-in, without asking the server.
    page.nameField()->setText(QStringLiteral("carol@example.org"));
    page.pinField()->setText(QStringLiteral("1234"));
    page.continueButton()->click();
    QCOMPARE(wanted.count(), 1);
    QCOMPARE(wanted.at(0).at(0).toString(), QStringLiteral("carol@example.org"));
    QVERIFY(agent.resumes.isEmpty());
    // A name that matches nobody: said on the page.
    page.nameField()->setText(QStringLiteral("carol"));
    page.continueButton()->click();
    QCOMPARE(wanted.count(), 1);
    QVERIFY(page.errorLabel()->text().contains(u"Nobody called “carol”"));
    // The link, for someone not in the list.
    page.nameField()->clear();
    page.passwordButton()->click();
    QCOMPARE(wanted.count(), 2);
    QVERIFY(wanted.at(1).at(0).toString().isEmpty());
}

void TestWorkstationScreens::pinFieldTakesDigitsWithoutEcho()
{
    FakeWorkstation agent;
    SwitchUserPage page(&agent);
    page.show();
    QCOMPARE(page.pinField()->echoMode(), QLineEdit::Password);
    QTest::keyClicks(page.pinField(), QStringLiteral("12ab34567890"));
    QCOMPARE(page.pinField()->text(), QStringLiteral("12345678"));
}

void TestWorkstationScreens::switchUserScreenFitsAndHasUniqueMnemonics()
{
    FakeWorkstation agent;
    SwitchUserPage page(&agent);
    page.resize(560, 460); // the window's minimum size
    page.show();
    page.showParked(twoParked(), QStringLiteral("bob@example.org is paused. Type your PIN to come back."));
    page.errorLabel()->setText(
        QStringLiteral("That PIN is not correct. 2 attempts left; after that you sign in "
                       "with your password."));
    page.errorLabel()->setVisible(true);
    QTest::qWait(50);
    QCOMPARE(test::clippedTexts(&page), QStringList());
    QCOMPARE(test::duplicateMnemonics(&page), QStringList());
}

void TestWorkstationScreens::shiftPinIsTypedTwiceAndRefusalsAreWords()
{
    FakeWorkstation agent;
    ShiftPinBox box(&agent);
    box.resize(520, 260);
    box.show();
    QTest::keyClicks(box.pinField(), QStringLiteral("2580"));
    QTest::keyClicks(box.repeatField(), QStringLiteral("2581"));
    box.setButton()->click();
    QVERIFY(agent.pins.isEmpty());
    QCOMPARE(box.messageLabel()->text(),
             QStringLiteral("The two PINs are not the same. Type it again in both fields."));
    QTest::keyClicks(box.pinField(), QStringLiteral("12"));
    QTest::keyClicks(box.repeatField(), QStringLiteral("12"));
    box.setButton()->click();
    QVERIFY(agent.pins.isEmpty());
    QCOMPARE(box.messageLabel()->text(), QStringLiteral("A shift PIN has 4 to 8 digits."));
    // The server refuses an easy one: its reason, in words.
    box.pinField()->clear();
    box.repeatField()->clear();
    agent.pinAnswer =
        fail(ErrorCode::InvalidRequest, QStringLiteral("The PIN must not be a run of digits (1234)"));
    QTest::keyClicks(box.pinField(), QStringLiteral("1234"));
    QTest::keyClicks(box.repeatField(), QStringLiteral("1234"));
    QTest::keyClick(box.repeatField(), Qt::Key_Return);
    QCOMPARE(agent.pins, QStringList{QStringLiteral("1234")});
    QCOMPARE(box.messageLabel()->text(),
             QStringLiteral("That PIN cannot be used. The PIN must not be a run of digits (1234)."));
    QVERIFY(box.pinField()->text().isEmpty());
    QVERIFY(!box.pinSet());
}

void TestWorkstationScreens::shiftPinSaysUntilWhen()
{
    FakeWorkstation agent;
    ShiftPinBox box(&agent);
    box.resize(520, 260);
    box.show();
    QVERIFY(box.stateLabel()->text().startsWith(u"No PIN yet."));
    QCOMPARE(box.setButton()->text(), QStringLiteral("Set s&hift PIN"));
    const QDateTime until = QDateTime::currentDateTime().addSecs(3600);
    agent.pinAnswer = until.toUTC();
    QSignalSpy changed(&box, &ShiftPinBox::pinChanged);
    box.pinField()->setText(QStringLiteral("2580"));
    box.repeatField()->setText(QStringLiteral("2580"));
    box.setButton()->click();
    QCOMPARE(changed.count(), 1);
    QVERIFY(box.pinSet());
    QCOMPARE(box.setButton()->text(), QStringLiteral("Change s&hift PIN"));
    QVERIFY2(box.stateLabel()->text().contains(describeUntil(until)), qPrintable(box.stateLabel()->text()));
    QVERIFY(box.messageLabel()->text().startsWith(u"PIN set. It works until"));
    // "today at", "tomorrow at", a date.
    const QDateTime now(QDate(2026, 12, 2), QTime(9, 0));
    QVERIFY(describeUntil(now.addSecs(3600), now).startsWith(u"today at "));
    QVERIFY(describeUntil(now.addDays(1), now).startsWith(u"tomorrow at "));
    QVERIFY(describeUntil(now.addDays(3), now).startsWith(u"on "));
    // Leaving the page forgets typed PINs.
    box.pinField()->setText(QStringLiteral("1111"));
    box.hide();
    QVERIFY(box.pinField()->text().isEmpty());
}

void TestWorkstationScreens::windowShowsTheLockScreenWhileLocked()
{
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "shared_workstation"));
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    QVERIFY(w.window.sessionsPage()->isVisible());
    // The desktop locks: the agent's status says so; the window hides the session.
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "shared_workstation", true));
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Locked);
    QCOMPARE(w.window.lockPage()->messageLabel()->text(),
             QStringLiteral("This workstation is locked. Unlock the desktop to continue."));
    QCOMPARE(w.window.lockPage()->clinicianLabel()->text(), QStringLiteral("Signed in: alice@example.org"));
    QVERIFY(!w.window.sessionsPage()->isVisible());
    QVERIFY(!w.window.securityPage()->isVisible());
    QVERIFY(!w.window.switchUserAction()->isEnabled());
    QCOMPARE(test::clippedTexts(&w.window), QStringList());
    // Unlocked: back to the session.
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "shared_workstation"));
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    QVERIFY(w.window.sessionsPage()->isVisible());
}

void TestWorkstationScreens::lockScreenWithoutThePoll_data()
{
    QTest::addColumn<bool>("byEvent");
    QTest::newRow("workstation_locked answer to a token") << false;
    QTest::newRow("lock-changed event") << true;
}

void TestWorkstationScreens::lockScreenWithoutThePoll()
{
    QFETCH(bool, byEvent);
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "personal"));
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    w.window.setStatusPollInterval(3600 * 1000); // only the agent's answer or event can tell
    QTest::qWait(100);
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "personal", true));
    if (byEvent) {
        m_fake->push(Json{{"event", "lock-changed"}, {"locked", true}});
    } else {
        m_fake->setError(QStringLiteral("token"), "workstation_locked",
                         "The workstation is locked; unlock it to continue");
        w.window.sessionsPage()->reload();
    }
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Locked);
    QVERIFY(w.window.lockPage()->clinicianLabel()->text().contains(u"alice@example.org"));
    QVERIFY(!w.window.sessionsPage()->isVisible());
    if (!byEvent)
        return;
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "personal"));
    m_fake->push(Json{{"event", "lock-changed"}, {"locked", false}});
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    QVERIFY(w.window.sessionsPage()->isVisible());
}

void TestWorkstationScreens::idleSignOutShowsTheServersWords()
{
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "personal"));
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    w.window.setStatusPollInterval(3600 * 1000); // the event tells, not the status
    QTest::qWait(100);
    Json out = status(false, "", "personal");
    out["signedOutReason"] = "session_expired";
    out["lastError"] = "This session ended after 30 minutes without activity; sign in again";
    m_fake->setReply(QStringLiteral("status"), out);
    m_fake->push(Json{{"event", "signed-out"},
                      {"reason", "session_expired"},
                      {"message", "This session ended after 30 minutes without activity; sign in again"}});
    QTRY_COMPARE(w.window.page(), MainWindow::Page::SignIn);
    QCOMPARE(
        w.window.signInPage()->reasonLabel()->text(),
        QStringLiteral("This session ended after 30 minutes without activity. Sign in again to continue."));
}

void TestWorkstationScreens::nobodyActiveWithParkedShowsSwitchUser()
{
    m_fake->setReply(QStringLiteral("status"), aliceParked());
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::SwitchUser);
    QCOMPARE(w.window.switchUserPage()->parkedList()->count(), 1);
    QTRY_VERIFY(w.window.switchUserPage()->nameField()->hasFocus());
    // Typing is not undone by the status the window keeps asking for.
    QTest::keyClicks(w.window.switchUserPage()->nameField(), QStringLiteral("ali"));
    QTest::qWait(200);
    QCOMPARE(w.window.switchUserPage()->nameField()->text(), QStringLiteral("ali"));
    // "Sign in with password": the sign-in page, the email filled.
    w.window.switchUserPage()->nameField()->setText(QStringLiteral("alice@example.org"));
    w.window.switchUserPage()->passwordButton()->click();
    QCOMPARE(w.window.page(), MainWindow::Page::SignIn);
    QCOMPARE(w.window.signInPage()->emailField()->text(), QStringLiteral("alice@example.org"));
    QVERIFY(w.window.signInPage()->passwordField()->hasFocus());
    // Someone resumed meanwhile (another app, or the agent): a user-switched event.
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "shared_workstation"));
    w.window.switchUserPage()->showParked({}); // nothing stale
    m_fake->push(Json{{"event", "user-switched"}, {"email", "alice@example.org"}, {"userId", "u1"}});
    QTest::qWait(100);
    QCOMPARE(w.window.page(), MainWindow::Page::SignIn); // someone typing a password is not interrupted
}

void TestWorkstationScreens::passwordSignInGoesBackToSwitchUser()
{
    m_fake->setReply(QStringLiteral("status"), aliceParked());
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::SwitchUser);
    SignInPage* signIn = w.window.signInPage();
    // "Sign in with password" by mistake: a way back to the PIN, by button or Alt+W.
    w.window.switchUserPage()->passwordButton()->click();
    QCOMPARE(w.window.page(), MainWindow::Page::SignIn);
    QVERIFY(signIn->switchUserButton()->isVisible());
    signIn->switchUserButton()->click();
    QTRY_COMPARE(w.window.page(), MainWindow::Page::SwitchUser);
    QCOMPARE(w.window.switchUserPage()->parkedList()->count(), 1);
    w.window.switchUserPage()->passwordButton()->click();
    QCOMPARE(w.window.page(), MainWindow::Page::SignIn);
    QTest::keyClick(signIn->passwordField(), Qt::Key_W, Qt::AltModifier);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::SwitchUser);

    // Nobody paused any more (Alice resumed and signed out elsewhere): the button goes, and a
    // click that raced it leaves the sign-in page where it is.
    w.window.switchUserPage()->passwordButton()->click();
    QCOMPARE(w.window.page(), MainWindow::Page::SignIn);
    m_fake->setReply(QStringLiteral("status"), status(false, "", "shared_workstation"));
    signIn->switchUserButton()->click();
    QTRY_VERIFY(!signIn->switchUserButton()->isVisible());
    QCOMPARE(w.window.page(), MainWindow::Page::SignIn);
}

void TestWorkstationScreens::switchUserOnlyOnSharedWorkstations()
{
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "personal"));
    {
        Window w(*m_fake);
        QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
        QTest::qWait(100);
        QVERIFY(!w.window.switchUserAction()->isEnabled());
        QVERIFY(!w.window.findChild<QPushButton*>(QStringLiteral("switchUser"))->isVisible());
        QVERIFY(w.window.shiftPinBox()->isHidden());
    }
    m_fake->setReply(QStringLiteral("status"), status(true, "alice@example.org", "shared_workstation"));
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    QTRY_VERIFY(w.window.switchUserAction()->isEnabled());
    QVERIFY(w.window.findChild<QPushButton*>(QStringLiteral("switchUser"))->isVisible());
    QCOMPARE(w.window.switchUserAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_U));
    QVERIFY(!w.window.shiftPinBox()->isHidden());
    QCOMPARE(test::duplicateMnemonics(&w.window), QStringList());
    w.window.tabs()->setCurrentWidget(w.window.securityPage());
    QCOMPARE(test::duplicateMnemonics(&w.window), QStringList());
}

void TestWorkstationScreens::signInWithoutPinOffersOne()
{
    m_fake->setReply(QStringLiteral("status"), status(false, "", "shared_workstation"));
    m_fake->setReply(
        QStringLiteral("login"),
        Json{{"requiresMfa", false}, {"email", "alice@example.org"}, {"userId", "u1"}, {"sessionId", "s1"}});
    Window w(*m_fake);
    QTRY_COMPARE(w.window.page(), MainWindow::Page::SignIn);
    m_fake->setReply(QStringLiteral("status"),
                     status(true, "alice@example.org", "shared_workstation", false, Json::array(), false));
    SignInPage* signIn = w.window.signInPage();
    signIn->serverField()->setText(QStringLiteral("http://127.0.0.1:9"));
    signIn->emailField()->setText(QStringLiteral("alice@example.org"));
    signIn->passwordField()->setText(QStringLiteral("correct horse battery"));
    signIn->signInButton()->click();
    QTRY_COMPARE(w.window.page(), MainWindow::Page::Main);
    QTRY_COMPARE(w.window.tabs()->currentWidget(), w.window.securityPage());
    QTRY_VERIFY(w.window.shiftPinBox()->pinField()->hasFocus());
    QVERIFY(w.window.shiftPinBox()->messageLabel()->text().contains(u"Set a shift PIN now"));
}

QTEST_MAIN(TestWorkstationScreens)

#include "TestWorkstationScreens.moc"
