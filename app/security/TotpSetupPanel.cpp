// SPDX-License-Identifier: Apache-2.0
#include "TotpSetupPanel.h"

#include "QrCodeWidget.h"
#include "api/ServerApi.h"
#include "shell/Theme.h"

#include <QApplication>
#include <QClipboard>
#include <QDate>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace ehrs::app {
namespace {
QString groupedSecret(const QString& secret)
{
    QStringList groups;
    for (qsizetype i = 0; i < secret.size(); i += 4)
        groups << secret.mid(i, 4);
    return groups.join(u' ');
}
} // namespace

TotpSetupPanel::TotpSetupPanel(ServerApi* api, QWidget* parent)
    : QWidget(parent), m_api(api), m_steps(new QStackedWidget(this)), m_qr(new QrCodeWidget(this)),
      m_secret(new QLabel(this)), m_error(new QLabel(this)), m_code(new QLineEdit(this)),
      m_confirm(new QPushButton(tr("Turn &on"), this)), m_backupCodes(new QLabel(this)),
      m_saved(new QPushButton(tr("I have saved them"), this))
{
    setObjectName(QStringLiteral("totpSetup"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_steps);

    // Step 1: scan and confirm.
    auto* scan = new QWidget(m_steps);
    auto* scanLayout = new QHBoxLayout(scan);
    scanLayout->setContentsMargins(0, 0, 0, 0);
    m_qr->setObjectName(QStringLiteral("totpQrCode"));
    m_qr->setAccessibleName(tr("QR code for your authenticator app"));
    scanLayout->addWidget(m_qr, 0, Qt::AlignTop);
    auto* right = new QVBoxLayout;
    auto* steps =
        new QLabel(tr("1. Scan this QR code with an authenticator app (FreeOTP, Google Authenticator, "
                      "Microsoft Authenticator, …).<br>2. Or type this key into the app:"),
                   scan);
    steps->setWordWrap(true);
    right->addWidget(steps);
    m_secret->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_secret->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_secret->setObjectName(QStringLiteral("totpSecret"));
    m_secret->setAccessibleName(tr("Secret key"));
    m_secret->setFocusPolicy(Qt::StrongFocus);
    right->addWidget(m_secret);
    right->addWidget(new QLabel(tr("3. Enter the 6-digit code the app shows:"), scan));
    m_code->setObjectName(QStringLiteral("totpCode"));
    m_code->setAccessibleName(tr("Code from the authenticator app"));
    m_code->setPlaceholderText(QStringLiteral("123456"));
    m_code->setMaxLength(16);
    m_code->setMaximumWidth(160);
    auto* row = new QHBoxLayout;
    row->addWidget(m_code);
    row->addWidget(m_confirm);
    m_confirm->setObjectName(QStringLiteral("totpConfirm"));
    m_confirm->setAccessibleName(tr("Turn on two-step verification"));
    auto* cancel = new QPushButton(tr("Cancel"), scan);
    cancel->setObjectName(QStringLiteral("totpCancel"));
    cancel->setAccessibleName(tr("Cancel turning on two-step verification"));
    row->addWidget(cancel);
    row->addStretch();
    right->addLayout(row);
    // Server messages, the secret and the codes are text, never markup.
    for (QLabel* l : {m_error, m_secret, m_backupCodes})
        l->setTextFormat(Qt::PlainText);
    m_error->setObjectName(QStringLiteral("totpError"));
    m_error->setAccessibleName(tr("Error"));
    m_error->setWordWrap(true);
    m_error->setVisible(false);
    QPalette pal = m_error->palette();
    pal.setColor(QPalette::WindowText, Theme::danger(palette()));
    m_error->setPalette(pal);
    right->addWidget(m_error);
    right->addStretch();
    scanLayout->addLayout(right, 1);
    m_steps->addWidget(scan);

    // Step 2: backup codes, shown once.
    auto* codes = new QWidget(m_steps);
    auto* codesLayout = new QVBoxLayout(codes);
    codesLayout->setContentsMargins(0, 0, 0, 0);
    m_codesHeading = new QLabel(codes);
    m_codesHeading->setObjectName(QStringLiteral("backupCodesHeading"));
    m_codesHeading->setWordWrap(true);
    codesLayout->addWidget(m_codesHeading);
    m_backupCodes->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_backupCodes->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_backupCodes->setObjectName(QStringLiteral("backupCodes"));
    m_backupCodes->setAccessibleName(tr("Backup codes"));
    m_backupCodes->setFocusPolicy(Qt::StrongFocus);
    codesLayout->addWidget(m_backupCodes);
    auto* codeButtons = new QHBoxLayout;
    m_copy = new QPushButton(tr("Co&py codes"), codes);
    m_copy->setObjectName(QStringLiteral("copyBackupCodes"));
    m_copy->setAccessibleName(tr("Copy the backup codes"));
    m_save = new QPushButton(tr("Sa&ve to file…"), codes);
    m_save->setObjectName(QStringLiteral("saveBackupCodes"));
    m_save->setAccessibleName(tr("Save the backup codes to a file"));
    m_save->setToolTip(tr("A text file only you can read; print it, then keep the paper somewhere safe."));
    m_saved->setObjectName(QStringLiteral("backupCodesSaved"));
    codeButtons->addWidget(m_copy);
    codeButtons->addWidget(m_save);
    codeButtons->addWidget(m_saved);
    codeButtons->addStretch();
    codesLayout->addLayout(codeButtons);
    m_feedback = new QLabel(codes);
    m_feedback->setObjectName(QStringLiteral("backupCodesFeedback"));
    m_feedback->setAccessibleName(tr("Backup codes status"));
    m_feedback->setTextFormat(Qt::PlainText); // carries a file name
    m_feedback->setWordWrap(true);
    m_feedback->setVisible(false);
    codesLayout->addWidget(m_feedback);
    m_steps->addWidget(codes);

    connect(m_confirm, &QPushButton::clicked, this, &TotpSetupPanel::confirm);
    connect(m_code, &QLineEdit::returnPressed, this, &TotpSetupPanel::confirm);
    connect(cancel, &QPushButton::clicked, this, [this] { Q_EMIT finished(false); });
    connect(m_copy, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(
            m_backupCodes->text().replace(QStringLiteral("   "), QStringLiteral("\n")));
        setFeedback(tr("Copied to the clipboard. Paste them somewhere safe, then clear the clipboard."),
                    false);
    });
    connect(m_save, &QPushButton::clicked, this, [this] {
        auto* dialog = new QFileDialog(this, tr("Save backup codes"),
                                       QDir::home().filePath(QStringLiteral("ehr-sessions-backup-codes.txt")),
                                       tr("Text files (*.txt)"));
        dialog->setObjectName(QStringLiteral("saveBackupCodesDialog"));
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        dialog->setOption(QFileDialog::DontUseNativeDialog); // the same dialog everywhere, and in tests
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &QFileDialog::fileSelected, this, [this](const QString& path) { saveCodesTo(path); });
        dialog->open();
    });
    connect(m_saved, &QPushButton::clicked, this, [this] {
        m_backupCodes->clear(); // shown once
        Q_EMIT finished(true);
    });
}

