// SPDX-License-Identifier: Apache-2.0
// The Security page against a real ehr-sessions-server and ehr-sessions-agent, driven through its
// widgets: 2FA status and recommendations, TOTP enrolment, turning 2FA off, password change.
#include "AgentProcess.h"
#include "ApiClient.h"
#include "AppUnderTest.h"
#include "ServerProcess.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "mfa/Totp.h"
#include "security/QrCodeWidget.h"
#include "security/SecurityPage.h"
#include "security/TotpSetupPanel.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "shell/MainWindow.h"
#include "shell/PasswordDialog.h"
#include "signin/SignInPage.h"

#include <QApplication>
#include <QDateTime>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSet>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTest>
#include <functional>

using namespace ehrs;
using namespace ehrs::app;
using ehrs::agent::test::AgentProcess;
using ehrs::server::Totp;
using ehrs::test::ApiClient;
using ehrs::test::ApiResponse;
using ehrs::test::ServerProcess;

namespace {
const QString kPassword = QStringLiteral("correct horse battery staple");
const QString kNewPassword = QStringLiteral("a brand new passphrase");
const QString kTurnOnAdvice = QStringLiteral("Turn on two-step verification.");
const QString kManyAdvice = QStringLiteral("You are signed in on");
const QRegularExpression kOldAdvice(QStringLiteral("A session is (\\d+) days old"));

const char* const kDevices[] = {"iPhone", "iPad", "ward-pc-12", "MacBook", "Pixel"};

/// What enrolment through the page left the test: the secret read off the screen, the time step
/// of the last code the server accepted (a code works once: the next one must be of a later
/// step), and the backup codes shown.
struct Enrolment
{
    QByteArray secret;
    qint64 lastStep = -1;
    QStringList backupCodes;
};
} // namespace

class TestSecurityEndToEnd : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void newUserSeesTwoStepOffAndRecommendations();
    void enrolmentShowsQrCodeAndNeedsTheRightCode();
    void turningOffNeedsPasswordAndCode();
    void passwordChangeEndsTheOtherSessions();
    void passwordChangeUpdatesTheDeviceAdvice();
    void noAllClearWhileTheServerIsDown();
    void showsThePolicyOfThisSession();

private:
    QString newUser();
    void signInThroughUi();
    /// Switches to the Security tab and waits for the account to load.
    SecurityPage* openSecurityPage();
    /// Turns 2FA on through the page, as a person would; the backup codes stay on screen.
    void enrolThroughUi(Enrolment* out);
    /// Logs in over HTTP as another device.
    ApiResponse login(const QString& password, const char* deviceName = "curl");
    /// GET /api/auth/me: 1 when 2FA is on, 0 when off, -1 when the server did not say.
    int mfaEnabled(const QByteArray& bearer);
    /// GET /api/auth/me: the backup codes left, -1 when the server did not say.
    int backupCodesLeft(const QByteArray& bearer);
    int httpStatus(const QByteArray& method, const QByteArray& path, const QByteArray& bearer);
    /// Reloads the Sessions page until `done` holds (a reload the app started earlier by itself
    /// may answer first, with the list as it was); false if it never does.
    bool reloadSessionsUntil(const std::function<bool()>& done);
    /// Moves a session's creation date `days` back in the server's database.
    bool ageSession(const QString& id, int days);

    ServerProcess m_server;
    ehrs::app::test::AppUnderTest m_app;
    QString m_email;
    int m_users = 0;
};

namespace {
/// A code that is none of those the server accepts around `now` (so it fails for the right reason).
QString wrongCode(const QByteArray& secret)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QStringList valid;
    for (int d = -2; d <= 2; ++d)
        valid << Totp::code(secret, now + d * 30);
    for (int n = 0;; n += 111111) {
        const QString candidate = QStringLiteral("%1").arg(n % 1000000, 6, 10, QLatin1Char('0'));
        if (!valid.contains(candidate))
            return candidate;
    }
}

/// The code of the first time step after `lastStep` that the server accepts now (its window is
/// one step either way), as an authenticator app would show it a little later.
QString nextCode(const QByteArray& secret, qint64 lastStep)
{
    const qint64 step = std::max(Totp::timeStep(QDateTime::currentSecsSinceEpoch()), lastStep + 1);
    return Totp::code(secret, step * 30);
}
} // namespace

void TestSecurityEndToEnd::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_server.start());
}

