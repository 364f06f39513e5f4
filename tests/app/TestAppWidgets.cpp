// SPDX-License-Identifier: Apache-2.0
// Widgets alone, with canned data: the session delegate, device icons, the QR code, the
// password dialog.
#include "LayoutChecks.h"
#include "security/QrCodeWidget.h"
#include "sessions/SessionDelegate.h"
#include "sessions/SessionListModel.h"
#include "shell/DeviceIcons.h"
#include "shell/FocusRingStyle.h"
#include "shell/PasswordDialog.h"
#include "shell/Theme.h"

#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QVBoxLayout>

using namespace ehrs;
using namespace ehrs::app;

namespace {
SessionDto session(const QString& id, const QString& type, bool current = false)
{
    SessionDto s;
    s.id = id;
    s.deviceInfo.type = type;
    s.deviceInfo.name = type + QStringLiteral("-device");
    s.isCurrent = current;
    s.createdAt = QDateTime::currentDateTimeUtc().addDays(-2);
    s.lastActivityAt = QDateTime::currentDateTimeUtc().addSecs(-300);
    return s;
}
} // namespace

class TestAppWidgets : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void deviceIconsExistForEveryType_data();
    void deviceIconsExistForEveryType();
    void iconsAreCrispAtTwoX();
    void delegateOffersRevokeOnlyOnOtherDevices();
    void clickingRevokeEmitsTheRow();
    void rowsPaintInLightAndDark();
    void qrCodeEncodesTheUri();
    void passwordDialogClearsThePasswordOnError();
    void passwordDialogsKeepEveryTextWhole_data();
    void passwordDialogsKeepEveryTextWhole();
    void wrongCodeKeepsThePassword();
    void renameSitsInOneColumnOnEveryRow();
    void narrowRowsKeepTheTimeLineWhole();
    void renameStartsFromTheShownName();
    void focusedButtonHasAStrongRing();
    void tabReachesTheRowButtons();
};

void TestAppWidgets::deviceIconsExistForEveryType_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("path");
    for (const char* t : {"desktop", "laptop", "mobile", "tablet", "unknown"})
        QTest::newRow(t) << QString::fromLatin1(t)
                         << QStringLiteral(":/icons/device-%1.svg").arg(QLatin1String(t));
    QTest::newRow("not a type") << QStringLiteral("fridge") << QStringLiteral(":/icons/device-unknown.svg");
}

void TestAppWidgets::deviceIconsExistForEveryType()
{
    QFETCH(QString, type);
    QFETCH(QString, path);
    QCOMPARE(DeviceIcons::resourcePath(type), path);
    const QPixmap pm = DeviceIcons::pixmap(type, 32, Qt::black, 1.0);
    QVERIFY(QFile::exists(path));
    QVERIFY(!pm.isNull());
    // Something was drawn: at least one opaque pixel.
    const QImage img = pm.toImage();
    bool drawn = false;
    for (int y = 0; y < img.height() && !drawn; ++y)
        for (int x = 0; x < img.width() && !drawn; ++x)
            drawn = qAlpha(img.pixel(x, y)) > 128;
    QVERIFY(drawn);
}

void TestAppWidgets::iconsAreCrispAtTwoX()
{
    const QPixmap pm = DeviceIcons::pixmap(QStringLiteral("mobile"), 32, Qt::black, 2.0);
    QCOMPARE(pm.size(), QSize(64, 64));
    QCOMPARE(pm.devicePixelRatio(), 2.0);
    QCOMPARE(pm.deviceIndependentSize(), QSizeF(32, 32));
}

void TestAppWidgets::delegateOffersRevokeOnlyOnOtherDevices()
{
    SessionListModel model;
    model.setSessions({session(QStringLiteral("me"), QStringLiteral("laptop"), true),
                       session(QStringLiteral("phone"), QStringLiteral("mobile"))});
    QListView view;
    SessionDelegate delegate(&view);
    view.setModel(&model);
    view.setItemDelegate(&delegate);
    view.resize(700, 400);
    QStyleOptionViewItem option;
    option.initFrom(&view);
    option.rect = view.visualRect(model.index(0));
    QVERIFY(delegate.buttonRect(option, model.index(0), SessionDelegate::Button::Revoke).isNull());
    QVERIFY(!delegate.buttonRect(option, model.index(0), SessionDelegate::Button::Rename).isNull());
    option.rect = view.visualRect(model.index(1));
    const QRect revoke = delegate.buttonRect(option, model.index(1), SessionDelegate::Button::Revoke);
    QVERIFY(!revoke.isNull());
    QVERIFY(option.rect.contains(revoke));
}

