// SPDX-License-Identifier: Apache-2.0
#include "PasswordDialog.h"

#include "Theme.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>

namespace ehrs::app {

PasswordDialog::PasswordDialog(const QString& title, const QString& explanation, const QString& actionText,
                               bool askCode, QWidget* parent)
    : QDialog(parent), m_password(new QLineEdit(this)), m_error(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel, this))
{
    setWindowTitle(title);
    setAttribute(Qt::WA_DeleteOnClose);
    auto* layout = new QVBoxLayout(this);
    m_error->setTextFormat(Qt::PlainText); // the server's words
    auto* text = new QLabel(explanation, this);
    text->setTextFormat(Qt::PlainText); // may name devices, which whoever signed in chose
    text->setObjectName(QStringLiteral("explanation"));
    text->setWordWrap(true);
    // Wide enough for a two-line explanation and the fields' placeholders; taller as texts need.
    setMinimumWidth(fontMetrics().averageCharWidth() * 52);
    layout->addWidget(text);

    auto* form = new QFormLayout;
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setAccessibleName(tr("Password"));
    form->addRow(tr("&Password:"), m_password);
    if (askCode) {
        m_code = new QLineEdit(this);
        m_code->setAccessibleName(tr("Authentication code"));
        m_code->setPlaceholderText(tr("6-digit code or a backup code"));
        m_code->setMaxLength(64);
        m_code->setMinimumWidth(m_code->fontMetrics().horizontalAdvance(m_code->placeholderText()) + 24);
        form->addRow(tr("&Code:"), m_code);
    }
    layout->addLayout(form);

    m_error->setWordWrap(true);
    m_error->setVisible(false);
    QPalette pal = m_error->palette();
    pal.setColor(QPalette::WindowText, Theme::danger(palette()));
    m_error->setPalette(pal);
    m_error->setAccessibleName(tr("Error"));
    layout->addWidget(m_error);

    QPushButton* action = m_buttons->addButton(actionText, QDialogButtonBox::AcceptRole);
    action->setDefault(true);
    action->setEnabled(false);
    layout->addWidget(m_buttons);

    auto updateEnabled = [this, action] {
        action->setEnabled(!m_password->text().isEmpty() && (!m_code || !m_code->text().trimmed().isEmpty()));
    };
    connect(m_password, &QLineEdit::textChanged, this, updateEnabled);
    if (m_code)
        connect(m_code, &QLineEdit::textChanged, this, updateEnabled);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &PasswordDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    m_password->setFocus();
}

void PasswordDialog::submit()
{
    const QString password = m_password->text();
    const QString code = m_code ? m_code->text().trimmed() : QString();
    if (password.isEmpty())
        return;
    m_error->setVisible(false);
    m_buttons->setEnabled(false);
    Q_EMIT submitted(password, code);
}

void PasswordDialog::showError(const QString& message, Field wrong)
{
    m_buttons->setEnabled(true);
    // Only what was refused is typed again.
    QLineEdit* refused = wrong == Field::Code && m_code ? m_code : m_password;
    refused->clear();
    m_error->setText(message);
    m_error->setVisible(true);
    fitToContents();
    refused->setFocus();
}

void PasswordDialog::showEvent(QShowEvent* event)
{
    QDialog::showEvent(event);
    fitToContents();
}

void PasswordDialog::fitToContents()
{
    QLayout* l = layout();
    l->activate();
    const int w = std::max(width(), l->totalMinimumSize().width());
    const int h =
        std::max(l->totalMinimumSize().height(), l->hasHeightForWidth() ? l->totalHeightForWidth(w) : 0);
    setMinimumHeight(h);
    if (height() < h || width() < w)
        resize(w, std::max(height(), h));
}

} // namespace ehrs::app
