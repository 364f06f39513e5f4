// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;

namespace ehrs::app {

struct MfaEnrolment;
class QrCodeWidget;
class ServerApi;

/// TOTP enrolment: starts setup on the server, shows the QR code and the secret, confirms with a
/// code from the authenticator app, then shows the backup codes once.
class TotpSetupPanel : public QWidget
{
    Q_OBJECT
public:
    TotpSetupPanel(ServerApi* api, QWidget* parent = nullptr);

    /// Shows a new secret the server gave (after SecurityPage asked for the password).
    void begin(const MfaEnrolment& enrolment);
    /// Forgets the secret, the code typed and the backup codes, and ignores a reply still on its
    /// way: nothing of an unfinished enrolment stays in the widgets for whoever comes next.
    void reset();
    QrCodeWidget* qrCode() const { return m_qr; }
    QLabel* secretLabel() const { return m_secret; }
    QLineEdit* codeField() const { return m_code; }
    QPushButton* confirmButton() const { return m_confirm; }
    QLabel* errorLabel() const { return m_error; }
    QLabel* backupCodesLabel() const { return m_backupCodes; }
    /// "I have saved them", under the backup codes.
    QPushButton* savedButton() const { return m_saved; }
    QPushButton* copyButton() const { return m_copy; }
    /// "Save to file…": a file dialog (objectName "saveBackupCodesDialog"), then saveCodesTo().
    QPushButton* saveButton() const { return m_save; }
    /// "Copied to the clipboard.", "Saved to …", or why saving failed.
    QLabel* codesFeedback() const { return m_feedback; }
    /// Shows new backup codes (after "New backup codes"): the codes step without an enrolment.
    void showNewBackupCodes(const QStringList& codes);
    /// Writes the backup codes to `path`, readable by the owner only; the feedback says how it went.
    bool saveCodesTo(const QString& path);

Q_SIGNALS:
    /// 2FA is on (after the backup codes were shown) or the user cancelled.
    void finished(bool enabled);
    /// The QR code is on screen (tests and the screenshot script wait for it).
    void readyToScan();
    /// The server turned 2FA on; the backup codes are on screen.
    void turnedOn();

private:
    void confirm();
    void showError(const QString& text);
    void showCodes(const QStringList& codes);
    void setFeedback(const QString& text, bool error);

    ServerApi* m_api;
    QStackedWidget* m_steps;
    QrCodeWidget* m_qr;
    QLabel* m_secret;
    QLabel* m_error;
    QLineEdit* m_code;
    QPushButton* m_confirm;
    QLabel* m_backupCodes;
    QPushButton* m_saved;
    QPushButton* m_copy = nullptr;
    QPushButton* m_save = nullptr;
    QLabel* m_feedback = nullptr;
    QLabel* m_codesHeading = nullptr;
    int m_generation = 0; // replies of an earlier begin() or confirm() are ignored
};

} // namespace ehrs::app