void TestAppWidgets::clickingRevokeEmitsTheRow()
{
    SessionListModel model;
    model.setSessions({session(QStringLiteral("me"), QStringLiteral("laptop"), true),
                       session(QStringLiteral("phone"), QStringLiteral("mobile")),
                       session(QStringLiteral("pad"), QStringLiteral("tablet"))});
    QListView view;
    auto* delegate = new SessionDelegate(&view);
    view.setModel(&model);
    view.setItemDelegate(delegate);
    view.resize(700, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy revoke(delegate, &SessionDelegate::revokeClicked);
    QStyleOptionViewItem option;
    option.initFrom(&view);
    option.rect = view.visualRect(model.index(2));
    const QRect button = delegate->buttonRect(option, model.index(2), SessionDelegate::Button::Revoke);
    QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, button.center());
    QCOMPARE(revoke.size(), 1);
    QCOMPARE(revoke.at(0).at(0).toModelIndex().data(SessionListModel::IdRole).toString(),
             QStringLiteral("pad"));
}

void TestAppWidgets::rowsPaintInLightAndDark()
{
    for (ThemeMode mode : {ThemeMode::Light, ThemeMode::Dark}) {
        SessionListModel model;
        model.setSessions({session(QStringLiteral("me"), QStringLiteral("laptop"), true),
                           session(QStringLiteral("phone"), QStringLiteral("mobile"))});
        QListView view;
        view.setPalette(Theme::palette(mode));
        view.setItemDelegate(new SessionDelegate(&view));
        view.setModel(&model);
        view.resize(640, 300);
        const QImage img = view.grab().toImage();
        QVERIFY(!img.isNull());
        // The current row is tinted with the accent, so it differs from the base colour.
        const QRect current = view.visualRect(model.index(0));
        const QColor base = Theme::palette(mode).color(QPalette::Base);
        const QColor inCard = img.pixelColor(current.center().x(), current.top() + 6);
        QVERIFY2(inCard != base, qPrintable(inCard.name()));
    }
}

void TestAppWidgets::qrCodeEncodesTheUri()
{
    QrCodeWidget qr;
    QVERIFY(
        qr.setText(QStringLiteral("otpauth://totp/EHR%20Sessions:nurse%40example.org?secret=JBSWY3DPEHPK3PXP&"
                                  "issuer=EHR%20Sessions")));
    QVERIFY(qr.moduleCount() >= 21);
    QCOMPARE((qr.moduleCount() - 17) % 4, 0); // a valid QR version: 17 + 4v modules
    // The three finder patterns: dark corners.
    QVERIFY(qr.isDark(0, 0));
    QVERIFY(qr.isDark(qr.moduleCount() - 1, 0));
    QVERIFY(qr.isDark(0, qr.moduleCount() - 1));
    qr.resize(qr.sizeHint());
    const QImage img = qr.grab().toImage();
    QCOMPARE(img.pixelColor(1, 1), QColor(Qt::white)); // quiet zone
}

void TestAppWidgets::passwordDialogClearsThePasswordOnError()
{
    PasswordDialog dialog(QStringLiteral("t"), QStringLiteral("e"), QStringLiteral("Go"), true);
    QSignalSpy submitted(&dialog, &PasswordDialog::submitted);
    dialog.show();
    QTest::keyClicks(dialog.passwordField(), QStringLiteral("secret"));
    QTest::keyClicks(dialog.codeField(), QStringLiteral("123456"));
    QTest::keyClick(dialog.codeField(), Qt::Key_Return);
    QCOMPARE(submitted.size(), 1);
    QCOMPARE(submitted.at(0).at(0).toString(), QStringLiteral("secret"));
    QCOMPARE(submitted.at(0).at(1).toString(), QStringLiteral("123456"));
    dialog.showError(QStringLiteral("The password is not correct"));
    QVERIFY(dialog.passwordField()->text().isEmpty());
    QVERIFY(dialog.errorLabel()->isVisibleTo(&dialog));
}

