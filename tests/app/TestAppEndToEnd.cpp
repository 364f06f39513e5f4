// SPDX-License-Identifier: Apache-2.0
// The app against a real ehr-sessions-server and ehr-sessions-agent, driven through its widgets.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "ServerProcess.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "sessions/SessionDelegate.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "shell/DeviceIcons.h"
#include "shell/MainWindow.h"
#include "shell/PasswordDialog.h"
#include "signin/SignInPage.h"

#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace ehrs;
using namespace ehrs::app;
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
    void signOutOthersNeedsThePassword();
    void agentSignOutReturnsToSignIn();
    void sessionEndedElsewhereReturnsToSignInWithReason();

private:
    QString newUser();
    void signInThroughUi(const QString& email, const QString& password);
    /// Logs in over HTTP as another device; returns {sessionId, accessToken}.
    std::pair<QString, QString> loginAs(const QString& email, const Device& device);
    int httpStatus(const QByteArray& method, const QByteArray& path, const QString& bearer);
    void reloadAndWait();

    ServerProcess m_server;
    std::unique_ptr<AgentProcess> m_agent;
    std::unique_ptr<AgentConnection> m_connection;
    std::unique_ptr<ServerApi> m_api;
    std::unique_ptr<MainWindow> m_window;
    QString m_email;
    int m_users = 0;
};

void TestAppEndToEnd::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
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
    m_agent = std::make_unique<AgentProcess>();
    QVERIFY(m_agent->start());
    m_connection =
        std::make_unique<AgentConnection>(AgentConnection::Options{m_agent->socketPath(), {}, false});
    m_api = std::make_unique<ServerApi>(m_connection.get());
    m_window = std::make_unique<MainWindow>(m_connection.get(), m_api.get());
    m_window->show();
    m_window->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::SignIn, 15000);
}

void TestAppEndToEnd::cleanup()
{
    m_window.reset();
    m_api.reset();
    m_connection.reset();
    if (m_agent && QTest::currentTestFailed())
        qWarning("agent log:\n%s", m_agent->log().constData());
    m_agent.reset();
}

void TestAppEndToEnd::signInThroughUi(const QString& email, const QString& password)
{
    SignInPage* page = m_window->signInPage();
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
    QSignalSpy reloaded(m_window->sessionsPage(), &SessionsPage::reloaded);
    m_window->sessionsPage()->reload();
    QVERIFY(reloaded.wait(10000));
}

void TestAppEndToEnd::signsInThroughTheForm()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->sessionsPage()->state(), SessionsPage::State::List, 10000);
    SessionListModel* model = m_window->sessionModel();
    QCOMPARE(model->rowCount(), 1);
    QVERIFY(model->index(0).data(SessionListModel::IsCurrentRole).toBool());
    QVERIFY(!m_window->sessionsPage()->signOutOthersButton()->isEnabled());
}

void TestAppEndToEnd::wrongPasswordIsShownInline()
{
    signInThroughUi(m_email, QStringLiteral("not the password"));
    SignInPage* page = m_window->signInPage();
    QTRY_VERIFY_WITH_TIMEOUT(page->errorLabel()->isVisibleTo(page), 15000);
    QCOMPARE(page->errorLabel()->text(), QStringLiteral("The email or password is not correct."));
    QCOMPARE(m_window->page(), MainWindow::Page::SignIn);
    QVERIFY(page->passwordField()->text().isEmpty());
}

void TestAppEndToEnd::listShowsEveryDeviceWithItsIcon()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
    QStringList others;
    for (const Device& d : kDevices)
        others << loginAs(m_email, d).first;
    reloadAndWait();
    SessionListModel* model = m_window->sessionModel();
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
    QVERIFY(!m_window->sessionsPage()->view()->grab().isNull());
}

void TestAppEndToEnd::revokeAfterConfirmationRemovesTheRow()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
    const auto [phoneId, phoneToken] = loginAs(m_email, kDevices[0]);
    QCOMPARE(httpStatus("GET", "/api/sessions", phoneToken), 200);
    reloadAndWait();
    SessionListModel* model = m_window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);

    // Click the row's "Sign out" button, as a person would.
    QListView* view = m_window->sessionsPage()->view();
    const QModelIndex index = model->index(model->rowOf(phoneId));
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.rect = view->visualRect(index);
    const QRect button =
        m_window->sessionsPage()->delegate()->buttonRect(option, index, SessionDelegate::Button::Revoke);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, button.center());
    auto* box = m_window->sessionsPage()->findChild<QMessageBox*>(QStringLiteral("confirmRevoke"));
    QVERIFY(box);
    QVERIFY(box->text().contains(QStringLiteral("iPhone")));
    QAbstractButton* confirm = nullptr;
    for (QAbstractButton* b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            confirm = b;
    }
    QVERIFY(confirm);
    confirm->click();

    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QCOMPARE(model->rowOf(phoneId), -1);
    QVERIFY(m_window->sessionsPage()->banner()->text().contains(QStringLiteral("iPhone")));
    // The server agrees: the phone's token no longer works.
    auto r = ApiClient(m_server.url()).request("GET", "/api/sessions", nullptr, phoneToken.toUtf8());
    QCOMPARE(r.status, 401);
    QCOMPARE(QString::fromStdString(r.str("error")), QStringLiteral("session_revoked"));
}

void TestAppEndToEnd::signOutOthersNeedsThePassword()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
    QStringList tokens;
    for (int i = 0; i < 3; ++i)
        tokens << loginAs(m_email, kDevices[i]).second;
    reloadAndWait();
    SessionListModel* model = m_window->sessionModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, 10000);
    SessionsPage* page = m_window->sessionsPage();
    QVERIFY(page->signOutOthersButton()->isEnabled());

    // Wrong password: an inline error, the dialog stays, nothing is signed out.
    QTest::mouseClick(page->signOutOthersButton(), Qt::LeftButton);
    auto* dialog = page->findChild<PasswordDialog*>(QStringLiteral("confirmSignOutOthers"));
    QVERIFY(dialog);
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
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
    // Another program of the user signs the agent out: the app follows the agent's event.
    auto r = m_agent->cli({QStringLiteral("logout")});
    QCOMPARE(r.exitCode, 0);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::SignIn, 10000);
    QCOMPARE(m_window->signInPage()->reasonLabel()->text(), QStringLiteral("You signed out."));
}

void TestAppEndToEnd::sessionEndedElsewhereReturnsToSignInWithReason()
{
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->sessionModel()->rowCount(), 1, 10000);
    const QString mine = m_window->sessionModel()->index(0).data(SessionListModel::IdRole).toString();
    QVERIFY(!mine.isEmpty());
    // From another device, end this one.
    const auto [otherId, otherToken] = loginAs(m_email, kDevices[2]);
    QCOMPARE(httpStatus("DELETE", "/api/sessions/" + mine.toUtf8(), otherToken), 200);
    // The next reload gets a 401; a fresh token from the agent does not help either.
    m_window->sessionsPage()->reload();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::SignIn, 10000);
    QCOMPARE(m_window->signInPage()->reasonLabel()->text(),
             QStringLiteral("Your session was ended from another device. Sign in again to continue."));
    // And signing in again works (the agent forgot the dead session).
    signInThroughUi(m_email, kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->page(), MainWindow::Page::Main, 15000);
}

QTEST_MAIN(TestAppEndToEnd)
#include "TestAppEndToEnd.moc"
