// SPDX-License-Identifier: Apache-2.0
// Issue 18 in the app, against a real ehr-sessions-server and ehr-sessions-agent (with its
// keychain): "Remember me on this device" at the sign-in's code step, the Security page's
// Remembered devices box listing that device, and Forget making the server ask for the code again.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "AppUnderTest.h"
#include "LayoutChecks.h"
#include "ServerProcess.h"
#include "TwoStepAccount.h"
#include "security/RememberedDevicesBox.h"
#include "security/SecurityPage.h"
#include "shell/MainWindow.h"
#include "signin/SignInPage.h"

#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <QTreeWidget>

using namespace ehrs;
using namespace ehrs::app;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("correct horse battery staple");
} // namespace

class TestRememberedDevicesEndToEnd : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void rememberedDeviceIsListedAndForgettingAsksAgain();
    void withoutTheTickNothingIsRemembered();

private:
    /// Server, email and password on the sign-in page, then "Sign in".
    void submitCredentials();
    /// Signs in through the page up to the code step, types a backup code, ticks "remember" with
    /// the keyboard when `remember`, and verifies.
    void signInWithCode(bool remember);
    /// The Security page with its remembered devices loaded afresh: how many it lists (-2: no answer).
    int rememberedDevicesShown();
    /// Signs out through the app's agent connection; the window goes back to the sign-in page.
    void signOut();

    ServerProcess m_server;
    ehrs::app::test::AppUnderTest m_app;
    QString m_email;
    QStringList m_backupCodes;
    int m_users = 0;
};

void TestRememberedDevicesEndToEnd::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_server.start());
}

void TestRememberedDevicesEndToEnd::init()
{
    m_email = QStringLiteral("ward%1@example.org").arg(++m_users);
    QVERIFY(m_server.addUser(m_email, kPassword, QStringLiteral("Ward nurse %1").arg(m_users)));
    // Two-step verification on, over HTTP; the backup codes are the codes the test types.
    m_backupCodes = ehrs::test::turnOnTwoStep(m_server.url(), m_email, kPassword);
    QVERIFY(m_backupCodes.size() >= 2);
    QVERIFY(m_app.open());
}

void TestRememberedDevicesEndToEnd::cleanup()
{
    m_app.close();
}

void TestRememberedDevicesEndToEnd::submitCredentials()
{
    SignInPage* page = m_app.window->signInPage();
    QTRY_VERIFY_WITH_TIMEOUT(page->isEnabled() && !page->isAskingForCode(), 10000);
    page->serverField()->setText(m_server.url().toString());
    page->emailField()->clear();
    QTest::keyClicks(page->emailField(), m_email);
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
}

void TestRememberedDevicesEndToEnd::signInWithCode(bool remember)
{
    SignInPage* page = m_app.window->signInPage();
    submitCredentials();
    QTRY_VERIFY_WITH_TIMEOUT(page->isAskingForCode(), 15000);
    QCheckBox* box = page->rememberDeviceBox();
    QVERIFY(box->isVisibleTo(page));
    QVERIFY(!box->isChecked()); // off by default
    QVERIFY2(box->text().contains(u"this device"), qPrintable(box->text()));
    // Its mnemonic is its own on this step of the page.
    const QStringList duplicates = ehrs::app::test::duplicateMnemonics(m_app.window.get());
    QVERIFY2(duplicates.isEmpty(), qPrintable(duplicates.join(u"; ")));
    QVERIFY(!QKeySequence::mnemonic(box->text()).isEmpty());

    m_app.window->activateWindow();
    page->codeField()->setFocus();
    QTRY_VERIFY(page->codeField()->hasFocus());
    QTest::keyClicks(page->codeField(), m_backupCodes.takeFirst());
    if (remember) {
        // Keyboard only: Tab from the code reaches the box, Space ticks it.
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        QCOMPARE(QApplication::focusWidget(), box);
        QTest::keyClick(box, Qt::Key_Space);
        QVERIFY(box->isChecked());
    }
    QTest::mouseClick(page->verifyButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
}

int TestRememberedDevicesEndToEnd::rememberedDevicesShown()
{
    SecurityPage* page = m_app.window->securityPage();
    RememberedDevicesBox* box = page->rememberedDevices();
    m_app.window->tabs()->setCurrentWidget(page);
    QSignalSpy loaded(box, &RememberedDevicesBox::loaded);
    box->reload();
    if (!loaded.wait(10000))
        return -2;
    return box->list()->topLevelItemCount();
}

void TestRememberedDevicesEndToEnd::signOut()
{
    QFuture<Result<void>> done = m_app.connection->logout();
    QTRY_VERIFY_WITH_TIMEOUT(done.isFinished(), 10000);
    QVERIFY(done.result());
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 10000);
}

void TestRememberedDevicesEndToEnd::rememberedDeviceIsListedAndForgettingAsksAgain()
{
    signInWithCode(true);
    RememberedDevicesBox* box = m_app.window->securityPage()->rememberedDevices();
    QCOMPARE(rememberedDevicesShown(), 1);
    const QString label = box->list()->topLevelItem(0)->text(0);
    QVERIFY(!label.isEmpty());
    QVERIFY2(!box->list()->topLevelItem(0)->text(2).isEmpty(), "no 'until' date");

    // Remembered: the next sign-in on this device goes straight in, without the code step.
    signOut();
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    submitCredentials();
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QVERIFY(!m_app.window->signInPage()->isAskingForCode());

    // Forget it on the Security page.
    QCOMPARE(rememberedDevicesShown(), 1);
    box->list()->setCurrentItem(box->list()->topLevelItem(0));
    QTRY_VERIFY(box->forgetButton()->isEnabled());
    QSignalSpy forgotten(box, &RememberedDevicesBox::forgotten);
    QSignalSpy loaded(box, &RememberedDevicesBox::loaded);
    QTest::mouseClick(box->forgetButton(), Qt::LeftButton);
    QVERIFY(forgotten.wait(10000));
    QVERIFY(loaded.wait(10000));
    QCOMPARE(loaded.last().at(0).toInt(), 0);
    QCOMPARE(box->list()->topLevelItemCount(), 0);
    // What Forget did stays said after the reload it started.
    QVERIFY2(box->status()->text().contains(label + QStringLiteral(" was forgotten")),
             qPrintable(box->status()->text()));

    // The server asks this device for the code again.
    signOut();
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    submitCredentials();
    QTRY_VERIFY_WITH_TIMEOUT(m_app.window->signInPage()->isAskingForCode(), 15000);
    QVERIFY(!m_app.window->signInPage()->rememberDeviceBox()->isChecked()); // off again
}

void TestRememberedDevicesEndToEnd::withoutTheTickNothingIsRemembered()
{
    signInWithCode(false);
    QCOMPARE(rememberedDevicesShown(), 0);
    signOut();
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    submitCredentials();
    QTRY_VERIFY_WITH_TIMEOUT(m_app.window->signInPage()->isAskingForCode(), 15000);
}

QTEST_MAIN(TestRememberedDevicesEndToEnd)
#include "TestRememberedDevicesEndToEnd.moc"
