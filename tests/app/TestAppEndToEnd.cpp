// SPDX-License-Identifier: Apache-2.0
// The app against a real ehr-sessions-server and ehr-sessions-agent, driven through its widgets.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "AppUnderTest.h"
#include "LayoutChecks.h"
#include "ServerProcess.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "mfa/Totp.h"
#include "security/SecurityPage.h"
#include "security/TotpSetupPanel.h"
#include "sessions/SessionDelegate.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "shell/DeviceIcons.h"
#include "shell/MainWindow.h"
#include "shell/PasswordDialog.h"
#include "signin/SignInPage.h"

#include <QAccessible>
#include <QApplication>
#include <QDateTime>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTabBar>
#include <QTabWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace ehrs;
using namespace ehrs::app;
using namespace Qt::StringLiterals;
using ehrs::agent::test::AgentProcess;
using ehrs::test::ApiClient;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("correct horse battery staple");

struct Device
{
    const char* type;
    const char* name;
    const char* os;
    const char* browser;
};
const Device kDevices[] = {
    {"mobile", "iPhone", "iOS 17.1", "Safari 17.1"},
    {"tablet", "iPad", "iPadOS 17", "Safari 17.1"},
    {"desktop", "ward-pc-12", "Windows 10/11", "Chrome 120"},
    {"laptop", "MacBook", "macOS 14", "Firefox 120"},
    {"unknown", "", "", ""},
};
} // namespace

class TestAppEndToEnd : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void signsInThroughTheForm();
    void wrongPasswordIsShownInline();
    void listShowsEveryDeviceWithItsIcon();
    void revokeAfterConfirmationRemovesTheRow();
    void deviceNamesShowAsText();
    void signOutOthersNeedsThePassword();
    void agentSignOutReturnsToSignIn();
    void signOutSeenThroughATokenRequestGivesTheReason();
    void sessionEndedElsewhereReturnsToSignInWithReason();
    void signInAsksForTheCodeWhenTwoFactorIsOn();
    void rateLimitedSignInShowsTheWait();
    void keyboardOnlySignInAndRevoke();
    void everyControlHasAnAccessibleName();
    void renameInlineWithTheKeyboard();
    void unreachableServerIsShownInline();
    void serverAddressIsRemembered();
    void ownDeviceMessageNamesTheRealControl();
    void devicesShowAsPeopleKnowThem();
    void signInFormHoldsAtTheMinimumSize();
    void presetServerHidesTheField();
    void noMnemonicIsUsedTwiceOnAnyPageOrDialog();

private:
    QString newUser();
    void signInThroughUi(const QString& email, const QString& password);
    /// Logs in over HTTP as another device; returns {sessionId, accessToken}.
    std::pair<QString, QString> loginAs(const QString& email, const Device& device);
    int httpStatus(const QByteArray& method, const QByteArray& path, const QString& bearer);
    void reloadAndWait();
    /// Turns TOTP on for the account over HTTP; returns the secret and the backup codes.
    std::pair<QByteArray, QStringList> enableTotp(const QString& email);
    /// Sends a key to whatever has the keyboard focus, as typing would.
    static void press(Qt::Key key, Qt::KeyboardModifiers modifiers = Qt::NoModifier);
    static void type(const QString& text);

    ServerProcess m_server;
    ehrs::app::test::AppUnderTest m_app;
    QString m_email;
    int m_users = 0;
};

void TestAppEndToEnd::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    // IT names its networks: the test's loopback stands for a ward's network.
    m_server.setEnv(QStringLiteral("NETWORK_LOCATIONS"),
                    QStringLiteral("127.0.0.0/8=St Mary's, Ward 3;::1=St Mary's, Ward 3"));
    QVERIFY(m_server.start());
}

QString TestAppEndToEnd::newUser()
{
    const QString email = QStringLiteral("clinician%1@example.org").arg(++m_users);
    if (!m_server.addUser(email, kPassword, QStringLiteral("Clinician %1").arg(m_users)))
        return {};
    return email;
}

void TestAppEndToEnd::init()
{
    m_email = newUser();
    QVERIFY(!m_email.isEmpty());
    QVERIFY(m_app.open());
}

void TestAppEndToEnd::cleanup()
{
    m_app.close();
}

void TestAppEndToEnd::signInThroughUi(const QString& email, const QString& password)
{
    SignInPage* page = m_app.window->signInPage();
    QTRY_VERIFY_WITH_TIMEOUT(page->isEnabled(), 10000); // e.g. while the agent forgets an ended session
    page->serverField()->setText(m_server.url().toString());
    page->emailField()->clear();
    QTest::keyClicks(page->emailField(), email);
    QTest::keyClicks(page->passwordField(), password);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
    // The password does not stay in the form once it has been sent.
    QVERIFY(page->passwordField()->text().isEmpty());
}

std::pair<QString, QString> TestAppEndToEnd::loginAs(const QString& email, const Device& device)
{
    nlohmann::json body{{"email", email.toStdString()}, {"password", kPassword.toStdString()}};
    if (*device.name) {
        body["deviceInfo"] = {
            {"type", device.type}, {"name", device.name}, {"os", device.os}, {"browser", device.browser}};
    }
    auto r = ApiClient(m_server.url())
                 .request("POST", "/api/auth/login", body, {}, {{"User-Agent", "curl/7.88 (test)"}});
    if (r.status != 200)
        qWarning("login as %s failed: %d %s", device.type, r.status, r.body.constData());
    return {QString::fromStdString(r.str("sessionId")), QString::fromStdString(r.str("accessToken"))};
}