void TestAppWidgets::passwordDialogsKeepEveryTextWhole_data()
{
    QTest::addColumn<QString>("explanation");
    QTest::addColumn<bool>("askCode");
    // The app's own dialogs (SessionsPage, SecurityPage), with the errors the server gives them.
    QTest::newRow("sign out all other devices")
        << QStringLiteral("Every device except this one will be signed out. Enter your password to confirm.")
        << false;
    QTest::newRow("turn off two-step verification")
        << QStringLiteral("Enter your password and a current code (or a backup code).") << true;
}

void TestAppWidgets::passwordDialogsKeepEveryTextWhole()
{
    QFETCH(QString, explanation);
    QFETCH(bool, askCode);
    PasswordDialog dialog(QStringLiteral("Confirm"), explanation, QStringLiteral("Go"), askCode);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QStringList clipped = ehrs::app::test::clippedTexts(&dialog);
    QVERIFY2(clipped.isEmpty(), qPrintable(QStringLiteral("before the error: ") + clipped.join(u"; ")));
    QTest::keyClicks(dialog.passwordField(), QStringLiteral("secret"));
    if (askCode)
        QTest::keyClicks(dialog.codeField(), QStringLiteral("123456"));
    QTest::keyClick(dialog.passwordField(), Qt::Key_Return);
    dialog.showError(
        QStringLiteral("Cannot reach the server. Check the address and your network connection."));
    QCoreApplication::processEvents(); // the layout settles
    QVERIFY(dialog.errorLabel()->isVisibleTo(&dialog));
    clipped = ehrs::app::test::clippedTexts(&dialog);
    QVERIFY2(clipped.isEmpty(), qPrintable(QStringLiteral("with the error: ") + clipped.join(u"; ")));
}

void TestAppWidgets::wrongCodeKeepsThePassword()
{
    PasswordDialog dialog(QStringLiteral("t"), QStringLiteral("e"), QStringLiteral("Go"), true);
    dialog.show();
    QTest::keyClicks(dialog.passwordField(), QStringLiteral("secret"));
    QTest::keyClicks(dialog.codeField(), QStringLiteral("123456"));
    QTest::keyClick(dialog.codeField(), Qt::Key_Return);
    dialog.showError(QStringLiteral("The code is not correct."), PasswordDialog::Field::Code);
    QCOMPARE(dialog.passwordField()->text(), QStringLiteral("secret"));
    QVERIFY(dialog.codeField()->text().isEmpty());
}

void TestAppWidgets::renameSitsInOneColumnOnEveryRow()
{
    SessionListModel model;
    model.setSessions({session(QStringLiteral("me"), QStringLiteral("laptop"), true),
                       session(QStringLiteral("phone"), QStringLiteral("mobile"))});
    QListView view;
    SessionDelegate delegate(&view);
    view.setModel(&model);
    view.setItemDelegate(&delegate);
    view.resize(800, 400);
    QStyleOptionViewItem option;
    option.initFrom(&view);
    option.rect = view.visualRect(model.index(0));
    const QRect mine = delegate.buttonRect(option, model.index(0), SessionDelegate::Button::Rename);
    option.rect = view.visualRect(model.index(1));
    const QRect other = delegate.buttonRect(option, model.index(1), SessionDelegate::Button::Rename);
    QCOMPARE(mine.left(), other.left());
    QCOMPARE(mine.width(), other.width());
}

