// SPDX-License-Identifier: Apache-2.0
#include "SecurityPage.h"

#include "PolicyText.h"
#include "RememberedDevicesBox.h"
#include "TotpSetupPanel.h"
#include "api/ServerApi.h"
#include "shell/PasswordDialog.h"
#include "shell/Theme.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHideEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace ehrs::app {
namespace {
constexpr int kManySessions = 5;
constexpr int kOldSessionDays = 30;
constexpr int kFewBackupCodes = 3;
constexpr int kActivityShown = 15;

bool isFailure(const ActivityEvent& e)
{
    static const QStringList failures{QStringLiteral("login_failure"), QStringLiteral("mfa_failure"),
                                      QStringLiteral("mfa_locked"), QStringLiteral("reauth_failure"),
                                      QStringLiteral("refresh_reuse_detected")};
    return failures.contains(e.event);
}

QString deviceText(const DeviceInfo& d)
{
    QStringList parts;
    for (const QString& p : {d.name, d.os})
        if (!p.isEmpty() && !parts.contains(p))
            parts << p;
    if (parts.isEmpty() && !d.browser.isEmpty())
        parts << d.browser;
    return parts.isEmpty() ? SecurityPage::tr("Unknown device") : parts.join(QStringLiteral(" · "));
}

QString actionText(const QString& action)
{
    if (action == u"revoke_all_others")
        return SecurityPage::tr("signing out all other devices");
    if (action == u"mfa_setup")
        return SecurityPage::tr("turning on two-step verification");
    if (action == u"mfa_disable")
        return SecurityPage::tr("turning off two-step verification");
    if (action == u"password_change")
        return SecurityPage::tr("changing the password");
    if (action == u"backup_codes_regenerate")
        return SecurityPage::tr("getting new backup codes");
    return {};
}

/// What happened, in the words of the person it happened to.
QString describeActivity(const ActivityEvent& e)
{
    const QString& ev = e.event;
    if (ev == u"login_success")
        return SecurityPage::tr("Signed in");
    if (ev == u"login_failure")
        return e.reason == u"disabled" ? SecurityPage::tr("Sign-in refused: the account is disabled")
                                       : SecurityPage::tr("Failed sign-in: wrong password");
    if (ev == u"mfa_failure")
        return e.reason == u"totp_replayed"        ? SecurityPage::tr("Failed sign-in: a code was used twice")
               : e.reason == u"backup_code_reused" ? SecurityPage::tr("Failed sign-in: a used backup code")
                                                   : SecurityPage::tr("Failed sign-in: wrong two-step code");
    if (ev == u"mfa_locked")
        return SecurityPage::tr("Two-step sign-in locked after too many wrong codes");
    if (ev == u"reauth_failure") {
        const QString what = actionText(e.action);
        return what.isEmpty() ? SecurityPage::tr("Wrong password or code when confirming a change")
                              : SecurityPage::tr("Wrong password or code when %1").arg(what);
    }
    if (ev == u"logout")
        return SecurityPage::tr("Signed out");
    if (ev == u"session_revoked")
        return SecurityPage::tr("Signed out a device");
    if (ev == u"sessions_revoked_all_others")
        return SecurityPage::tr("Signed out all other devices");
    if (ev == u"refresh_reuse_detected")
        return SecurityPage::tr("Session ended: its sign-in was used from two places");
    if (ev == u"password_changed")
        return SecurityPage::tr("Password changed");
    if (ev == u"mfa_enabled")
        return SecurityPage::tr("Two-step verification turned on");
    if (ev == u"mfa_disabled")
        return SecurityPage::tr("Two-step verification turned off");
    if (ev == u"mfa_reset")
        return SecurityPage::tr("Two-step verification reset by IT");
    if (ev == u"backup_codes_regenerated")
        return SecurityPage::tr("New backup codes made");
    return ev;
}

QLabel* wrapped(const QString& text, QWidget* parent)
{
    auto* l = new QLabel(text, parent);
    l->setWordWrap(true);
    return l;
}
} // namespace