int TestAppEndToEnd::httpStatus(const QByteArray& method, const QByteArray& path, const QString& bearer)
{
    return ApiClient(m_server.url()).request(method, path, nullptr, bearer.toUtf8()).status;
}

void TestAppEndToEnd::reloadAndWait()
{
    QSignalSpy reloaded(m_app.window->sessionsPage(), &SessionsPage::reloaded);
    m_app.window->sessionsPage()->reload();
    QVERIFY(reloaded.wait(10000));
}

void TestAppEndToEnd::signsInThroughTheForm()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
    SessionListModel* model = m_app.window->sessionModel();
    QCOMPARE(model->rowCount(), 1);
    QVERIFY(model->index(0).data(SessionListModel::IsCurrentRole).toBool());
    QVERIFY(!m_app.window->sessionsPage()->signOutOthersButton()->isEnabled());
    // The list has the focus and a current row before any key is pressed, and says its keys.
    QListView* view = m_app.window->sessionsPage()->view();
    QCOMPARE(view->currentIndex().row(), 0);
    bool keysShown = false;
    for (QLabel* l : m_app.window->sessionsPage()->findChildren<QLabel*>())
        keysShown =
            keysShown || (l->isVisibleTo(m_app.window.get()) && l->text().contains(QStringLiteral("F2")) &&
                          l->text().contains(QStringLiteral("Delete")));
    QVERIFY(keysShown);
}

void TestAppEndToEnd::wrongPasswordIsShownInline()
{
    signInThroughUi(m_email, QStringLiteral("not the password"));
    SignInPage* page = m_app.window->signInPage();
    QTRY_VERIFY_WITH_TIMEOUT(page->errorLabel()->isVisibleTo(page), 15000);
    QCOMPARE(page->errorLabel()->text(), QStringLiteral("The email or password is not correct."));
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    QVERIFY(page->passwordField()->text().isEmpty());
}

void TestAppEndToEnd::listShowsEveryDeviceWithItsIcon()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QStringList others;
    for (const Device& d : kDevices)
        others << loginAs(m_email, d).first;
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1 + int(std::size(kDevices)), 10000);
    QVERIFY(model->index(0).data(SessionListModel::IsCurrentRole).toBool());
    for (int i = 0; i < int(std::size(kDevices)); ++i) {
        const int row = model->rowOf(others[i]);
        QVERIFY2(row > 0, qPrintable(others[i]));
        const QModelIndex index = model->index(row);
        QVERIFY(!index.data(SessionListModel::IsCurrentRole).toBool());
        // The last device sent no deviceInfo: the server parses the User-Agent (curl: unknown).
        QCOMPARE(index.data(SessionListModel::DeviceTypeRole).toString(),
                 QString::fromLatin1(kDevices[i].type));
        QCOMPARE(DeviceIcons::resourcePath(index.data(SessionListModel::DeviceTypeRole).toString()),
                 QStringLiteral(":/icons/device-%1.svg").arg(QLatin1String(kDevices[i].type)));
        if (*kDevices[i].name)
            QCOMPARE(index.data(SessionListModel::TitleRole).toString(),
                     QString::fromLatin1(kDevices[i].name));
    }
    // Every row is laid out and painted without a hiccup.
    QVERIFY(!m_app.window->sessionsPage()->view()->grab().isNull());
}

void TestAppEndToEnd::deviceNamesShowAsText()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    // Whoever signs in chooses the device name (and User-Agent): markup in it stays text.
    const char* hostile = "<b>x</b><img src=\"file:///etc/hostname\">";
    const auto [id, token] = loginAs(m_email, Device{"mobile", hostile, "iOS 17.1", "Safari 17.1"});
    QVERIFY(!id.isEmpty());
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
    QListView* view = m_app.window->sessionsPage()->view();
    const QModelIndex index = model->index(model->rowOf(id));
    QCOMPARE(index.data(SessionListModel::TitleRole).toString(), QString::fromUtf8(hostile));
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.rect = view->visualRect(index);
    const QRect button =
        m_app.window->sessionsPage()->delegate()->buttonRect(option, index, SessionDelegate::Button::Revoke);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, button.center());
    QPointer<QMessageBox> box =
        m_app.window->sessionsPage()->findChild<QMessageBox*>(QStringLiteral("confirmRevoke"));
    QVERIFY(box);
    QCOMPARE(box->textFormat(), Qt::PlainText);
    QVERIFY2(box->text().contains(QString::fromUtf8(hostile)), qPrintable(box->text()));
    // What is on screen is the literal text: the dialog's label shows the tags, not bold or an image.
    bool shownLiterally = false;
    for (const QLabel* label : box->findChildren<QLabel*>()) {
        if (label->text().contains(QStringLiteral("<img")))
            shownLiterally = shownLiterally || label->textFormat() == Qt::PlainText;
    }
    QVERIFY(shownLiterally);
    QAbstractButton* confirm = nullptr;
    for (QAbstractButton* b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            confirm = b;
    }
    QVERIFY(confirm);
    confirm->click();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    // The banner that names the device is plain text too.
    QLabel* banner = m_app.window->sessionsPage()->banner();
    QVERIFY(banner->text().contains(QString::fromUtf8(hostile)));
    QCOMPARE(banner->textFormat(), Qt::PlainText);
}