QString TestSecurityEndToEnd::newUser()
{
    const QString email = QStringLiteral("nurse%1@example.org").arg(++m_users);
    if (!m_server.addUser(email, kPassword, QStringLiteral("Nurse %1").arg(m_users)))
        return {};
    return email;
}

void TestSecurityEndToEnd::init()
{
    m_email = newUser();
    QVERIFY(!m_email.isEmpty());
    QVERIFY(m_app.open());
}

void TestSecurityEndToEnd::cleanup()
{
    m_app.close();
}

void TestSecurityEndToEnd::signInThroughUi()
{
    SignInPage* page = m_app.window->signInPage();
    page->serverField()->setText(m_server.url().toString());
    page->emailField()->clear();
    QTest::keyClicks(page->emailField(), m_email);
    QTest::keyClicks(page->passwordField(), kPassword);
    QTest::mouseClick(page->signInButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->page(), MainWindow::Page::Main, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_app.window->sessionsPage()->state(), SessionsPage::State::List, 10000);
}

SecurityPage* TestSecurityEndToEnd::openSecurityPage()
{
    SecurityPage* page = m_app.window->securityPage();
    QSignalSpy loaded(page, &SecurityPage::accountLoaded);
    m_app.window->tabs()->setCurrentWidget(page);
    if (!loaded.wait(10000))
        qWarning("the Security page did not load the account");
    return page;
}

ApiResponse TestSecurityEndToEnd::login(const QString& password, const char* deviceName)
{
    nlohmann::json body{{"email", m_email.toStdString()},
                        {"password", password.toStdString()},
                        {"deviceInfo", {{"type", "mobile"}, {"name", deviceName}, {"os", "iOS 17"}}}};
    return ApiClient(m_server.url()).request("POST", "/api/auth/login", body);
}

int TestSecurityEndToEnd::mfaEnabled(const QByteArray& bearer)
{
    auto r = ApiClient(m_server.url()).request("GET", "/api/auth/me", nullptr, bearer);
    if (r.status != 200 || !r.json.contains("user") || !r.json["user"].contains("mfaEnabled"))
        return -1;
    return r.json["user"]["mfaEnabled"].get<bool>() ? 1 : 0;
}

int TestSecurityEndToEnd::backupCodesLeft(const QByteArray& bearer)
{
    auto r = ApiClient(m_server.url()).request("GET", "/api/auth/me", nullptr, bearer);
    if (r.status != 200 || !r.json.contains("backupCodesRemaining"))
        return -1;
    return r.json["backupCodesRemaining"].get<int>();
}

int TestSecurityEndToEnd::httpStatus(const QByteArray& method, const QByteArray& path,
                                     const QByteArray& bearer)
{
    return ApiClient(m_server.url()).request(method, path, nullptr, bearer).status;
}

bool TestSecurityEndToEnd::reloadSessionsUntil(const std::function<bool()>& done)
{
    for (int attempt = 0; attempt < 5; ++attempt) {
        QSignalSpy reloaded(m_app.window->sessionsPage(), &SessionsPage::reloaded);
        m_app.window->sessionsPage()->reload();
        if (!reloaded.wait(10000))
            return false;
        if (done())
            return true;
    }
    return false;
}