SecurityPage::SecurityPage(ServerApi* api, QWidget* parent) : QWidget(parent), m_api(api)
{
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setAccessibleName(tr("Security settings"));
    outer->addWidget(scroll);
    scroll->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    auto* content = new QWidget(scroll);
    content->setObjectName(QStringLiteral("securityContent"));
    content->setMaximumWidth(760); // readable on a wide window
    auto* layout = new QVBoxLayout(content);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(16);

    auto* title = new QLabel(tr("Security"), content);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.5);
    tf.setBold(true);
    title->setFont(tf);
    layout->addWidget(title);

    auto* recBox = new QGroupBox(tr("Recommendations"), content);
    auto* recLayout = new QVBoxLayout(recBox);
    m_recommendations = wrapped(tr("Loading…"), recBox);
    m_recommendations->setTextFormat(Qt::RichText);
    m_recommendations->setObjectName(QStringLiteral("recommendations"));
    m_recommendations->setAccessibleName(tr("Recommendations"));
    recLayout->addWidget(m_recommendations);
    layout->addWidget(recBox);
    // IT's session policy for this session (issue 14): shown once the server says what it is.
    m_policyBox = new QGroupBox(tr("This session"), content);
    auto* policyLayout = new QVBoxLayout(m_policyBox);
    m_policy = wrapped(QString(), m_policyBox);
    m_policy->setObjectName(QStringLiteral("sessionPolicy"));
    m_policy->setAccessibleName(tr("Session policy"));
    m_policySource = wrapped(QString(), m_policyBox);
    m_policySource->setObjectName(QStringLiteral("sessionPolicySource"));
    m_policySource->setForegroundRole(QPalette::PlaceholderText);
    policyLayout->addWidget(m_policy);
    policyLayout->addWidget(m_policySource);
    m_policyBox->setVisible(false);
    layout->addWidget(m_policyBox);
    layout->addWidget(buildMfaBox());
    layout->addWidget(buildPasswordBox());
    layout->addWidget(buildActivityBox());
    m_rememberedDevices = new RememberedDevicesBox(api, content);
    layout->addWidget(m_rememberedDevices);
    layout->addStretch();
    scroll->setWidget(content);
}

void SecurityPage::addWorkstationBox(QWidget* box)
{
    auto* layout = static_cast<QVBoxLayout*>(m_policyBox->parentWidget()->layout());
    layout->insertWidget(layout->indexOf(m_policyBox) + 1, box);
}

void SecurityPage::bringIntoView(QWidget* child)
{
    if (auto* scroll = findChild<QScrollArea*>())
        scroll->ensureWidgetVisible(child);
}

QGroupBox* SecurityPage::buildMfaBox()
{
    auto* box = new QGroupBox(tr("Two-step verification"), this);
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(
        wrapped(tr("Asks for a code from your phone when you sign in, so a stolen password alone "
                   "is not enough."),
                box));
    auto* row = new QHBoxLayout;
    m_mfaStatus = new QLabel(tr("Checking…"), box);
    m_mfaStatus->setObjectName(QStringLiteral("mfaStatus"));
    m_mfaStatus->setAccessibleName(tr("Two-step verification status"));
    m_mfaOn = new QPushButton(tr("Turn &on…"), box);
    m_mfaOn->setObjectName(QStringLiteral("turnOnTwoStep"));
    m_mfaOn->setAccessibleName(tr("Turn on two-step verification"));
    m_mfaOff = new QPushButton(tr("Turn o&ff…"), box);
    m_mfaOff->setObjectName(QStringLiteral("turnOffTwoStep"));
    m_mfaOff->setAccessibleName(tr("Turn off two-step verification"));
    m_mfaOn->setVisible(false);
    m_mfaOff->setVisible(false);
    row->addWidget(m_mfaStatus, 1);
    m_newCodes = new QPushButton(tr("New &backup codes…"), box);
    m_newCodes->setObjectName(QStringLiteral("newBackupCodes"));
    m_newCodes->setAccessibleName(tr("Get new backup codes"));
    m_newCodes->setToolTip(tr("Replaces your backup codes; two-step verification stays on."));
    m_newCodes->setVisible(false);
    row->addWidget(m_mfaOn);
    row->addWidget(m_newCodes);
    row->addWidget(m_mfaOff);
    layout->addLayout(row);
    m_totp = new TotpSetupPanel(m_api, box);
    m_totp->setVisible(false);
    layout->addWidget(m_totp);
    connect(m_mfaOn, &QPushButton::clicked, this, &SecurityPage::beginTotpSetup);
    connect(m_mfaOff, &QPushButton::clicked, this, &SecurityPage::disableTotp);
    connect(m_newCodes, &QPushButton::clicked, this, &SecurityPage::beginNewBackupCodes);
    connect(m_totp, &TotpSetupPanel::finished, this, [this](bool) {
        m_totp->setVisible(false);
        reload();
    });
    // The status line above the backup codes says "On" as soon as the server agrees.
    connect(m_totp, &TotpSetupPanel::turnedOn, this, &SecurityPage::reload);
    return box;
}