void TestAppEndToEnd::revokeAfterConfirmationRemovesTheRow()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    const auto [phoneId, phoneToken] = loginAs(m_email, kDevices[0]);
    QCOMPARE(httpStatus("GET", "/api/sessions", phoneToken), 200);
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);

    // Click the row's "Sign out" button, as a person would.
    QListView* view = m_app.window->sessionsPage()->view();
    const QModelIndex index = model->index(model->rowOf(phoneId));
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.rect = view->visualRect(index);
    const QRect button =
        m_app.window->sessionsPage()->delegate()->buttonRect(option, index, SessionDelegate::Button::Revoke);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, button.center());
    // The row whose button was clicked is the selected one while its dialog is open.
    QCOMPARE(view->currentIndex().row(), model->rowOf(phoneId));
    QVERIFY(view->selectionModel()->isSelected(index));
    auto* box = m_app.window->sessionsPage()->findChild<QMessageBox*>(QStringLiteral("confirmRevoke"));
    QVERIFY(box);
    QVERIFY(box->text().contains(QStringLiteral("iPhone")));
    // Enough to decide: when and where the phone was last used.
    QVERIFY2(box->informativeText().startsWith(QStringLiteral("Last active ")) &&
                 box->informativeText().contains(QStringLiteral("at 127.0.0.1 · St Mary's, Ward 3.")),
             qPrintable(box->informativeText()));
    QAbstractButton* confirm = nullptr;
    for (QAbstractButton* b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            confirm = b;
    }
    QVERIFY(confirm);
    confirm->click();

    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QCOMPARE(model->rowOf(phoneId), -1);
    QVERIFY(m_app.window->sessionsPage()->banner()->text().contains(QStringLiteral("iPhone")));
    // The server agrees: the phone's token no longer works.
    auto r = ApiClient(m_server.url()).request("GET", "/api/sessions", nullptr, phoneToken.toUtf8());
    QCOMPARE(r.status, 401);
    QCOMPARE(QString::fromStdString(r.str("error")), QStringLiteral("session_revoked"));
}

void TestAppEndToEnd::signOutOthersNeedsThePassword()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QStringList tokens;
    for (int i = 0; i < 3; ++i)
        tokens << loginAs(m_email, kDevices[i]).second;
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, 10000);
    SessionsPage* page = m_app.window->sessionsPage();
    QVERIFY(page->signOutOthersButton()->isEnabled());

    // Wrong password: an inline error, the dialog stays, nothing is signed out.
    QTest::mouseClick(page->signOutOthersButton(), Qt::LeftButton);
    auto* dialog = page->findChild<PasswordDialog*>(QStringLiteral("confirmSignOutOthers"));
    QVERIFY(dialog);
    // It says which devices it will end.
    auto* explanation = dialog->findChild<QLabel*>(QStringLiteral("explanation"));
    QVERIFY(explanation);
    QVERIFY2(explanation->text().startsWith(QStringLiteral("3 other devices will be signed out: ")),
             qPrintable(explanation->text()));
    for (int i = 0; i < 3; ++i)
        QVERIFY2(explanation->text().contains(QString::fromLatin1(kDevices[i].name)),
                 qPrintable(explanation->text()));
    QTest::keyClicks(dialog->passwordField(), QStringLiteral("wrong password"));
    QTest::keyClick(dialog->passwordField(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->errorLabel()->isVisibleTo(dialog), 10000);
    QVERIFY(dialog->isVisible());
    QVERIFY(dialog->passwordField()->text().isEmpty());
    for (const QString& t : tokens)
        QCOMPARE(httpStatus("GET", "/api/sessions", t), 200);
    reloadAndWait();
    QCOMPARE(model->rowCount(), 4);

    // The right one: only this device is left, and the page says how many were signed out.
    QPointer<PasswordDialog> guard(dialog);
    QTest::keyClicks(dialog->passwordField(), kPassword);
    QTest::keyClick(dialog->passwordField(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(guard.isNull() || !guard->isVisible(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QVERIFY(model->index(0).data(SessionListModel::IsCurrentRole).toBool());
    QCOMPARE(page->banner()->text(), QStringLiteral("Signed out 3 other devices."));
    for (const QString& t : tokens)
        QCOMPARE(httpStatus("GET", "/api/sessions", t), 401);
}

void TestAppEndToEnd::agentSignOutReturnsToSignIn()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    // Another program of the user signs the agent out: the app follows the agent's event.
    auto r = m_app.agent->cli({QStringLiteral("logout")});
    QCOMPARE(r.exitCode, 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 10000);
    QCOMPARE(m_app.window->signInPage()->reasonLabel()->text(), QStringLiteral("You signed out."));
}

void TestAppEndToEnd::signOutSeenThroughATokenRequestGivesTheReason()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
    {
        // The agent signs out, but the app learns it from a token request rather than the event
        // (the two race; here the event is held back to make the order certain).
        const QSignalBlocker holdEvents(m_app.connection.get());
        QCOMPARE(m_app.agent->cli({QStringLiteral("logout")}).exitCode, 0);
        m_app.window->sessionsPage()->reload();
        QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 10000);
    }
    QCOMPARE(m_app.window->signInPage()->reasonLabel()->text(), QStringLiteral("You signed out."));
}

void TestAppEndToEnd::sessionEndedElsewhereReturnsToSignInWithReason()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionModel()->rowCount(), 1, 10000);
    const QString mine = m_app.window->sessionModel()->index(0).data(SessionListModel::IdRole).toString();
    QVERIFY(!mine.isEmpty());
    // From another device, end this one.
    const auto [otherId, otherToken] = loginAs(m_email, kDevices[2]);
    QCOMPARE(httpStatus("DELETE", "/api/sessions/" + mine.toUtf8(), otherToken), 200);
    // The next reload gets a 401; a fresh token from the agent does not help either.
    m_app.window->sessionsPage()->reload();
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 10000);
    QCOMPARE(m_app.window->signInPage()->reasonLabel()->text(),
             QStringLiteral("Your session was ended from another device. Sign in again to continue."));
    // And signing in again works (the agent forgot the dead session).
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
}

