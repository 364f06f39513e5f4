// SPDX-License-Identifier: Apache-2.0
// The app against a real ehr-sessions-server and ehr-sessions-agent: what protects an account,
// as the person sees it. The sign-in error counts down the last attempts and the lock-out shows
// IT's help text; the Security page lists the recent security activity; new backup codes come
// without turning two-step verification off, and can be copied (with feedback) or saved.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "AppUnderTest.h"
#include "ServerProcess.h"
#include "mfa/Totp.h"
#include "security/SecurityPage.h"
#include "security/TotpSetupPanel.h"
#include "sessions/SessionDelegate.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "shell/MainWindow.h"
#include "shell/PasswordDialog.h"
#include "shell/Theme.h"
#include "signin/SignInPage.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace ehrs;
using namespace ehrs::app;
using ehrs::server::Totp;
using ehrs::test::ApiClient;
using ehrs::test::ApiResponse;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("correct horse battery staple");
const QString kHelp = QStringLiteral("Call the service desk on 4444 (24 hours).");
const QString kPlace = QStringLiteral("St Mary's, Ward 3");
} // namespace

class TestAccountProtection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void signInCountsDownThenSaysWhatToDo();
    void securityPageListsRecentActivity();
    void newBackupCodesWithoutTurningTwoStepOff();
    void wideWindowKeepsButtonsNearTheirText();

private:
    QString newUser();
    /// Types the email and `password` into the sign-in form and presses Sign in.
    void submitSignIn(const QString& password);
    void signInThroughUi();
    SecurityPage* openSecurityPage();
    ApiResponse login(const QString& password, const char* deviceName,
                      const QList<QPair<QByteArray, QByteArray>>& headers = {});

    ServerProcess m_server;
    ehrs::app::test::AppUnderTest m_app;
    QString m_email;
    int m_users = 0;
};

void TestAccountProtection::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    m_server.setEnv(QStringLiteral("RATE_LIMIT_LOGIN_ACCOUNT"), QStringLiteral("5/900"));
    m_server.setEnv(QStringLiteral("LOCKOUT_HELP_TEXT"), kHelp);
    m_server.setEnv(QStringLiteral("NETWORK_LOCATIONS"),
                    QStringLiteral("127.0.0.0/8=St Mary's, Ward 3;::1=St Mary's, Ward 3"));
    QVERIFY(m_server.start());
}

QString TestAccountProtection::newUser()
{
    // Unique per run: the rate-limit counters may outlive a run (Redis).
    static const QString run = QString::number(QDateTime::currentMSecsSinceEpoch(), 36);
    const QString email = QStringLiteral("ward%1-%2@example.org").arg(++m_users).arg(run);
    if (!m_server.addUser(email, kPassword, QStringLiteral("Ward Nurse %1").arg(m_users)))
        return {};
    return email;
}

void TestAccountProtection::init()
{
    m_email = newUser();
    QVERIFY(!m_email.isEmpty());
    QVERIFY(m_app.open());
}

void TestAccountProtection::cleanup()
{
    m_app.close();
}

void TestAccountProtection::submitSignIn(const QString& password)
{
    SignInPage* page = m_app.window->signInPage();
    QTRY_VERIFY_WITH_TIMEOUT(page->signInButton()->isEnabled(), 10000);
    page->serverField()->setText(m_server.url().toString());
    page->emailField()->setText(m_email);
    QTest::keyClicks(page->passwordField(), password);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
}

void TestAccountProtection::signInThroughUi()
{
    submitSignIn(kPassword);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
}

SecurityPage* TestAccountProtection::openSecurityPage()
{
    SecurityPage* page = m_app.window->securityPage();
    QSignalSpy loaded(page, &SecurityPage::accountLoaded);
    m_app.window->tabs()->setCurrentWidget(page);
    if (!loaded.wait(10000))
        qWarning("the Security page did not load the account");
    return page;
}

ApiResponse TestAccountProtection::login(const QString& password, const char* deviceName,
                                         const QList<QPair<QByteArray, QByteArray>>& headers)
{
    nlohmann::json body{{"email", m_email.toStdString()}, {"password", password.toStdString()}};
    if (deviceName)
        body["deviceInfo"] = {{"type", "mobile"}, {"name", deviceName}, {"os", "iOS 17.1"}};
    return ApiClient(m_server.url()).request("POST", "/api/auth/login", body, {}, headers);
}

