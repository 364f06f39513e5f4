// SPDX-License-Identifier: Apache-2.0
#include "TotpSetupPanel.h"

#include "QrCodeWidget.h"
#include "api/ServerApi.h"
#include "shell/Theme.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
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
    auto* done =
        new QLabel(tr("<b>Two-step verification is on.</b> Save these backup codes somewhere safe. Each "
                      "works once if you lose your phone. They will not be shown again."),
                   codes);
    done->setWordWrap(true);
    codesLayout->addWidget(done);
    m_backupCodes->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_backupCodes->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_backupCodes->setObjectName(QStringLiteral("backupCodes"));
    m_backupCodes->setAccessibleName(tr("Backup codes"));
    m_backupCodes->setFocusPolicy(Qt::StrongFocus);
    codesLayout->addWidget(m_backupCodes);
    auto* codeButtons = new QHBoxLayout;
    auto* copy = new QPushButton(tr("Co&py codes"), codes);
    copy->setObjectName(QStringLiteral("copyBackupCodes"));
    m_saved->setObjectName(QStringLiteral("backupCodesSaved"));
    codeButtons->addWidget(copy);
    codeButtons->addWidget(m_saved);
    codeButtons->addStretch();
    codesLayout->addLayout(codeButtons);
    m_steps->addWidget(codes);

    connect(m_confirm, &QPushButton::clicked, this, &TotpSetupPanel::confirm);
    connect(m_code, &QLineEdit::returnPressed, this, &TotpSetupPanel::confirm);
    connect(cancel, &QPushButton::clicked, this, [this] { Q_EMIT finished(false); });
    connect(copy, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(
            m_backupCodes->text().replace(QStringLiteral("   "), QStringLiteral("\n")));
    });
    connect(m_saved, &QPushButton::clicked, this, [this] {
        m_backupCodes->clear(); // shown once
        Q_EMIT finished(true);
    });
}

void TotpSetupPanel::reset()
{
    ++m_generation;
    m_steps->setCurrentIndex(0);
    m_qr->setText({});
    m_secret->clear();
    m_code->clear();
    m_backupCodes->clear();
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
        QStringList lines;
        for (qsizetype i = 0; i < r->size(); i += 2)
            lines << r->mid(i, 2).join(QStringLiteral("   "));
        m_backupCodes->setText(lines.join(u'\n'));
        m_steps->setCurrentIndex(1);
        m_backupCodes->setFocus();
        Q_EMIT turnedOn();
    });
}

} // namespace ehrs::app