std::pair<QByteArray, QStringList> TestAppEndToEnd::enableTotp(const QString& email)
{
    ApiClient api(m_server.url());
    auto first = api.request("POST", "/api/auth/login",
                             {{"email", email.toStdString()}, {"password", kPassword.toStdString()}});
    if (first.status != 200)
        return {};
    const QByteArray access = QByteArray::fromStdString(first.str("accessToken"));
    auto setup = api.request("POST", "/api/auth/mfa/setup", {{"password", kPassword.toStdString()}}, access);
    auto secret = ehrs::server::Totp::base32Decode(QString::fromStdString(setup.str("secret")));
    if (setup.status != 200 || !secret)
        return {};
    const QString code = ehrs::server::Totp::code(*secret, QDateTime::currentSecsSinceEpoch());
    auto enabled = api.request("POST", "/api/auth/mfa/enable", {{"code", code.toStdString()}}, access);
    if (enabled.status != 200)
        return {};
    QStringList backup;
    for (const auto& c : enabled.json["backupCodes"])
        backup << QString::fromStdString(c.get<std::string>());
    return {*secret, backup};
}

void TestAppEndToEnd::press(Qt::Key key, Qt::KeyboardModifiers modifiers)
{
    QWidget* target = QApplication::focusWidget();
    QVERIFY2(target, "nothing has the keyboard focus");
    QTest::keyClick(target, key, modifiers);
}

void TestAppEndToEnd::type(const QString& text)
{
    QWidget* target = QApplication::focusWidget();
    QVERIFY2(target, "nothing has the keyboard focus");
    QTest::keyClicks(target, text);
}