void TestAppWidgets::narrowRowsKeepTheTimeLineWhole()
{
    // The list's width in a window of the minimum size (560 px less the page's margins), and wide.
    for (int width : {512, 900}) {
        SessionListModel model;
        SessionDto s = session(QStringLiteral("phone"), QStringLiteral("mobile"));
        s.createdAt = QDateTime::currentDateTimeUtc().addDays(-3);
        s.lastActivityAt = QDateTime::currentDateTimeUtc().addSecs(-70); // "active 1 minute ago"
        s.ipAddress = QStringLiteral("10.20.31.144");
        s.location = QStringLiteral("St Mary's, Ward 3");
        // Seven devices, as in the report: the list scrolls, and its scroll bar takes room too.
        std::vector<SessionDto> all{session(QStringLiteral("me"), QStringLiteral("laptop"), true)};
        for (int i = 0; i < 6; ++i) {
            all.push_back(s);
            all.back().id = QStringLiteral("phone%1").arg(i);
        }
        model.setSessions(all);
        QListView view;
        view.setResizeMode(QListView::Adjust);
        SessionDelegate delegate(&view);
        view.setModel(&model);
        view.setItemDelegate(&delegate);
        view.resize(width, 300);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QTRY_VERIFY(view.verticalScrollBar()->isVisible());
        for (int row = 0; row < model.rowCount(); ++row) {
            const QModelIndex index = model.index(row);
            QStyleOptionViewItem option;
            option.initFrom(&view);
            option.rect = view.visualRect(index);
            const QFontMetrics fm(option.font);
            const QRect rename = delegate.buttonRect(option, index, SessionDelegate::Button::Rename);
            // The text starts right of the icon; it either has the row to itself above the
            // buttons, or the room left of the Rename button.
            const int textLeft = option.rect.left() + 12 + 6 + 32 + 12 + 4;
            const int textBottom = option.rect.top() + 12 + QFontMetrics(option.font).height() * 4 + 3 * 4;
            const bool buttonsBelow = rename.top() >= textBottom;
            const int room =
                buttonsBelow ? option.rect.right() - 12 - textLeft : rename.left() - 12 - textLeft;
            for (int role : {SessionListModel::TimeLineRole, SessionListModel::NetworkLineRole}) {
                const QString line = index.data(role).toString();
                QVERIFY2(fm.horizontalAdvance(line) <= room,
                         qPrintable(QStringLiteral("%1 px: '%2' needs %3 px, has %4")
                                        .arg(width)
                                        .arg(line)
                                        .arg(fm.horizontalAdvance(line))
                                        .arg(room)));
            }
            QVERIFY(option.rect.contains(rename));
        }
    }
}