void TotpSetupPanel::setFeedback(const QString& text, bool error)
{
    QPalette pal = m_feedback->palette();
    pal.setColor(QPalette::WindowText, error ? Theme::danger(palette()) : Theme::success(palette()));
    m_feedback->setPalette(pal);
    m_feedback->setText(text);
    m_feedback->setVisible(!text.isEmpty());
}

bool TotpSetupPanel::saveCodesTo(const QString& path)
{
    QFile file(path);
    // Owner-only before a byte is written: the codes sign in like a second factor.
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        setFeedback(tr("Could not save to %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()),
                    true);
        return false;
    }
    QString text = tr("EHR Sessions backup codes (%1)\nEach code works once, instead of a code from your "
                      "phone.\n\n")
                       .arg(QLocale().toString(QDate::currentDate(), QLocale::LongFormat));
    text += m_backupCodes->text().replace(QStringLiteral("   "), QStringLiteral("\n")) + u'\n';
    const QByteArray bytes = text.toUtf8();
    if (file.write(bytes) != bytes.size() || !file.flush()) {
        setFeedback(tr("Could not save to %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()),
                    true);
        return false;
    }
    setFeedback(tr("Saved to %1. Print it or keep it somewhere safe.").arg(QDir::toNativeSeparators(path)),
                false);
    return true;
}

void TotpSetupPanel::showCodes(const QStringList& codes)
{
    QStringList lines;
    for (qsizetype i = 0; i < codes.size(); i += 2)
        lines << codes.mid(i, 2).join(QStringLiteral("   "));
    m_backupCodes->setText(lines.join(u'\n'));
    setFeedback({}, false);
    m_steps->setCurrentIndex(1);
    m_backupCodes->setFocus();
}

void TotpSetupPanel::showNewBackupCodes(const QStringList& codes)
{
    ++m_generation;
    m_codesHeading->setText(
        tr("<b>New backup codes.</b> The earlier ones no longer work. Save these somewhere "
           "safe: each works once if you lose your phone. They will not be shown again."));
    showCodes(codes);
}

void TotpSetupPanel::reset()
{
    ++m_generation;
    m_steps->setCurrentIndex(0);
    m_qr->setText({});
    m_secret->clear();
    m_code->clear();
    m_backupCodes->clear();
    setFeedback({}, false);
    showError({});
    m_confirm->setEnabled(false);
}

void TotpSetupPanel::showError(const QString& text)
{
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

void TotpSetupPanel::begin(const MfaEnrolment& enrolment)
{
    reset();
    m_qr->setText(enrolment.otpauthUri);
    m_secret->setText(groupedSecret(enrolment.secret));
    m_confirm->setEnabled(true);
    m_code->setFocus();
    Q_EMIT readyToScan();
}

void TotpSetupPanel::confirm()
{
    const QString code = m_code->text().simplified().remove(u' ');
    if (code.isEmpty() || !m_confirm->isEnabled())
        return;
    m_confirm->setEnabled(false);
    m_code->clear();
    m_api->enableMfa(code).then(this, [this, generation = m_generation](const Result<QStringList>& r) {
        if (generation != m_generation)
            return;
        m_confirm->setEnabled(true);
        if (!r) {
            showError(r.error().code == ErrorCode::Unauthenticated ||
                              r.error().code == ErrorCode::InvalidRequest ||
                              r.error().code == ErrorCode::Forbidden
                          ? tr("That code is not correct. Enter the code the app shows now.")
                          : describeError(r.error()));
            m_code->setFocus();
            return;
        }
        m_codesHeading->setText(
            tr("<b>Two-step verification is on.</b> Save these backup codes somewhere safe. Each works once "
               "if you lose your phone. They will not be shown again."));
        showCodes(*r);
        Q_EMIT turnedOn();
    });
}

} // namespace ehrs::app