QGroupBox* SecurityPage::buildPasswordBox()
{
    auto* box = new QGroupBox(tr("Password"), this);
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(wrapped(tr("Changing your password signs out every other device."), box));
    auto* form = new QFormLayout;
    m_current = new QLineEdit(box);
    m_new = new QLineEdit(box);
    m_repeat = new QLineEdit(box);
    for (QLineEdit* e : {m_current, m_new, m_repeat}) {
        e->setEchoMode(QLineEdit::Password);
        e->setMaximumWidth(320);
    }
    m_current->setObjectName(QStringLiteral("currentPassword"));
    m_current->setAccessibleName(tr("Current password"));
    m_new->setObjectName(QStringLiteral("newPassword"));
    m_new->setAccessibleName(tr("New password"));
    m_repeat->setObjectName(QStringLiteral("repeatPassword"));
    m_repeat->setAccessibleName(tr("Repeat the new password"));
    m_currentCode = new QLineEdit(box);
    m_currentCode->setObjectName(QStringLiteral("passwordChangeCode"));
    m_currentCode->setAccessibleName(tr("Code from the authenticator app, or a backup code"));
    m_currentCode->setMaxLength(32);
    m_currentCode->setMaximumWidth(160);
    m_passwordForm = form;
    form->addRow(tr("C&urrent password:"), m_current);
    form->addRow(tr("Current co&de:"), m_currentCode);
    form->setRowVisible(m_currentCode, false); // until the account says 2FA is on
    form->addRow(tr("&New password:"), m_new);
    // The server's rule (PasswordHasher), said before the first attempt rather than after it fails.
    m_passwordRules = wrapped(tr("At least 12 characters. A few unrelated words make a strong password "
                                 "that is easy to remember."),
                              box);
    m_passwordRules->setObjectName(QStringLiteral("passwordRules"));
    m_passwordRules->setAccessibleName(tr("Password rules"));
    m_new->setAccessibleDescription(m_passwordRules->text());
    form->addRow(QString(), m_passwordRules);
    form->addRow(tr("&Repeat new password:"), m_repeat);
    layout->addLayout(form);
    auto* row = new QHBoxLayout;
    m_change = new QPushButton(tr("&Change password"), box);
    m_change->setObjectName(QStringLiteral("changePassword"));
    row->addWidget(m_change);
    row->addStretch();
    layout->addLayout(row);
    m_passwordMessage = wrapped(QString(), box);
    m_passwordMessage->setTextFormat(Qt::PlainText); // the server's words
    m_passwordMessage->setVisible(false);
    m_passwordMessage->setObjectName(QStringLiteral("passwordMessage"));
    m_passwordMessage->setAccessibleName(tr("Password change result"));
    layout->addWidget(m_passwordMessage);
    connect(m_change, &QPushButton::clicked, this, &SecurityPage::changePassword);
    connect(m_repeat, &QLineEdit::returnPressed, this, &SecurityPage::changePassword);
    return box;
}

QGroupBox* SecurityPage::buildActivityBox()
{
    auto* box = new QGroupBox(tr("Recent security activity"), this);
    box->setObjectName(QStringLiteral("activityBox"));
    auto* layout = new QVBoxLayout(box);
    auto* row = new QHBoxLayout;
    row->addWidget(
        wrapped(tr("Sign-ins to your account, failed attempts, signed-out devices and changes to how "
                   "you sign in. If you do not recognise something, change your password."),
                box),
        1);
    auto* reloadButton = new QPushButton(tr("Re&load"), box);
    reloadButton->setObjectName(QStringLiteral("reloadActivity"));
    reloadButton->setAccessibleName(tr("Reload the recent security activity"));
    row->addWidget(reloadButton, 0, Qt::AlignTop);
    layout->addLayout(row);
    m_activity = new QTreeWidget(box);
    m_activity->setObjectName(QStringLiteral("activityList"));
    m_activity->setAccessibleName(tr("Recent security activity"));
    m_activity->setHeaderLabels({tr("When"), tr("What"), tr("Device"), tr("Where")});
    m_activity->setRootIsDecorated(false);
    m_activity->setUniformRowHeights(true);
    m_activity->setSelectionMode(QAbstractItemView::SingleSelection);
    m_activity->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_activity->setMinimumHeight(m_activity->fontMetrics().height() * 9);
    // What happened takes the room left; a long one is elided, whole in its tooltip.
    m_activity->header()->setStretchLastSection(false);
    m_activity->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_activity->header()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_activity->setTextElideMode(Qt::ElideRight);
    layout->addWidget(m_activity);
    m_activityStatus = wrapped(QString(), box);
    m_activityStatus->setObjectName(QStringLiteral("activityStatus"));
    m_activityStatus->setTextFormat(Qt::PlainText);
    m_activityStatus->setVisible(false);
    layout->addWidget(m_activityStatus);
    connect(reloadButton, &QPushButton::clicked, this, &SecurityPage::reloadActivity);
    return box;
}