void TestAppEndToEnd::signInAsksForTheCodeWhenTwoFactorIsOn()
{
    const auto [secret, backupCodes] = enableTotp(m_email);
    QVERIFY(!secret.isEmpty());
    QCOMPARE(backupCodes.size(), 10);
    SignInPage* page = m_app.window->signInPage();

    signInThroughUi(m_email, kPassword);
    QTRY_VERIFY_WITH_TIMEOUT(page->isAskingForCode(), 15000);
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    QVERIFY(page->codeField()->isVisibleTo(page));
    QVERIFY(!page->passwordField()->isVisibleTo(page));

    // A wrong code: an inline error, still on the code step, the field emptied for the next try.
    QTest::keyClicks(page->codeField(), QStringLiteral("000000"));
    QTest::mouseClick(page->verifyButton(), Qt::LeftButton);
    QVERIFY(page->codeField()->text().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(page->errorLabel()->isVisibleTo(page) && page->verifyButton()->isEnabled(),
                             10000);
    QCOMPARE(page->errorLabel()->text(),
             QStringLiteral("That code is not correct, or it has expired. Try the current code."));
    QVERIFY(page->isAskingForCode());
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    QVERIFY(m_app.agent->cli({QStringLiteral("token")}).exitCode != 0);

    // The right one (the next time step: the enrolment used the current one, and codes are single use).
    const QString code = ehrs::server::Totp::code(secret, QDateTime::currentSecsSinceEpoch() + 30);
    QTest::keyClicks(page->codeField(), code);
    QTest::keyClick(page->codeField(), Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QVERIFY(page->codeField()->text().isEmpty());
    QCOMPARE(m_app.agent->cli({QStringLiteral("token")}).exitCode, 0);

    // Signed out, then back in with a backup code instead of the authenticator.
    QCOMPARE(m_app.agent->cli({QStringLiteral("logout")}).exitCode, 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 10000);
    QVERIFY(!page->isAskingForCode());
    signInThroughUi(m_email, kPassword);
    QTRY_VERIFY_WITH_TIMEOUT(page->isAskingForCode(), 15000);
    QTest::keyClicks(page->codeField(), backupCodes.first());
    QTest::keyClick(page->codeField(), Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);

    // That backup code is spent: the server refuses it a second time.
    ApiClient api(m_server.url());
    auto login = api.request("POST", "/api/auth/login",
                             {{"email", m_email.toStdString()}, {"password", kPassword.toStdString()}});
    QCOMPARE(login.status, 200);
    auto reuse =
        api.request("POST", "/api/auth/verify-mfa",
                    {{"mfaToken", login.str("mfaToken")}, {"code", backupCodes.first().toStdString()}});
    QCOMPARE(reuse.status, 401);
}

void TestAppEndToEnd::rateLimitedSignInShowsTheWait()
{
    // Ten failed attempts (the server's default per-account limit in 15 minutes) from elsewhere.
    ApiClient api(m_server.url());
    for (int i = 0; i < 10; ++i) {
        auto r = api.request("POST", "/api/auth/login",
                             {{"email", m_email.toStdString()}, {"password", "guess " + std::to_string(i)}});
        QCOMPARE(r.status, 401);
    }
    SignInPage* page = m_app.window->signInPage();
    signInThroughUi(m_email, kPassword); // even the right password waits now
    QTRY_VERIFY_WITH_TIMEOUT(page->isHoldingOff(), 15000);
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    QVERIFY(page->errorLabel()->isVisibleTo(page));
    // It says the server's wait: ask the server directly (a right password is not counted as a failure).
    auto direct = api.request("POST", "/api/auth/login",
                              {{"email", m_email.toStdString()}, {"password", kPassword.toStdString()}});
    QCOMPARE(direct.status, 429);
    const int retryAfter = direct.header("retry-after").toInt();
    QVERIFY(retryAfter > 0);
    const QString text = page->errorLabel()->text();
    bool matches = false;
    for (int w = retryAfter; w <= retryAfter + 5 && !matches; ++w) // the UI asked a moment earlier
        matches = text == QStringLiteral("Too many attempts. Try again in %1.").arg(describeWait(w));
    QVERIFY2(matches, qPrintable(text + QStringLiteral(" / Retry-After: %1").arg(retryAfter)));
    // The wait holds: the button is off, and Return in the password field sends nothing.
    QVERIFY(!page->signInButton()->isEnabled());
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::keyClick(page->passwordField(), Qt::Key_Return);
    QCOMPARE(page->passwordField()->text(), kPassword); // not taken, so not cleared
    QTest::qWait(300);
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    QVERIFY(page->isHoldingOff());
    QVERIFY(m_app.agent->cli({QStringLiteral("token")}).exitCode != 0);
    // The command line says how long, too.
    auto cli = m_app.agent->cli({QStringLiteral("login"), QStringLiteral("--server"), m_server.url().toString(),
                             QStringLiteral("--password-stdin"), m_email},
                            kPassword.toUtf8() + "\n");
    QVERIFY(cli.exitCode != 0);
    QVERIFY2(cli.err.contains("sign-in failed") && cli.err.contains("(try again in "), cli.err.constData());
}

void TestAppEndToEnd::keyboardOnlySignInAndRevoke()
{
    QApplication::setActiveWindow(m_app.window.get());
    QVERIFY(QTest::qWaitForWindowActive(m_app.window.get()));
    SignInPage* page = m_app.window->signInPage();
    page->serverField()->setText(m_server.url().toString()); // remembered from an earlier sign-in
    page->emailField()->clear();
    page->reset({});
    // Focus starts in the first empty field; Tab walks server -> email -> password -> Sign in.
    QCOMPARE(QApplication::focusWidget(), page->emailField());
    press(Qt::Key_Backtab);
    QCOMPARE(QApplication::focusWidget(), page->serverField());
    press(Qt::Key_Tab);
    QCOMPARE(QApplication::focusWidget(), page->emailField());
    type(m_email);
    press(Qt::Key_Tab);
    QCOMPARE(QApplication::focusWidget(), page->passwordField());
    type(kPassword);
    press(Qt::Key_Tab);
    QCOMPARE(QApplication::focusWidget(), static_cast<QWidget*>(page->signInButton()));
    press(Qt::Key_Space);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);

    const auto [phoneId, phoneToken] = loginAs(m_email, kDevices[0]);
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);

    // Tab reaches the list of devices; arrow keys pick the phone; Delete asks; the keyboard confirms.
    SessionsPage* sessions = m_app.window->sessionsPage();
    QListView* view = sessions->view();
    for (int i = 0; i < 10 && QApplication::focusWidget() != view; ++i)
        press(Qt::Key_Tab);
    QCOMPARE(QApplication::focusWidget(), static_cast<QWidget*>(view));
    press(Qt::Key_Home);
    for (int i = 0; i < model->rowCount() && view->currentIndex().row() != model->rowOf(phoneId); ++i)
        press(Qt::Key_Down);
    QCOMPARE(view->currentIndex().row(), model->rowOf(phoneId));
    press(Qt::Key_Delete);
    auto* box = sessions->findChild<QMessageBox*>(QStringLiteral("confirmRevoke"));
    QVERIFY(box);
    QTRY_VERIFY(box->isVisible());
    // Cancel is the default: Return alone must not sign anything out.
    QVERIFY(box->defaultButton() == box->button(QMessageBox::Cancel));
    QApplication::setActiveWindow(box);
    QVERIFY(QTest::qWaitForWindowActive(box));
    QAbstractButton* signOut = nullptr;
    for (QAbstractButton* b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            signOut = b;
    }
    QVERIFY(signOut);
    for (int i = 0; i < 5 && QApplication::focusWidget() != signOut; ++i)
        press(Qt::Key_Tab);
    QCOMPARE(QApplication::focusWidget(), static_cast<QWidget*>(signOut));
    press(Qt::Key_Space);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QCOMPARE(httpStatus("GET", "/api/sessions", phoneToken), 401);

    // Ctrl+Tab reaches the Security page without the mouse.
    QTabWidget* tabs = m_app.window->tabs();
    const int before = tabs->currentIndex();
    tabs->setFocus();
    QTest::keyClick(tabs, Qt::Key_Tab, Qt::ControlModifier);
    QCOMPARE(tabs->currentIndex(), (before + 1) % tabs->count());
}

namespace {
/// Focusable controls a screen reader could not name: no accessible name and no text of their own.
QStringList unnamedControls(QWidget* root)
{
    QStringList unnamed;
    for (QWidget* w : root->findChildren<QWidget*>()) {
        if (!w->isVisibleTo(root) || w->focusPolicy() == Qt::NoFocus || !w->isEnabled())
            continue;
        if (qobject_cast<QTabBar*>(w))
            continue; // named by its tabs' texts
        QAccessibleInterface* iface = QAccessible::queryAccessibleInterface(w);
        const QString name = iface ? iface->text(QAccessible::Name) : QString();
        if (name.trimmed().isEmpty())
            unnamed << QStringLiteral("%1 '%2'").arg(QLatin1String(w->metaObject()->className()),
                                                     w->objectName());
    }
    return unnamed;
}
} // namespace