void TestAppWidgets::renameStartsFromTheShownName()
{
    SessionListModel model;
    SessionDto phone = session(QStringLiteral("phone"), QStringLiteral("mobile"));
    phone.deviceInfo.name = QStringLiteral("iPhone");
    model.setSessions({session(QStringLiteral("me"), QStringLiteral("laptop"), true), phone});
    QListView view;
    view.setItemDelegate(new SessionDelegate(&view));
    view.setModel(&model);
    view.resize(700, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy rename(&model, &SessionListModel::renameRequested);
    view.setCurrentIndex(model.index(1));
    view.edit(model.index(1));
    auto* editor = view.findChild<QLineEdit*>();
    QVERIFY(editor);
    QCOMPARE(editor->text(), QStringLiteral("iPhone"));
    // Confirmed unchanged: nothing to send, the automatic name stays automatic.
    QTest::keyClick(editor, Qt::Key_Return);
    QCoreApplication::processEvents(); // the delegate commits on the next turn of the event loop
    QCoreApplication::processEvents();
    QCOMPARE(rename.size(), 0);
    QCOMPARE(model.index(1).data(SessionListModel::CustomNameRole).toString(), QString());
}

namespace {
/// Pixels of `img` at `points` that are exactly `colour`.
int countColour(const QImage& img, const QList<QPoint>& points, const QColor& colour)
{
    int n = 0;
    for (const QPoint& p : points)
        n += img.pixelColor(p) == colour;
    return n;
}
} // namespace

void TestAppWidgets::focusedButtonHasAStrongRing()
{
    // The report: "focus outlines on buttons are faint" (Fusion's one-pixel tint).
    Theme::apply(*qApp, ThemeMode::Light);
    QWidget window;
    auto* layout = new QVBoxLayout(&window);
    auto* first = new QPushButton(QStringLiteral("Refresh"), &window);
    auto* second = new QPushButton(QStringLiteral("Sign out all other devices"), &window);
    layout->addWidget(first);
    layout->addWidget(second);
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    first->setFocus(Qt::TabFocusReason);
    QTRY_VERIFY(first->hasFocus());
    const QColor accent = window.palette().color(QPalette::Active, QPalette::Highlight);
    // Two pixels deep on every side of the focused button, none on the other one.
    const auto ring = [](const QSize& size) {
        QList<QPoint> points;
        const int midX = size.width() / 2, midY = size.height() / 2;
        for (int i = 0; i < FocusRingStyle::kRingWidth; ++i)
            points << QPoint(i, midY) << QPoint(size.width() - 1 - i, midY) << QPoint(midX, i)
                   << QPoint(midX, size.height() - 1 - i);
        return points;
    };
    const QImage focused = first->grab().toImage();
    const QImage other = second->grab().toImage();
    QCOMPARE(countColour(focused, ring(focused.size()), accent), 4 * FocusRingStyle::kRingWidth);
    QCOMPARE(countColour(other, ring(other.size()), accent), 0);
}

void TestAppWidgets::tabReachesTheRowButtons()
{
    Theme::apply(*qApp, ThemeMode::Light);
    SessionListModel model;
    model.setSessions({session(QStringLiteral("me"), QStringLiteral("laptop"), true),
                       session(QStringLiteral("phone"), QStringLiteral("mobile"))});
    QWidget window;
    auto* layout = new QVBoxLayout(&window);
    auto* before = new QPushButton(QStringLiteral("Before"), &window);
    auto* view = new QListView(&window);
    auto* after = new QPushButton(QStringLiteral("After"), &window);
    auto* delegate = new SessionDelegate(view);
    view->setItemDelegate(delegate);
    view->setModel(&model);
    layout->addWidget(before);
    layout->addWidget(view);
    layout->addWidget(after);
    window.resize(760, 420);
    window.show();
    QApplication::setActiveWindow(&window);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QSignalSpy revoke(delegate, &SessionDelegate::revokeClicked);
    QSignalSpy rename(delegate, &SessionDelegate::renameClicked);
    view->setCurrentIndex(model.index(1));
    view->setFocus(Qt::TabFocusReason);
    QTRY_VERIFY(view->hasFocus());
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::None);

    // Tab: the row's Rename, then its Sign out, painted with the focus ring, and said.
    QTest::keyClick(view, Qt::Key_Tab);
    QVERIFY(view->hasFocus());
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::Rename);
    QVERIFY2(view->accessibleDescription().startsWith(QStringLiteral("Rename “mobile-device” button")),
             qPrintable(view->accessibleDescription()));
    QTest::keyClick(view, Qt::Key_Tab);
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::Revoke);
    QVERIFY(view->accessibleDescription().startsWith(QStringLiteral("Sign out “mobile-device” button")));
    {
        QStyleOptionViewItem option;
        option.initFrom(view);
        option.rect = view->visualRect(model.index(1));
        const QRect button = delegate->buttonRect(option, model.index(1), SessionDelegate::Button::Revoke);
        const QImage img = view->viewport()->grab().toImage();
        const qreal dpr = img.devicePixelRatio();
        const QColor accent = view->palette().color(QPalette::Active, QPalette::Highlight);
        const QPoint left(int(button.left() * dpr), int(button.center().y() * dpr));
        QCOMPARE(img.pixelColor(left), accent);
        QCOMPARE(img.pixelColor(left + QPoint(1, 0)), accent);
    }
    // Enter (or Space) presses it.
    QTest::keyClick(view, Qt::Key_Return);
    QCOMPARE(revoke.size(), 1);
    QCOMPARE(revoke.at(0).at(0).toModelIndex().row(), 1);
    // Tab again: out of the list to the next control; Shift+Tab comes back to the row.
    QTest::keyClick(view, Qt::Key_Tab);
    QTRY_VERIFY(after->hasFocus());
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::None);
    QTest::keyClick(after, Qt::Key_Backtab);
    QTRY_VERIFY(view->hasFocus());
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::None);

    // This device's row has Rename only; an arrow key hands the keys back to the rows.
    view->setCurrentIndex(model.index(0));
    QTest::keyClick(view, Qt::Key_Tab);
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::Rename);
    QTest::keyClick(view, Qt::Key_Space);
    QCOMPARE(rename.size(), 1);
    QCOMPARE(rename.at(0).at(0).toModelIndex().row(), 0);
    QTest::keyClick(view, Qt::Key_Down);
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::None);
    QCOMPARE(view->currentIndex().row(), 1);
    QTest::keyClick(view, Qt::Key_Up);
    QTest::keyClick(view, Qt::Key_Tab);
    QCOMPARE(delegate->focusedButton(), SessionDelegate::Button::Rename);
    QTest::keyClick(view, Qt::Key_Tab);
    QTRY_VERIFY(after->hasFocus());

    // Assistive technology hears what the keys do on each row.
    QVERIFY(
        model.index(1).data(Qt::AccessibleDescriptionRole).toString().contains(QStringLiteral("Sign out")));
    QVERIFY(
        !model.index(0).data(Qt::AccessibleDescriptionRole).toString().contains(QStringLiteral("Sign out")));
}

QTEST_MAIN(TestAppWidgets)
#include "TestAppWidgets.moc"