void SecurityPage::reloadActivity()
{
    m_api->activity(kActivityShown).then(this, [this](const Result<std::vector<ActivityEvent>>& r) {
        if (!r) {
            // The rows already shown stay; the line under them says they may be out of date.
            setMessage(m_activityStatus,
                       tr("Could not load the recent activity: %1").arg(describeError(r.error())), true);
            Q_EMIT activityLoaded(-1);
            return;
        }
        m_activity->clear();
        const QDateTime now = QDateTime::currentDateTime();
        for (const ActivityEvent& e : *r) {
            const bool failure = isFailure(e);
            const QDateTime local = e.occurredAt.toLocalTime();
            const QString when =
                local.date() == now.date()
                    ? tr("Today %1").arg(QLocale().toString(local.time(), QStringLiteral("HH:mm")))
                    : QLocale().toString(local, QStringLiteral("d MMM yyyy, HH:mm"));
            QString device = e.isCurrentSession ? tr("This device") : deviceText(e.device);
            // The place in words; the address, which only IT reads, in the tooltip.
            const QString where = e.place.isEmpty() ? e.ipAddress : e.place;
            auto* item = new QTreeWidgetItem(m_activity, {when, describeActivity(e), device, where});
            item->setData(0, Qt::UserRole, e.event);
            item->setToolTip(1, item->text(1));
            item->setToolTip(2, deviceText(e.device));
            item->setToolTip(3, e.place.isEmpty() ? e.ipAddress
                                                  : QStringLiteral("%1 (%2)").arg(e.place, e.ipAddress));
            if (failure) {
                for (int c = 0; c < 4; ++c)
                    item->setForeground(c, Theme::danger(palette()));
            }
        }
        if (m_activity->topLevelItemCount() > 0) // keyboard users start at the newest, unselected
            m_activity->setCurrentItem(m_activity->topLevelItem(0), 0, QItemSelectionModel::NoUpdate);
        setMessage(m_activityStatus, r->empty() ? tr("No activity recorded yet.") : QString(), false);
        m_activityStatus->setPalette(palette());
        Q_EMIT activityLoaded(int(r->size()));
    });
}

void SecurityPage::growToContents()
{
    // The scroll area would grow the page on a later turn of the event loop; until then a taller
    // part (the QR code) would be squeezed below its size. Grow it now, so that the code is whole
    // from the moment it is shown.
    auto* scroll = findChild<QScrollArea*>();
    QWidget* content = scroll ? scroll->widget() : nullptr;
    if (!content || !content->layout())
        return;
    content->layout()->activate();
    const int need = content->hasHeightForWidth() ? content->heightForWidth(content->width())
                                                  : content->sizeHint().height();
    if (need > content->height())
        content->resize(content->width(), need);
}