void TestAppEndToEnd::everyControlHasAnAccessibleName()
{
    QStringList missing = unnamedControls(m_app.window->signInPage());
    QVERIFY2(missing.isEmpty(), qPrintable(u"sign-in: "_s + missing.join(u", ")));
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
    for (int i = 0; i < m_app.window->tabs()->count(); ++i) {
        m_app.window->tabs()->setCurrentIndex(i);
        QTest::qWait(200); // let the page load what it shows
        missing = unnamedControls(m_app.window.get());
        QVERIFY2(missing.isEmpty(), qPrintable(m_app.window->tabs()->tabText(i) + u": "_s + missing.join(u", ")));
    }
}

void TestAppEndToEnd::renameInlineWithTheKeyboard()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    const auto [phoneId, phoneToken] = loginAs(m_email, kDevices[0]);
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
    QListView* view = m_app.window->sessionsPage()->view();
    view->setFocus();
    view->setCurrentIndex(model->index(model->rowOf(phoneId)));
    QTest::keyClick(view, Qt::Key_F2);
    auto* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
    QVERIFY2(editor && view->isAncestorOf(editor), "F2 opens an inline editor");
    QCOMPARE(editor->accessibleName(), QStringLiteral("Session name"));
    // It opens on the name the row shows, selected, so typing replaces it.
    QCOMPARE(editor->text(), QStringLiteral("iPhone"));
    QCOMPARE(editor->selectedText(), QStringLiteral("iPhone"));
    QSignalSpy renameSpy(model, &SessionListModel::renameRequested);
    editor->selectAll();
    QTest::keyClicks(editor, QStringLiteral("Night-shift phone"));
    QTest::keyClick(editor, Qt::Key_Return);
    QTRY_COMPARE(renameSpy.count(), 1); // the delegate commits on the next turn of the event loop
    // The row shows the new name at once, and the server gets it.
    QCOMPARE(renameSpy.at(0).at(0).toString(), phoneId);
    QCOMPARE(model->index(model->rowOf(phoneId)).data(SessionListModel::TitleRole).toString(),
             QStringLiteral("Night-shift phone"));
    auto serverName = [&] {
        auto list = ApiClient(m_server.url()).request("GET", "/api/sessions", nullptr, phoneToken.toUtf8());
        for (const auto& s : list.json["sessions"]) {
            if (s.value("id", "") == phoneId.toStdString())
                return QString::fromStdString(s.value("name", std::string()));
        }
        return QStringLiteral("<no such session>");
    };
    QTRY_COMPARE_WITH_TIMEOUT(serverName(), QStringLiteral("Night-shift phone"), 10000);
    // The page confirms it, once the server has it.
    QLabel* banner = m_app.window->sessionsPage()->banner();
    QTRY_COMPARE_WITH_TIMEOUT(banner->text(), QStringLiteral("Renamed to “Night-shift phone”."), 10000);
    QVERIFY(banner->isVisibleTo(m_app.window.get()));
    reloadAndWait();
    QCOMPARE(model->index(model->rowOf(phoneId)).data(SessionListModel::TitleRole).toString(),
             QStringLiteral("Night-shift phone"));
    // Escape abandons an edit: nothing is sent.
    view->setFocus();
    QTest::keyClick(view, Qt::Key_F2);
    editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, QStringLiteral("Abandoned"));
    QTest::keyClick(editor, Qt::Key_Escape);
    QTest::qWait(100);
    QCOMPARE(renameSpy.count(), 1);
    reloadAndWait();
    QCOMPARE(serverName(), QStringLiteral("Night-shift phone"));
    QCOMPARE(model->index(model->rowOf(phoneId)).data(SessionListModel::TitleRole).toString(),
             QStringLiteral("Night-shift phone"));
}

void TestAppEndToEnd::unreachableServerIsShownInline()
{
    // A port nothing listens on: find one by binding and releasing it.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const QString dead = QStringLiteral("http://127.0.0.1:%1").arg(probe.serverPort());
    probe.close();
    SignInPage* page = m_app.window->signInPage();
    page->serverField()->setText(dead);
    page->emailField()->setText(m_email);
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page->errorLabel()->isVisibleTo(page) && page->signInButton()->isEnabled(),
                             20000);
    QCOMPARE(page->errorLabel()->text(),
             QStringLiteral("Cannot reach the server at %1. Check the address and your network connection.")
                 .arg(dead));
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
    QVERIFY(page->passwordField()->text().isEmpty());

    // Not a server address at all: said before anything is sent.
    page->serverField()->setText(QStringLiteral("ftp://files.example"));
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
    QCOMPARE(page->errorLabel()->text(),
             QStringLiteral("Enter the server address, for example https://sessions.hospital.example"));
    QCOMPARE(QApplication::focusWidget() == page->serverField() || !m_app.window->isActiveWindow(), true);
}

void TestAppEndToEnd::serverAddressIsRemembered()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    // The next start of the app (a new window, same settings) offers the same server and email.
    MainWindow next(m_app.connection.get(), m_app.api.get());
    QCOMPARE(next.signInPage()->serverField()->text(), m_server.url().toString());
    QCOMPARE(next.signInPage()->emailField()->text(), m_email);
    QVERIFY(next.signInPage()->passwordField()->text().isEmpty());
}