bool TestSecurityEndToEnd::ageSession(const QString& id, int days)
{
    // The server runs on its embedded SQLite default (ServerProcess clears DATABASE_URL); WAL lets
    // a second connection write while it runs.
    const QString name = QStringLiteral("age-session");
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(m_server.dataDir() + QStringLiteral("/ehr-sessions.db"));
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (db.open()) {
            QSqlQuery q(db);
            q.prepare(QStringLiteral("UPDATE user_sessions SET created_at = created_at - ? WHERE id = ?"));
            q.addBindValue(qint64(days) * 86'400'000);
            q.addBindValue(id);
            ok = q.exec() && q.numRowsAffected() == 1;
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

void TestSecurityEndToEnd::enrolThroughUi(Enrolment* out)
{
    SecurityPage* page = m_app.window->securityPage();
    TotpSetupPanel* panel = page->totpPanel();
    QVERIFY(page->turnOnButton()->isVisibleTo(page));
    QSignalSpy ready(panel, &TotpSetupPanel::readyToScan);
    QTest::mouseClick(page->turnOnButton(), Qt::LeftButton);
    QPointer<PasswordDialog> confirm = page->findChild<PasswordDialog*>(QStringLiteral("confirmEnableTotp"));
    QVERIFY(confirm);
    QTest::keyClicks(confirm->passwordField(), kPassword);
    QTest::keyClick(confirm->passwordField(), Qt::Key_Return);
    QVERIFY(ready.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(confirm.isNull() || !confirm->isVisible(), 10000);
    auto secret = Totp::base32Decode(panel->secretLabel()->text());
    QVERIFY(secret && secret->size() == 20); // not printed: it is a secret, even a test's
    out->secret = *secret;

    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QSignalSpy turnedOn(panel, &TotpSetupPanel::turnedOn);
    QTest::keyClicks(panel->codeField(), Totp::code(out->secret, now));
    QTest::keyClick(panel->codeField(), Qt::Key_Return);
    QVERIFY(turnedOn.wait(10000));
    out->lastStep = Totp::timeStep(now);
    out->backupCodes = panel->backupCodesLabel()->text().split(QRegularExpression(QStringLiteral("\\s+")),
                                                               Qt::SkipEmptyParts);
    QCOMPARE(out->backupCodes.size(), 10);
    QVERIFY(panel->backupCodesLabel()->isVisibleTo(page));
    // The status line follows at once, without waiting for "I have saved them".
    QTRY_VERIFY_WITH_TIMEOUT(page->mfaStatusLabel()->text().startsWith(QStringLiteral("<b>On</b>")), 10000);
}

void TestSecurityEndToEnd::newUserSeesTwoStepOffAndRecommendations()
{
    signInThroughUi();
    SecurityPage* page = openSecurityPage();
    QVERIFY(page->mfaStatusLabel()->text().startsWith(QStringLiteral("<b>Off</b>")));
    QVERIFY(page->turnOnButton()->isVisibleTo(page));
    QVERIFY(!page->turnOffButton()->isVisibleTo(page));
    QVERIFY(!page->totpPanel()->isVisibleTo(page));
    QLabel* advice = page->recommendationsLabel();
    QVERIFY(advice->text().contains(kTurnOnAdvice));
    QVERIFY(!advice->text().contains(kManyAdvice));
    QVERIFY(!advice->text().contains(kOldAdvice));

    // Five more devices: six sessions are "many".
    QStringList ids;
    QList<QByteArray> tokens;
    for (const char* device : kDevices) {
        auto r = login(kPassword, device);
        QCOMPARE(r.status, 200);
        ids << QString::fromStdString(r.str("sessionId"));
        tokens << QByteArray::fromStdString(r.str("accessToken"));
    }
    SessionListModel* model = m_app.window->sessionModel();
    QVERIFY(reloadSessionsUntil([model] { return model->rowCount() == 6; }));
    QVERIFY2(advice->text().contains(kManyAdvice + QStringLiteral(" 6 devices")), qPrintable(advice->text()));
    QVERIFY(!advice->text().contains(kOldAdvice));

    // One of them signed in 40 days ago.
    QVERIFY(ageSession(ids.first(), 40));
    QVERIFY(reloadSessionsUntil([advice] { return advice->text().contains(kOldAdvice); }));
    const auto match = kOldAdvice.match(advice->text());
    QVERIFY2(match.hasMatch(), qPrintable(advice->text()));
    const int days = match.captured(1).toInt();
    QVERIFY2(days >= 39 && days <= 41, qPrintable(match.captured(0)));

    // Those devices sign out: both pieces of advice go, the one about 2FA stays.
    for (const QByteArray& t : tokens)
        QCOMPARE(httpStatus("POST", "/api/auth/logout", t), 200);
    QVERIFY(reloadSessionsUntil([model] { return model->rowCount() == 1; }));
    QVERIFY2(!advice->text().contains(kManyAdvice), qPrintable(advice->text()));
    QVERIFY(!advice->text().contains(kOldAdvice));
    QVERIFY(advice->text().contains(kTurnOnAdvice));
}

void TestSecurityEndToEnd::enrolmentShowsQrCodeAndNeedsTheRightCode()
{
    signInThroughUi();
    const auto observer = login(kPassword);
    QCOMPARE(observer.status, 200);
    const QByteArray observerToken = QByteArray::fromStdString(observer.str("accessToken"));
    SecurityPage* page = openSecurityPage();
    TotpSetupPanel* panel = page->totpPanel();

    QSignalSpy ready(panel, &TotpSetupPanel::readyToScan);
    QTest::mouseClick(page->turnOnButton(), Qt::LeftButton);
    // The password first: the server hands out no secret for an access token alone.
    QPointer<PasswordDialog> confirm = page->findChild<PasswordDialog*>(QStringLiteral("confirmEnableTotp"));
    QVERIFY(confirm);
    QVERIFY(confirm->isVisible());
    QVERIFY(!confirm->codeField()); // 2FA is off: no code to ask for
    QCOMPARE(confirm->passwordField()->echoMode(), QLineEdit::Password);
    QVERIFY(!panel->isVisibleTo(page));
    QTest::keyClicks(confirm->passwordField(), QStringLiteral("not my password"));
    QTest::keyClick(confirm->passwordField(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(confirm->errorLabel()->isVisibleTo(confirm), 10000);
    QCOMPARE(confirm->errorLabel()->text(), QStringLiteral("The password is not correct."));
    QVERIFY(confirm->passwordField()->text().isEmpty());
    QVERIFY(!panel->isVisibleTo(page));
    QVERIFY(panel->secretLabel()->text().isEmpty());
    QCOMPARE(ready.count(), 0);
    QTest::keyClicks(confirm->passwordField(), kPassword);
    QTest::keyClick(confirm->passwordField(), Qt::Key_Return);
    QVERIFY(ready.wait(10000));
    QTRY_VERIFY_WITH_TIMEOUT(confirm.isNull() || !confirm->isVisible(), 10000);
    QVERIFY(panel->isVisibleTo(page));
    QVERIFY(!page->turnOnButton()->isVisibleTo(page));

    // The secret, grouped for typing, and the same secret in the QR code's otpauth URI.
    const QString shown = panel->secretLabel()->text();
    QVERIFY(panel->secretLabel()->isVisibleTo(page));
    auto secret = Totp::base32Decode(shown);
    QVERIFY(secret && secret->size() == 20);
    QString compact = shown;
    compact.remove(u' ');
    QrCodeWidget* qr = panel->qrCode();
    QVERIFY(qr->isVisibleTo(page));
    QVERIFY(qr->text().startsWith(QStringLiteral("otpauth://totp/")));
    QVERIFY(qr->text().contains(QStringLiteral("secret=") + compact));
    QVERIFY(qr->text().contains(QString::fromLatin1(QUrl::toPercentEncoding(m_email))));
    QVERIFY(qr->moduleCount() >= 21);

    // What is painted is that code: every module's centre is dark exactly where the code is.
    const QImage img = qr->grab().toImage().convertToFormat(QImage::Format_RGB32);
    const int total = qr->moduleCount() + 8; // the quiet zone: 4 modules each side
    const int side = std::min(img.width(), img.height());
    const int module = side / total;
    QVERIFY2(module >= 2, qPrintable(QStringLiteral("%1 px for %2 modules").arg(side).arg(total)));
    const double origin = (side - module * total) / 2.0;
    QCOMPARE(img.pixelColor(1, 1), QColor(Qt::white));
    int dark = 0;
    int wrongModules = 0;
    for (int y = 0; y < qr->moduleCount(); ++y) {
        for (int x = 0; x < qr->moduleCount(); ++x) {
            const QColor c =
                img.pixelColor(int(origin + (x + 4.5) * module), int(origin + (y + 4.5) * module));
            const bool isDark = qGray(c.rgb()) < 128;
            dark += isDark;
            wrongModules += isDark != qr->isDark(x, y);
        }
    }
    QCOMPARE(wrongModules, 0);
    QVERIFY(dark > 0 && dark < qr->moduleCount() * qr->moduleCount());

    // A wrong code: said inline, 2FA stays off.
    QTest::keyClicks(panel->codeField(), wrongCode(*secret));
    QTest::mouseClick(panel->confirmButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(panel->errorLabel()->isVisibleTo(page), 10000);
    QCOMPARE(panel->errorLabel()->text(),
             QStringLiteral("That code is not correct. Enter the code the app shows now."));
    QVERIFY(panel->backupCodesLabel()->text().isEmpty());
    QCOMPARE(mfaEnabled(observerToken), 0);
    QVERIFY(page->mfaStatusLabel()->text().startsWith(QStringLiteral("<b>Off</b>")));

    // The right one: 2FA is on, the backup codes are shown.
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QSignalSpy turnedOn(panel, &TotpSetupPanel::turnedOn);
    QTest::keyClicks(panel->codeField(), Totp::code(*secret, now));
    QTest::keyClick(panel->codeField(), Qt::Key_Return);
    QVERIFY(turnedOn.wait(10000));
    QVERIFY(!panel->errorLabel()->isVisibleTo(page));
    const QStringList codes = panel->backupCodesLabel()->text().split(
        QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
    QCOMPARE(codes.size(), 10);
    QCOMPARE(QSet<QString>(codes.begin(), codes.end()).size(), 10);
    QVERIFY(panel->backupCodesLabel()->isVisibleTo(page));
    QCOMPARE(mfaEnabled(observerToken), 1);
    QCOMPARE(backupCodesLeft(observerToken), 10);
    QTRY_COMPARE_WITH_TIMEOUT(page->mfaStatusLabel()->text(),
                              QStringLiteral("<b>On</b> — 10 backup codes left."), 10000);
    QVERIFY2(!page->recommendationsLabel()->text().contains(kTurnOnAdvice),
             qPrintable(page->recommendationsLabel()->text()));

    // Shown once: after leaving the page and coming back, the codes are gone.
    m_app.window->tabs()->setCurrentWidget(m_app.window->sessionsPage());
    QVERIFY(panel->backupCodesLabel()->text().isEmpty());
    page = openSecurityPage();
    QVERIFY(!panel->isVisibleTo(page));
    QVERIFY(page->turnOffButton()->isVisibleTo(page));
    QVERIFY(!page->turnOnButton()->isVisibleTo(page));
    QVERIFY(panel->secretLabel()->text().isEmpty());
    QVERIFY(panel->qrCode()->text().isEmpty());
    for (const QLabel* label : m_app.window->findChildren<QLabel*>()) {
        for (const QString& code : codes)
            QVERIFY2(!label->text().contains(code), qPrintable(label->objectName()));
    }

    // The server now asks for the second step at login, and the codes shown are the real ones.
    const auto step1 = login(kPassword);
    QCOMPARE(step1.status, 200);
    QCOMPARE(step1.json.value("requiresMFA", false), true);
    QVERIFY(step1.str("accessToken").empty());
    QVERIFY(!step1.str("mfaToken").empty());
    const auto step2 =
        ApiClient(m_server.url())
            .request("POST", "/api/auth/verify-mfa",
                     {{"mfaToken", step1.str("mfaToken")}, {"code", codes.first().toStdString()}});
    QCOMPARE(step2.status, 200);
    QVERIFY(!step2.str("accessToken").empty());
    QCOMPARE(backupCodesLeft(observerToken), 9);
}

void TestSecurityEndToEnd::turningOffNeedsPasswordAndCode()
{
    signInThroughUi();
    const auto observer = login(kPassword);
    QCOMPARE(observer.status, 200);
    const QByteArray observerToken = QByteArray::fromStdString(observer.str("accessToken"));
    SecurityPage* page = openSecurityPage();
    Enrolment enrolment;
    enrolThroughUi(&enrolment);
    if (QTest::currentTestFailed())
        return;
    // "I have saved them" puts the codes away too.
    QTest::mouseClick(page->totpPanel()->savedButton(), Qt::LeftButton);
    QVERIFY(!page->totpPanel()->isVisibleTo(page));
    QVERIFY(page->totpPanel()->backupCodesLabel()->text().isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(page->turnOffButton()->isVisibleTo(page), 10000);
    // With 2FA on, a password change asks for a code too, before anything is sent.
    QVERIFY(page->passwordCodeField()->isVisibleTo(page));
    {
        const auto fields = page->passwordFields();
        QTest::keyClicks(fields[0], kPassword);
        QTest::keyClicks(fields[1], kNewPassword);
        QTest::keyClicks(fields[2], kNewPassword);
        QTest::mouseClick(page->changePasswordButton(), Qt::LeftButton);
        QCOMPARE(page->passwordMessage()->text(),
                 QStringLiteral("Enter a current code from your authenticator app (or a backup code)."));
        for (QLineEdit* e : fields)
            e->clear();
        QCOMPARE(login(kPassword).json.value("requiresMFA", false), true); // unchanged
    }

    QTest::mouseClick(page->turnOffButton(), Qt::LeftButton);
    QPointer<PasswordDialog> dialog = page->findChild<PasswordDialog*>(QStringLiteral("confirmDisableTotp"));
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QVERIFY(dialog->codeField());
    const auto submit = [&dialog](const QString& password, const QString& code) {
        QTest::keyClicks(dialog->passwordField(), password);
        QTest::keyClicks(dialog->codeField(), code);
        QTest::keyClick(dialog->codeField(), Qt::Key_Return);
    };

    // Wrong password, with a good code: refused inline, still on.
    submit(QStringLiteral("not my password"), nextCode(enrolment.secret, enrolment.lastStep));
    QTRY_VERIFY_WITH_TIMEOUT(dialog->errorLabel()->isVisibleTo(dialog), 10000);
    QCOMPARE(dialog->errorLabel()->text(), QStringLiteral("The password is not correct."));
    QVERIFY(dialog->isVisible());
    QVERIFY(dialog->passwordField()->text().isEmpty());
    dialog->codeField()->clear(); // kept (only the password was wrong); the next try types its own
    QCOMPARE(mfaEnabled(observerToken), 1);

    // Right password, wrong code: refused inline, still on; only the code is asked for again.
    submit(kPassword, wrongCode(enrolment.secret));
    QTRY_COMPARE_WITH_TIMEOUT(dialog->errorLabel()->text(), QStringLiteral("The code is not correct."),
                              10000);
    QVERIFY(dialog->errorLabel()->isVisibleTo(dialog));
    QVERIFY(dialog->isVisible());
    QCOMPARE(dialog->passwordField()->text(), kPassword);
    QVERIFY(dialog->codeField()->text().isEmpty());
    QCOMPARE(QApplication::focusWidget() == dialog->codeField() || !dialog->isActiveWindow(), true);
    QCOMPARE(mfaEnabled(observerToken), 1);
    QVERIFY(page->mfaStatusLabel()->text().startsWith(QStringLiteral("<b>On</b>")));

    // Both right (a code of a later step than the enrolment's: codes work once): off.
    submit(QString(), nextCode(enrolment.secret, enrolment.lastStep));
    QTRY_VERIFY_WITH_TIMEOUT(dialog.isNull() || !dialog->isVisible(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(page->mfaStatusLabel()->text().startsWith(QStringLiteral("<b>Off</b>")), 10000);
    QCOMPARE(mfaEnabled(observerToken), 0);
    QVERIFY(page->turnOnButton()->isVisibleTo(page));
    QVERIFY(!page->turnOffButton()->isVisibleTo(page));
    QVERIFY(!page->passwordCodeField()->isVisibleTo(page));
    QVERIFY(page->recommendationsLabel()->text().contains(kTurnOnAdvice));
    // The password alone signs in again.
    const auto plain = login(kPassword);
    QCOMPARE(plain.status, 200);
    QVERIFY(!plain.str("accessToken").empty());
}

void TestSecurityEndToEnd::passwordChangeEndsTheOtherSessions()
{
    signInThroughUi();
    const auto other = login(kPassword, "iPad");
    QCOMPARE(other.status, 200);
    const QByteArray otherToken = QByteArray::fromStdString(other.str("accessToken"));
    SecurityPage* page = openSecurityPage();
    QVERIFY(!page->passwordCodeField()->isVisibleTo(page)); // 2FA off: the password is enough
    const auto fields = page->passwordFields();
    QLineEdit* current = fields[0];
    QLineEdit* next = fields[1];
    QLineEdit* repeat = fields[2];
    QLabel* message = page->passwordMessage();
    // The rules are on screen before the first attempt, not only in the error after it.
    bool rulesShown = false;
    for (QLabel* l : page->findChildren<QLabel*>())
        rulesShown =
            rulesShown || (l->isVisibleTo(page) && l->text().contains(QStringLiteral("12 characters")));
    QVERIFY(rulesShown);
    QVERIFY(!message->isVisibleTo(page));
    const auto change = [&](const QString& oldPassword, const QString& newPassword, const QString& repeated) {
        message->clear();
        QTest::keyClicks(current, oldPassword);
        QTest::keyClicks(next, newPassword);
        QTest::keyClicks(repeat, repeated);
        QTest::mouseClick(page->changePasswordButton(), Qt::LeftButton);
    };

    // The two new ones differ: said before anything is sent.
    change(kPassword, kNewPassword, QStringLiteral("a brand new passphrasf"));
    QCOMPARE(message->text(), QStringLiteral("The new passwords do not match."));
    QVERIFY(message->isVisibleTo(page));
    for (QLineEdit* e : {current, next, repeat})
        e->clear();

    // Wrong current password: refused inline, nothing changes; only that field is emptied.
    change(QStringLiteral("not my password"), kNewPassword, kNewPassword);
    QTRY_COMPARE_WITH_TIMEOUT(message->text(), QStringLiteral("The current password is not correct."), 10000);
    QVERIFY(message->isVisibleTo(page));
    QVERIFY(current->text().isEmpty());
    QCOMPARE(next->text(), kNewPassword);
    QCOMPARE(repeat->text(), kNewPassword);
    QCOMPARE(httpStatus("GET", "/api/sessions", otherToken), 200);
    for (QLineEdit* e : {current, next, repeat})
        e->clear();

    // Too short: the server's reason, as a sentence; the current password stays typed.
    change(kPassword, QStringLiteral("short1"), QStringLiteral("short1"));
    QTRY_COMPARE_WITH_TIMEOUT(message->text(),
                              QStringLiteral("Password must be at least 12 characters long."), 10000);
    QCOMPARE(current->text(), kPassword);
    QVERIFY(next->text().isEmpty() && repeat->text().isEmpty());
    QCOMPARE(httpStatus("GET", "/api/sessions", otherToken), 200);

    // Right: the page says the other device was signed out, and it was.
    current->clear();
    change(kPassword, kNewPassword, kNewPassword);
    QTRY_COMPARE_WITH_TIMEOUT(message->text(),
                              QStringLiteral("Password changed. 1 other device was signed out."), 10000);
    QCOMPARE(httpStatus("GET", "/api/sessions", otherToken), 401);
    QCOMPARE(login(kPassword).status, 401);
    QCOMPARE(login(kNewPassword).status, 200);

    // This device stays signed in (DESIGN: the change ends all *other* sessions).
    SessionListModel* model = m_app.window->sessionModel();
    QVERIFY(reloadSessionsUntil([model] { return model->rowCount() == 2; })); // this one and the new login
    QCOMPARE(m_app.window->page(), MainWindow::Page::Main);
    QCOMPARE(m_app.window->sessionsPage()->state(), SessionsPage::State::List);
    QSignalSpy loaded(page, &SecurityPage::accountLoaded);
    page->reload();
    QVERIFY(loaded.wait(10000));
    QCOMPARE(m_app.window->page(), MainWindow::Page::Main);
}

void TestSecurityEndToEnd::passwordChangeUpdatesTheDeviceAdvice()
{
    signInThroughUi();
    for (const char* device : kDevices)
        QCOMPARE(login(kPassword, device).status, 200);
    SessionListModel* model = m_app.window->sessionModel();
    QVERIFY(reloadSessionsUntil([model] { return model->rowCount() == 6; }));
    SecurityPage* page = openSecurityPage();
    QLabel* advice = page->recommendationsLabel();
    QVERIFY2(advice->text().contains(kManyAdvice + QStringLiteral(" 6 devices")), qPrintable(advice->text()));
    const auto fields = page->passwordFields();
    QTest::keyClicks(fields[0], kPassword);
    QTest::keyClicks(fields[1], kNewPassword);
    QTest::keyClicks(fields[2], kNewPassword);
    QTest::mouseClick(page->changePasswordButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(page->passwordMessage()->text(),
                              QStringLiteral("Password changed. 5 other devices were signed out."), 10000);
    // With no click and no reload by hand, the list and the advice drawn from it follow.
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
    QTRY_VERIFY2_WITH_TIMEOUT(!advice->text().contains(kManyAdvice), qPrintable(advice->text()), 10000);
}

void TestSecurityEndToEnd::noAllClearWhileTheServerIsDown()
{
    signInThroughUi();
    SecurityPage* page = openSecurityPage();
    Enrolment enrolment;
    enrolThroughUi(&enrolment);
    if (QTest::currentTestFailed())
        return;
    QTest::mouseClick(page->totpPanel()->savedButton(), Qt::LeftButton);
    QLabel* advice = page->recommendationsLabel();
    const QString allClear = QStringLiteral("Nothing to do");
    QTRY_VERIFY2_WITH_TIMEOUT(advice->text().startsWith(allClear), qPrintable(advice->text()), 10000);

    // The server goes down: neither check can run, so nothing may say all is well.
    const QString port = QString::number(m_server.url().port());
    m_server.stop();
    auto restart = qScopeGuard([&] {
        if (!m_server.isRunning())
            m_server.start({QStringLiteral("--port"), port});
    });
    {
        QSignalSpy failed(m_app.window->sessionsPage(), &SessionsPage::sessionsUnavailable);
        m_app.window->sessionsPage()->reload();
        QVERIFY(failed.wait(15000));
    }
    QVERIFY2(!advice->text().contains(allClear), qPrintable(advice->text()));
    page->reload();
    QTRY_VERIFY_WITH_TIMEOUT(page->mfaStatusLabel()->text().startsWith(QStringLiteral("Could not check")),
                             15000);
    QVERIFY2(!advice->text().contains(allClear), qPrintable(advice->text()));
    QVERIFY2(advice->text().contains(QStringLiteral("Could not check")), qPrintable(advice->text()));
    // What needs the server is off, and says why.
    QVERIFY(!page->turnOffButton()->isEnabled());
    QVERIFY(!page->turnOffButton()->toolTip().isEmpty());

    // Back: the checks run again, and only then is the account all clear.
    QVERIFY(m_server.start({QStringLiteral("--port"), port}));
    QVERIFY(reloadSessionsUntil([] { return true; }));
    QSignalSpy loaded(page, &SecurityPage::accountLoaded);
    page->reload();
    QVERIFY(loaded.wait(10000));
    QTRY_VERIFY2_WITH_TIMEOUT(advice->text().startsWith(allClear), qPrintable(advice->text()), 10000);
    QVERIFY(page->turnOffButton()->isEnabled());
}

void TestSecurityEndToEnd::showsThePolicyOfThisSession()
{
    // Issue 14: IT's policy for the user's group, applied at sign-in and again when IT changes it.
    QByteArray out;
    QCOMPARE(
        m_server.run({QStringLiteral("user"), QStringLiteral("groups"), m_email, QStringLiteral("ward-e2e")},
                     {}, &out),
        0);
    QCOMPARE(m_server.run({QStringLiteral("policy"), QStringLiteral("set"), QStringLiteral("--group"),
                           QStringLiteral("ward-e2e"), QStringLiteral("--idle-timeout"),
                           QStringLiteral("15m"), QStringLiteral("--absolute-lifetime"),
                           QStringLiteral("12h"), QStringLiteral("--end-on-lock"), QStringLiteral("yes"),
                           QStringLiteral("--max-sessions"), QStringLiteral("3")},
                          {}, &out),
             0);
    signInThroughUi();
    SecurityPage* page = openSecurityPage();
    QTRY_VERIFY_WITH_TIMEOUT(!page->policyLabel()->isHidden(), 5000);
    QCOMPARE(page->policyLabel()->text(),
             QStringLiteral(
                 "Set by your organisation: Signed out after 15 minutes without activity; at most 12 hours; "
                 "ends when the screen locks; at most 3 sessions."));
    QCOMPARE(page->policySourceLabel()->text(), QStringLiteral("Personal device · groups: ward-e2e"));

    // IT now requires two-step verification for the group: the live session gets it, and the page
    // says so on its next look.
    QCOMPARE(
        m_server.run({QStringLiteral("policy"), QStringLiteral("set"), QStringLiteral("--group"),
                      QStringLiteral("ward-e2e"), QStringLiteral("--mfa-required"), QStringLiteral("yes")},
                     {}, &out),
        0);
    m_app.window->tabs()->setCurrentWidget(m_app.window->sessionsPage());
    page = openSecurityPage();
    QTRY_VERIFY_WITH_TIMEOUT(
        page->policyLabel()->text().contains(QStringLiteral("two-step verification required")), 5000);
    QCOMPARE(page->policyLabel()->text(),
             QStringLiteral(
                 "Set by your organisation: Signed out after 15 minutes without activity; at most 12 hours; "
                 "ends when the screen locks; two-step verification required; at most 3 sessions."));
    // The other users keep the server-wide settings (and see no limits they do not have).
    QCOMPARE(m_server.run({QStringLiteral("policy"), QStringLiteral("unset"), QStringLiteral("--group"),
                           QStringLiteral("ward-e2e")},
                          {}, &out),
             0);
}

QTEST_MAIN(TestSecurityEndToEnd)
#include "TestSecurityEndToEnd.moc"