void SecurityPage::setMessage(QLabel* label, const QString& text, bool error)
{
    QPalette pal = label->palette();
    pal.setColor(QPalette::WindowText, error ? Theme::danger(palette()) : Theme::success(palette()));
    label->setPalette(pal);
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

void SecurityPage::reload()
{
    reloadActivity();
    m_rememberedDevices->reload();
    m_api->account().then(this, [this](const Result<AccountInfo>& r) {
        const bool unreachable =
            !r && (r.error().code == ErrorCode::NetworkError || r.error().code == ErrorCode::Unavailable);
        const QString offlineWhy =
            unreachable ? tr("Not available while the server cannot be reached.") : QString();
        for (QPushButton* b : {m_mfaOn, m_mfaOff, m_newCodes, m_change}) {
            b->setEnabled(!unreachable);
            b->setToolTip(offlineWhy);
        }
        if (!r) {
            m_accountError = describeError(r.error());
            m_mfaStatus->setText(tr("Could not check: %1").arg(m_accountError.toHtmlEscaped()));
            updateRecommendations();
            return;
        }
        m_accountError.clear();
        m_displayName = r->user.name.isEmpty() ? r->user.email : r->user.name;
        m_known = true;
        m_mfaEnabled = r->user.mfaEnabled;
        m_backupLeft = r->backupCodesRemaining;
        const QString policy = r->policy ? describePolicy(*r->policy) : QString();
        m_policy->setText(policy.isEmpty() ? QString() : tr("Set by your organisation: %1.").arg(policy));
        m_policySource->setText(r->policy ? describePolicySource(*r->policy) : QString());
        m_policyBox->setVisible(!policy.isEmpty());
        m_mfaStatus->setText(m_mfaEnabled ? (m_backupLeft == 1
                                                 ? tr("<b>On</b> — 1 backup code left.")
                                                 : tr("<b>On</b> — %1 backup codes left.").arg(m_backupLeft))
                                          : tr("<b>Off</b> — your password alone signs you in."));
        // isHidden(), not isVisible(): the page itself may be hidden behind another tab.
        m_mfaOn->setVisible(!m_mfaEnabled && m_totp->isHidden());
        m_mfaOff->setVisible(m_mfaEnabled && m_totp->isHidden());
        m_newCodes->setVisible(m_mfaEnabled && m_totp->isHidden());
        m_passwordForm->setRowVisible(m_currentCode, m_mfaEnabled);
        updateRecommendations();
        Q_EMIT accountLoaded(m_mfaEnabled);
    });
}

void SecurityPage::hideEvent(QHideEvent* event)
{
    QWidget::hideEvent(event);
    if (event->spontaneous()) // minimised: the same person comes back
        return;
    for (QLineEdit* e : {m_current, m_new, m_repeat, m_currentCode})
        e->clear();
    setMessage(m_passwordMessage, QString(), false);
    if (!m_totp->isHidden()) {
        m_totp->reset();
        m_totp->setVisible(false);
        m_mfaOn->setVisible(m_known && !m_mfaEnabled);
        m_mfaOff->setVisible(m_known && m_mfaEnabled);
        m_newCodes->setVisible(m_known && m_mfaEnabled);
    }
}

void SecurityPage::setSessionStats(int count, int oldestDays)
{
    m_sessionCount = count;
    m_oldestDays = oldestDays;
    updateRecommendations();
}

void SecurityPage::updateRecommendations()
{
    // Advice only from checks that ran: no all-clear while the account or the devices are unknown.
    if (!m_accountError.isEmpty()) {
        m_recommendations->setText(
            tr("<b>Could not check your account</b>, so there is no advice right now. %1")
                .arg(m_accountError.toHtmlEscaped()));
        return;
    }
    if (!m_known)
        return;
    QStringList items;
    if (!m_mfaEnabled)
        items << tr("<b>Turn on two-step verification.</b> It stops someone who learns your password from "
                    "signing in.");
    else if (m_backupLeft <= kFewBackupCodes)
        items << tr("<b>Few backup codes left (%1).</b> Use “New backup codes” above to get a fresh set.")
                     .arg(m_backupLeft);
    if (m_sessionCount > kManySessions)
        items
            << tr("<b>You are signed in on %1 devices.</b> Sign out the ones you no longer use on the Active "
                  "sessions page.")
                   .arg(m_sessionCount);
    if (m_oldestDays >= kOldSessionDays)
        items << tr("<b>A session is %1 days old.</b> Sign out devices you have not used for a while.")
                     .arg(m_oldestDays);
    if (m_sessionCount < 0)
        items << tr("<b>Could not check your signed-in devices</b>: the list of sessions did not load.");
    if (items.isEmpty()) {
        m_recommendations->setText(tr("Nothing to do: your account follows the recommendations."));
        return;
    }
    m_recommendations->setText(QStringLiteral("<ul style='margin-left:-20px'><li>%1</li></ul>")
                                   .arg(items.join(QStringLiteral("</li><li>"))));
}

void SecurityPage::beginTotpSetup()
{
    // The server asks for the password before it hands out a secret: a borrowed access token
    // alone cannot enrol someone else's phone.
    auto* dialog = new PasswordDialog(tr("Turn on two-step verification"),
                                      tr("Enter your password to set up two-step verification."),
                                      tr("Continue"), false, this);
    dialog->setObjectName(QStringLiteral("confirmEnableTotp"));
    connect(dialog, &PasswordDialog::submitted, this,
            [this, dialog](const QString& password, const QString&) {
                m_api->startMfaSetup(password).then(dialog, [this, dialog](const Result<MfaEnrolment>& r) {
                    if (!r) {
                        dialog->showError(describeError(r.error()));
                        return;
                    }
                    dialog->accept();
                    m_mfaOn->setVisible(false);
                    m_totp->setVisible(true);
                    growToContents();
                    m_totp->begin(*r);
                });
            });
    dialog->open();
}

namespace {
/// A refused password + code: the message, and the field that was wrong cleared and focused.
void showPasswordAndCodeError(PasswordDialog* dialog, const Error& error)
{
    dialog->showError(describeError(error),
                      isCodeError(error) ? PasswordDialog::Field::Code : PasswordDialog::Field::Password);
}
} // namespace

void SecurityPage::beginNewBackupCodes()
{
    auto* dialog = new PasswordDialog(
        tr("New backup codes"),
        tr("Your current backup codes will stop working. Enter your password and a current code from your "
           "authenticator app."),
        tr("Get new codes"), true, this);
    dialog->setObjectName(QStringLiteral("confirmNewBackupCodes"));
    connect(
        dialog, &PasswordDialog::submitted, this,
        [this, dialog](const QString& password, const QString& code) {
            m_api->newBackupCodes(password, code).then(dialog, [this, dialog](const Result<QStringList>& r) {
                if (!r)
                    return showPasswordAndCodeError(dialog, r.error());
                dialog->accept();
                m_mfaOff->setVisible(false);
                m_newCodes->setVisible(false);
                m_totp->setVisible(true);
                growToContents();
                m_totp->showNewBackupCodes(*r);
                reload(); // "10 backup codes left"
            });
        });
    dialog->open();
}

void SecurityPage::disableTotp()
{
    auto* dialog = new PasswordDialog(tr("Turn off two-step verification"),
                                      tr("Enter your password and a current code (or a backup code)."),
                                      tr("Turn off"), true, this);
    dialog->setObjectName(QStringLiteral("confirmDisableTotp"));
    connect(dialog, &PasswordDialog::submitted, this,
            [this, dialog](const QString& password, const QString& code) {
                m_api->disableMfa(password, code).then(dialog, [this, dialog](const Result<void>& r) {
                    if (!r)
                        return showPasswordAndCodeError(dialog, r.error());
                    dialog->accept();
                    reload();
                });
            });
    dialog->open();
}

void SecurityPage::changePassword()
{
    const QString current = m_current->text();
    const QString next = m_new->text();
    const QString code = m_currentCode->text().simplified();
    if (current.isEmpty() || next.isEmpty()) {
        setMessage(m_passwordMessage, tr("Enter your current password and a new one."), true);
        return;
    }
    if (m_mfaEnabled && code.isEmpty()) {
        setMessage(m_passwordMessage,
                   tr("Enter a current code from your authenticator app (or a backup code)."), true);
        m_currentCode->setFocus();
        return;
    }
    if (next != m_repeat->text()) {
        setMessage(m_passwordMessage, tr("The new passwords do not match."), true);
        m_repeat->clear();
        m_repeat->setFocus();
        return;
    }
    m_change->setEnabled(false);
    m_api->changePassword(current, code, next).then(this, [this](const Result<int>& r) {
        m_change->setEnabled(true);
        if (!r) {
            setMessage(m_passwordMessage, describeError(r.error()), true);
            // Clear only what was refused: the current password (or code) when it was wrong, the
            // new one when it broke a rule.
            if (r.error().code == ErrorCode::Forbidden && isCodeError(r.error())) {
                m_currentCode->clear();
                m_currentCode->setFocus();
            } else if (r.error().code == ErrorCode::Forbidden) {
                m_current->clear();
                m_currentCode->clear();
                m_current->setFocus();
            } else {
                m_new->clear();
                m_repeat->clear();
                m_new->setFocus();
            }
            return;
        }
        for (QLineEdit* e : {m_current, m_new, m_repeat, m_currentCode})
            e->clear();
        setMessage(m_passwordMessage,
                   *r == 0 ? tr("Password changed. No other devices were signed in.")
                           : (*r == 1 ? tr("Password changed. 1 other device was signed out.")
                                      : tr("Password changed. %1 other devices were signed out.").arg(*r)),
                   false);
        Q_EMIT passwordChanged();
    });
}

} // namespace ehrs::app