void TestAppEndToEnd::ownDeviceMessageNamesTheRealControl()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionModel()->rowCount(), 1, 10000);
    SessionsPage* page = m_app.window->sessionsPage();
    QListView* view = page->view();
    view->setFocus();
    view->setCurrentIndex(m_app.window->sessionModel()->index(0)); // this device
    QTest::keyClick(view, Qt::Key_Delete);
    const QString text = page->banner()->text();
    QVERIFY(page->banner()->isVisibleTo(m_app.window.get()));
    // The message names a control in quotes, and that control is on screen and signs out.
    const QRegularExpression quoted(QStringLiteral("“([^”]+)”"));
    const auto match = quoted.match(text);
    QVERIFY2(match.hasMatch(), qPrintable(text));
    QPushButton* named = nullptr;
    for (QPushButton* b : m_app.window->findChildren<QPushButton*>()) {
        if (b->isVisibleTo(m_app.window.get()) && QString(b->text()).remove(u'&') == match.captured(1))
            named = b;
    }
    QVERIFY2(named, qPrintable(u"no visible button called "_s + match.captured(1)));
    QTest::mouseClick(named, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 10000);
}

void TestAppEndToEnd::noMnemonicIsUsedTwiceOnAnyPageOrDialog()
{
    MainWindow* window = m_app.window.get();
    // Alt+letter claimed twice in the window (or dialog) `w`, as "where: Alt+X: A / B".
#define EHRS_CHECK_MNEMONICS(w, where)                                                                       \
    do {                                                                                                     \
        const QStringList dup = ehrs::app::test::duplicateMnemonics(w);                                      \
        QVERIFY2(dup.isEmpty(), qPrintable(QString(where) + u": "_s + dup.join(u"; ")));                     \
    } while (false)
    EHRS_CHECK_MNEMONICS(window, u"sign-in"_s);
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::Main, 15000);
    loginAs(m_email, kDevices[0]);
    reloadAndWait();
    SessionsPage* sessions = window->sessionsPage();
    QTRY_COMPARE_WITH_TIMEOUT(window->sessionModel()->rowCount(), 2, 10000);
    EHRS_CHECK_MNEMONICS(window, u"Active sessions"_s);

    // The dialogs of the Sessions page.
    sessions->confirmSignOutOthers();
    QPointer<PasswordDialog> others = sessions->findChild<PasswordDialog*>(u"confirmSignOutOthers"_s);
    QVERIFY(others);
    EHRS_CHECK_MNEMONICS(others, u"Sign out all other devices"_s);
    others->reject();
    sessions->confirmRevoke(1);
    QPointer<QMessageBox> revoke = sessions->findChild<QMessageBox*>(u"confirmRevoke"_s);
    QVERIFY(revoke);
    EHRS_CHECK_MNEMONICS(revoke, u"Sign out device"_s);
    revoke->reject();

    // The Security page with two-step verification off, and its dialog.
    SecurityPage* security = window->securityPage();
    {
        QSignalSpy loaded(security, &SecurityPage::accountLoaded);
        window->tabs()->setCurrentWidget(security);
        QVERIFY(loaded.wait(10000));
    }
    QVERIFY(security->turnOnButton()->isVisibleTo(window));
    EHRS_CHECK_MNEMONICS(window, u"Security (two-step off)"_s);
    security->beginTotpSetup();
    QPointer<PasswordDialog> enable = security->findChild<PasswordDialog*>(u"confirmEnableTotp"_s);
    QVERIFY(enable);
    EHRS_CHECK_MNEMONICS(enable, u"Turn on two-step verification"_s);
    QTest::keyClicks(enable->passwordField(), kPassword);
    QTest::keyClick(enable->passwordField(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(security->totpPanel()->isVisibleTo(window), 10000);
    EHRS_CHECK_MNEMONICS(window, u"Security (setting up two-step)"_s);
    security->totpPanel()->reset();
    security->totpPanel()->setVisible(false);

    // With two-step verification on (turned on elsewhere): the page and the dialog that turns it off.
    QVERIFY(!enableTotp(m_email).first.isEmpty());
    {
        QSignalSpy loaded(security, &SecurityPage::accountLoaded);
        security->reload();
        QVERIFY(loaded.wait(10000));
    }
    QTRY_VERIFY_WITH_TIMEOUT(security->turnOffButton()->isVisibleTo(window), 10000);
    EHRS_CHECK_MNEMONICS(window, u"Security (two-step on)"_s);
    QTest::mouseClick(security->turnOffButton(), Qt::LeftButton);
    QPointer<PasswordDialog> disable = security->findChild<PasswordDialog*>(u"confirmDisableTotp"_s);
    QVERIFY(disable);
    EHRS_CHECK_MNEMONICS(disable, u"Turn off two-step verification"_s);
    disable->reject();

    // Signed out: the sign-in page again, then its code step.
    QCOMPARE(m_app.agent->cli({u"logout"_s}).exitCode, 0);
    QTRY_COMPARE_WITH_TIMEOUT(window->page(), MainWindow::Page::SignIn, 10000);
    EHRS_CHECK_MNEMONICS(window, u"sign-in (signed out)"_s);
    signInThroughUi(m_email, kPassword);
    QTRY_VERIFY_WITH_TIMEOUT(window->signInPage()->isAskingForCode(), 15000);
    EHRS_CHECK_MNEMONICS(window, u"sign-in (code step)"_s);
#undef EHRS_CHECK_MNEMONICS
}

void TestAppEndToEnd::devicesShowAsPeopleKnowThem()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    // A phone that names itself by its model code, and one the server knows only by its User-Agent.
    const auto [namedId, namedToken] =
        loginAs(m_email, Device{"mobile", "SM-S918B", "Android 14", "Chrome 120"});
    QVERIFY(!namedId.isEmpty());
    auto browser =
        ApiClient(m_server.url())
            .request("POST", "/api/auth/login",
                     {{"email", m_email.toStdString()}, {"password", kPassword.toStdString()}}, {},
                     {{"User-Agent", "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, "
                                     "like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"}});
    QCOMPARE(browser.status, 200);
    const QString browserId = QString::fromStdString(browser.str("sessionId"));
    reloadAndWait();
    SessionListModel* model = m_app.window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 3, 10000);

    // This computer, by the name the agent reported (its host name), without the agent's version.
    const QModelIndex mine = model->index(0);
    QVERIFY(mine.data(SessionListModel::IsCurrentRole).toBool());
    QCOMPARE(mine.data(SessionListModel::TitleRole).toString(),
             QStringLiteral("This computer (%1)").arg(QSysInfo::machineHostName()));
    const QString deviceLine = mine.data(SessionListModel::DeviceLineRole).toString();
    QVERIFY2(!deviceLine.contains(QStringLiteral("EHR Sessions Agent")), qPrintable(deviceLine));
    QVERIFY2(deviceLine.contains(QSysInfo::prettyProductName()) ||
                 deviceLine == QStringLiteral("Desktop computer") || deviceLine == QStringLiteral("Laptop"),
             qPrintable(deviceLine));
    // Phones by their marketing names.
    QCOMPARE(model->index(model->rowOf(namedId)).data(SessionListModel::TitleRole).toString(),
             QStringLiteral("Galaxy S23 Ultra"));
    QCOMPARE(model->index(model->rowOf(browserId)).data(SessionListModel::TitleRole).toString(),
             QStringLiteral("Galaxy S23"));
    // Every row at the hospital says where it is, as IT named the network.
    for (int row = 0; row < model->rowCount(); ++row) {
        const QString network = model->index(row).data(SessionListModel::NetworkLineRole).toString();
        QVERIFY2(network.endsWith(QStringLiteral(" · St Mary's, Ward 3")), qPrintable(network));
    }
    // The header names the clinician, not an email and an address.
    QLabel* account = nullptr;
    for (QLabel* l : m_app.window->findChildren<QLabel*>()) {
        if (l->accessibleName() == QStringLiteral("Signed in as"))
            account = l;
    }
    QVERIFY(account);
    QTRY_COMPARE_WITH_TIMEOUT(account->text(), QStringLiteral("Signed in as Clinician %1").arg(m_users),
                              10000);
}