void TestAccountProtection::signInCountsDownThenSaysWhatToDo()
{
    SignInPage* page = m_app.window->signInPage();
    QLabel* error = page->errorLabel();
    // RATE_LIMIT_LOGIN_ACCOUNT=5/900: the count shows from 3 attempts left.
    const QStringList expected{
        QStringLiteral("The email or password is not correct."),
        QStringLiteral(
            "The email or password is not correct. 3 attempts left before sign-in is paused for a while."),
        QStringLiteral(
            "The email or password is not correct. 2 attempts left before sign-in is paused for a while."),
        QStringLiteral(
            "The email or password is not correct. 1 attempt left before sign-in is paused for a while."),
        QStringLiteral(
            "The email or password is not correct. That was the last attempt: sign-in is now paused "
            "for a while."),
    };
    for (int i = 0; i < expected.size(); ++i) {
        error->clear();
        submitSignIn(QStringLiteral("wrong password %1").arg(i));
        QTRY_VERIFY_WITH_TIMEOUT(!error->text().isEmpty() && page->signInButton()->isEnabled(), 15000);
        QCOMPARE(error->text(), expected.at(i));
    }
    // Now even the right password waits, and the page says what IT wants people to do.
    error->clear();
    submitSignIn(kPassword);
    QTRY_VERIFY_WITH_TIMEOUT(error->text().startsWith(QStringLiteral("Too many attempts. Try again in ")),
                             15000);
    QVERIFY2(error->text().endsWith(QLatin1Char(' ') + kHelp), qPrintable(error->text()));
    QVERIFY(error->isVisibleTo(page));
    QVERIFY(!page->signInButton()->isEnabled());
    QCOMPARE(m_app.window->page(), MainWindow::Page::SignIn);
}

void TestAccountProtection::securityPageListsRecentActivity()
{
    // Before this app signs in: a failed attempt from a browser, and a phone that signed in.
    QCOMPARE(login(QStringLiteral("not my password"), nullptr,
                   {{"User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36"}})
                 .status,
             401);
    QCOMPARE(login(kPassword, "iPhone").status, 200);
    signInThroughUi();
    SecurityPage* page = m_app.window->securityPage();
    QSignalSpy activity(page, &SecurityPage::activityLoaded);
    openSecurityPage();
    QTRY_VERIFY_WITH_TIMEOUT(!activity.isEmpty() && activity.last().at(0).toInt() >= 0, 10000);
    QTreeWidget* list = page->activityList();
    QVERIFY(list->isVisibleTo(page));
    QCOMPARE(list->topLevelItemCount(), 3);
    const auto row = [list](int i) {
        QStringList cells;
        for (int c = 0; c < 4; ++c)
            cells << list->topLevelItem(i)->text(c);
        return cells;
    };
    // Newest first: this app's sign-in, the phone's, the failure.
    QCOMPARE(row(0).mid(1, 2), (QStringList{QStringLiteral("Signed in"), QStringLiteral("This device")}));
    QCOMPARE(row(1).mid(1, 2),
             (QStringList{QStringLiteral("Signed in"), QStringLiteral("iPhone · iOS 17.1")}));
    QCOMPARE(row(2).at(1), QStringLiteral("Failed sign-in: wrong password"));
    QVERIFY2(row(2).at(2).contains(QStringLiteral("Windows")), qPrintable(row(2).join(u'|')));
    for (int i = 0; i < 3; ++i) {
        QVERIFY2(row(i).at(0).startsWith(QStringLiteral("Today ")), qPrintable(row(i).join(u'|')));
        QCOMPARE(row(i).at(3), kPlace);
        QVERIFY(list->topLevelItem(i)->toolTip(3).contains(QStringLiteral("127.0.0.1")));
    }
    // The failure stands out.
    QCOMPARE(list->topLevelItem(2)->foreground(1).color(), Theme::danger(page->palette()));
    QVERIFY(list->topLevelItem(0)->foreground(1).color() != Theme::danger(page->palette()));

    // A new event shows after Reload.
    QCOMPARE(login(QStringLiteral("still not it"), "iPhone").status, 401);
    activity.clear();
    auto* reloadButton = page->findChild<QPushButton*>(QStringLiteral("reloadActivity"));
    QVERIFY(reloadButton);
    QTest::mouseClick(reloadButton, Qt::LeftButton);
    QVERIFY(activity.wait(10000));
    QCOMPARE(list->topLevelItemCount(), 4);
    QCOMPARE(row(0).at(1), QStringLiteral("Failed sign-in: wrong password"));
}

