// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace ehrs::app {

/// Asks for the password again before a sensitive action (and optionally a 2FA code). It stays
/// open while the caller works: submitted() hands over the input, then the caller either closes
/// it with accept() or shows why it failed with showError() (which clears the password).
class PasswordDialog : public QDialog
{
    Q_OBJECT
public:
    PasswordDialog(const QString& title, const QString& explanation, const QString& actionText,
                   bool askCode = false, QWidget* parent = nullptr);

    void showError(const QString& message);
    QLineEdit* passwordField() const { return m_password; }
    QLineEdit* codeField() const { return m_code; }
    QLabel* errorLabel() const { return m_error; }

Q_SIGNALS:
    void submitted(const QString& password, const QString& code);

private:
    void submit();

    QLineEdit* m_password;
    QLineEdit* m_code = nullptr;
    QLabel* m_error;
    QDialogButtonBox* m_buttons;
};

} // namespace ehrs::app