void TestAppEndToEnd::signInFormHoldsAtTheMinimumSize()
{
    MainWindow* window = m_app.window.get();
    window->resize(window->minimumSize());
    SignInPage* page = window->signInPage();
    // A reason that takes two lines, and an error under the form.
    page->reset(QStringLiteral(
        "Your session was ended because its sign-in was used from two places. Sign in again."));
    page->serverField()->setText(QStringLiteral("ftp://files.example"));
    page->emailField()->setText(m_email);
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
    QTRY_VERIFY(page->errorLabel()->isVisibleTo(page));
    QTRY_COMPARE(window->size(), window->minimumSize());
    QCoreApplication::processEvents();
    const QStringList clipped = ehrs::app::test::clippedTexts(page);
    QVERIFY2(clipped.isEmpty(), qPrintable(clipped.join(u"; ")));
}

void TestAppEndToEnd::presetServerHidesTheField()
{
    // No preset: the field is there, and not prefilled with a development address.
    {
        QSettings().remove(QStringLiteral("signIn/serverUrl")); // nothing remembered either
        MainWindow fresh(m_app.connection.get(), m_app.api.get());
        QVERIFY(fresh.signInPage()->serverField()->isVisibleTo(fresh.signInPage()));
        QCOMPARE(fresh.signInPage()->serverField()->text(), QString());
    }
    // IT presets the address in the system-wide client.conf: the app reads it and does not ask.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString conf = dir.filePath(QStringLiteral("client.conf"));
    {
        QFile f(conf);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[server]\nurl=" + m_server.url().toString().toUtf8() + "\n");
    }
    qputenv("EHRS_CLIENT_CONFIG", conf.toUtf8());
    auto unset = qScopeGuard([] { qunsetenv("EHRS_CLIENT_CONFIG"); });
    m_app.window.reset();
    m_app.window = std::make_unique<MainWindow>(m_app.connection.get(), m_app.api.get());
    m_app.window->show();
    m_app.window->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::SignIn, 15000);
    SignInPage* page = m_app.window->signInPage();
    QVERIFY(page->serverIsPreset());
    QVERIFY(!page->serverField()->isVisibleTo(page));
    for (QLabel* l : page->findChildren<QLabel*>())
        QVERIFY2(!(l->isVisibleTo(page) && l->buddy() == page->serverField()),
                 "the server's label is hidden too");
    page->emailField()->setText(m_email);
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    const auto status = m_app.agent->cli({QStringLiteral("status")});
    QVERIFY2(status.out.contains(m_server.url().toString().toUtf8()), status.out.constData());
}

QTEST_MAIN(TestAppEndToEnd)
#include "TestAppEndToEnd.moc"