void TestAccountProtection::newBackupCodesWithoutTurningTwoStepOff()
{
    signInThroughUi();
    SecurityPage* page = openSecurityPage();
    TotpSetupPanel* panel = page->totpPanel();
    // Two-step verification on, through the page.
    QSignalSpy ready(panel, &TotpSetupPanel::readyToScan);
    QTest::mouseClick(page->turnOnButton(), Qt::LeftButton);
    QPointer<PasswordDialog> confirm = page->findChild<PasswordDialog*>(QStringLiteral("confirmEnableTotp"));
    QVERIFY(confirm);
    QTest::keyClicks(confirm->passwordField(), kPassword);
    QTest::keyClick(confirm->passwordField(), Qt::Key_Return);
    QVERIFY(ready.wait(10000));
    const auto secret = Totp::base32Decode(panel->secretLabel()->text());
    QVERIFY(secret);
    QSignalSpy turnedOn(panel, &TotpSetupPanel::turnedOn);
    QTest::keyClicks(panel->codeField(), Totp::code(*secret, QDateTime::currentSecsSinceEpoch()));
    QTest::keyClick(panel->codeField(), Qt::Key_Return);
    QVERIFY(turnedOn.wait(10000));
    const QRegularExpression space(QStringLiteral("\\s+"));
    const QStringList first = panel->backupCodesLabel()->text().split(space, Qt::SkipEmptyParts);
    QCOMPARE(first.size(), 10);
    QTest::mouseClick(panel->savedButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page->newBackupCodesButton()->isVisibleTo(page), 10000);
    QVERIFY(page->turnOffButton()->isVisibleTo(page));

    // New codes: the password and a code (a backup code here) in one dialog; 2FA stays on.
    QTest::mouseClick(page->newBackupCodesButton(), Qt::LeftButton);
    QPointer<PasswordDialog> ask = page->findChild<PasswordDialog*>(QStringLiteral("confirmNewBackupCodes"));
    QVERIFY(ask);
    QTest::keyClicks(ask->passwordField(), kPassword);
    QTest::keyClicks(ask->codeField(), QStringLiteral("aaaaa-aaaaa-aaaaa"));
    QTest::keyClick(ask->codeField(), Qt::Key_Return);
    // A wrong code: said in the dialog, the password kept.
    QTRY_VERIFY_WITH_TIMEOUT(ask->errorLabel()->isVisible(), 10000);
    QCOMPARE(ask->passwordField()->text(), kPassword);
    QTest::keyClicks(ask->codeField(), first.first());
    QTest::keyClick(ask->codeField(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(ask.isNull() || !ask->isVisible(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(panel->backupCodesLabel()->isVisibleTo(page), 10000);
    const QStringList fresh = panel->backupCodesLabel()->text().split(space, Qt::SkipEmptyParts);
    QCOMPARE(fresh.size(), 10);
    for (const QString& c : fresh)
        QVERIFY(!first.contains(c));
    QTRY_VERIFY_WITH_TIMEOUT(
        page->mfaStatusLabel()->text().startsWith(QStringLiteral("<b>On</b> — 10 backup")), 10000);

    // Copy says it copied.
    QLabel* feedback = panel->codesFeedback();
    QVERIFY(!feedback->isVisibleTo(page));
    QTest::mouseClick(panel->copyButton(), Qt::LeftButton);
    QVERIFY(feedback->isVisibleTo(page));
    QVERIFY2(feedback->text().startsWith(QStringLiteral("Copied to the clipboard.")),
             qPrintable(feedback->text()));
    const QString clipboard = QApplication::clipboard()->text();
    for (const QString& c : fresh)
        QVERIFY(clipboard.contains(c));

    // Save to a file only its owner can read.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("codes.txt"));
    QTest::mouseClick(panel->saveButton(), Qt::LeftButton);
    QPointer<QFileDialog> files;
    QTRY_VERIFY_WITH_TIMEOUT(
        (files = panel->findChild<QFileDialog*>(QStringLiteral("saveBackupCodesDialog"))) &&
            files->isVisible(),
        5000);
    files->selectFile(path);
    static_cast<QDialog*>(files.data())->accept(); // as pressing Save does
    QTRY_VERIFY_WITH_TIMEOUT(feedback->text().startsWith(QStringLiteral("Saved to ")), 5000);
    QFile saved(path);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(saved.readAll());
    for (const QString& c : fresh)
        QVERIFY(text.contains(c));
    QCOMPARE(saved.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther |
                                    QFileDevice::WriteGroup | QFileDevice::WriteOther),
             QFileDevice::Permissions());

    // The first codes no longer sign in; the new ones do.
    auto challenge = login(kPassword, "iPhone");
    QVERIFY(challenge.json.value("requiresMFA", false));
    QCOMPARE(ApiClient(m_server.url())
                 .request("POST", "/api/auth/verify-mfa",
                          {{"mfaToken", challenge.str("mfaToken")}, {"code", first.at(1).toStdString()}})
                 .status,
             401);
    challenge = login(kPassword, "iPhone");
    QCOMPARE(ApiClient(m_server.url())
                 .request("POST", "/api/auth/verify-mfa",
                          {{"mfaToken", challenge.str("mfaToken")}, {"code", fresh.at(0).toStdString()}})
                 .status,
             200);
}

void TestAccountProtection::wideWindowKeepsButtonsNearTheirText()
{
    // The report: at 1280 px wide, a row's buttons sat 700 px from its text.
    QCOMPARE(login(kPassword, "iPhone").status, 200);
    signInThroughUi();
    SessionsPage* sessions = m_app.window->sessionsPage();
    QTRY_COMPARE_WITH_TIMEOUT(sessions->view()->model()->rowCount(), 2, 10000);
    m_app.window->resize(1280, 800);
    QTRY_COMPARE(m_app.window->width(), 1280);
    QListView* view = sessions->view();
    QTRY_VERIFY(view->width() > 0);
    QCoreApplication::processEvents(); // the rows are laid out for the new width
    const QWidget* content = sessions->findChild<QWidget*>(QStringLiteral("sessionsContent"));
    QVERIFY(content);
    QVERIFY2(content->width() <= 800, qPrintable(QString::number(content->width())));
    // Centred: the room left over is shared on both sides.
    const int leftRoom = content->mapTo(sessions, QPoint(0, 0)).x();
    const int rightRoom = sessions->width() - leftRoom - content->width();
    QVERIFY2(qAbs(leftRoom - rightRoom) <= 2,
             qPrintable(QStringLiteral("%1 / %2").arg(leftRoom).arg(rightRoom)));
    for (int row = 0; row < view->model()->rowCount(); ++row) {
        const QModelIndex index = view->model()->index(row, 0);
        QStyleOptionViewItem option;
        option.initFrom(view);
        option.rect = view->visualRect(index);
        const QFontMetrics fm(option.font);
        int textRight = 0;
        for (int role : {SessionListModel::DeviceLineRole, SessionListModel::NetworkLineRole,
                         SessionListModel::TimeLineRole})
            textRight = std::max(textRight,
                                 option.rect.left() + 66 + fm.horizontalAdvance(index.data(role).toString()));
        const QRect rename = sessions->delegate()->buttonRect(option, index, SessionDelegate::Button::Rename);
        const int gap = rename.left() - textRight;
        QVERIFY2(gap < 360,
                 qPrintable(QStringLiteral("row %1: Rename %2 px right of the text").arg(row).arg(gap)));
    }
    // The Security page keeps a readable width too.
    SecurityPage* security = openSecurityPage();
    const QWidget* securityContent = security->findChild<QWidget*>(QStringLiteral("securityContent"));
    QVERIFY(securityContent);
    QTRY_VERIFY(securityContent->width() > 0);
    QVERIFY2(securityContent->width() <= 760, qPrintable(QString::number(securityContent->width())));
    const int turnOnLeft = security->turnOnButton()->mapTo(security, QPoint(0, 0)).x();
    const int statusLeft = security->mfaStatusLabel()->mapTo(security, QPoint(0, 0)).x();
    QVERIFY2(turnOnLeft - statusLeft < 720, qPrintable(QString::number(turnOnLeft - statusLeft)));
}

QTEST_MAIN(TestAccountProtection)
#include "TestAccountProtection.moc"
