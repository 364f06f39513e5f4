// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace ehrs::app {

/// Asks for the password again before a sensitive action (and optionally a 2FA code). It stays
/// open while the caller works: submitted() hands over the input, then the caller either closes
/// it with accept() or shows why it failed with showError() (which clears the field that was
/// wrong: the password, or only the code). The dialog grows to keep every text whole.
class PasswordDialog : public QDialog
{
    Q_OBJECT
public:
    PasswordDialog(const QString& title, const QString& explanation, const QString& actionText,
                   bool askCode = false, QWidget* parent = nullptr);

    enum class Field { Password, Code };
    void showError(const QString& message, Field wrong = Field::Password);
    QLineEdit* passwordField() const { return m_password; }
    QLineEdit* codeField() const { return m_code; }
    QLabel* errorLabel() const { return m_error; }

Q_SIGNALS:
    void submitted(const QString& password, const QString& code);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void submit();
    /// At least as large as the layout needs at the current width (word-wrapped labels included).
    void fitToContents();

    QLineEdit* m_password;
    QLineEdit* m_code = nullptr;
    QLabel* m_error;
    QDialogButtonBox* m_buttons;
};

} // namespace ehrs::app
