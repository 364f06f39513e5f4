// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDeadlineTimer>
#include <QUrl>
#include <QWidget>

class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSettings;
class QStackedWidget;
class QTimer;

namespace ehrs::app {

class AgentConnection;

/// Sign-in through the agent: server address (remembered), email and password, then the TOTP or
/// backup-code step when the server asks for it. Errors show inline; the password and code fields
/// are cleared as soon as they have been sent.
class SignInPage : public QWidget
{
    Q_OBJECT
public:
    SignInPage(AgentConnection* agent, QSettings* settings, QWidget* parent = nullptr);

    /// Back to the first step, with an explanation above the form (why the user is here).
    void reset(const QString& reason);
    bool isAskingForCode() const;
    /// True while the server's rate limit holds: the buttons stay disabled and the error counts down.
    bool isHoldingOff() const;

    QLineEdit* serverField() const { return m_server; }
    /// True when IT preset the server (client.conf): the field is hidden and not remembered.
    bool serverIsPreset() const { return !m_presetServer.isEmpty(); }
    QLineEdit* emailField() const { return m_email; }
    QLineEdit* passwordField() const { return m_password; }
    QLineEdit* codeField() const { return m_code; }
    QPushButton* signInButton() const { return m_signIn; }
    QPushButton* verifyButton() const { return m_verify; }
    /// "Back to switch user": shown (by setSwitchUserOffered()) when clinicians are paused on this
    /// workstation, so that whoever chose the password by mistake gets back to the PIN.
    QPushButton* switchUserButton() const { return m_switchUser; }
    void setSwitchUserOffered(bool offered);
    /// "Remember me on this device" at the code step: off by default and after every reset.
    QCheckBox* rememberDeviceBox() const { return m_remember; }
    QLabel* errorLabel() const { return m_error; }
    QLabel* reasonLabel() const { return m_reason; }

Q_SIGNALS:
    void signedIn();
    void switchUserWanted();

private:
    void buildUi();
    void submitCredentials();
    void submitCode();
    void setBusy(bool busy);
    void showError(const QString& text);
    /// Refuses to sign in for `seconds`, saying so (with IT's `help` text when the server gave one).
    void holdOff(int seconds, const QString& help = {});
    void updateHoldOff();

    AgentConnection* m_agent;
    QSettings* m_settings;
    QStackedWidget* m_steps = nullptr;
    QFormLayout* m_form = nullptr;
    QUrl m_presetServer;
    QLineEdit* m_server = nullptr;
    QLineEdit* m_email = nullptr;
    QLineEdit* m_password = nullptr;
    QLineEdit* m_code = nullptr;
    QCheckBox* m_remember = nullptr;
    QPushButton* m_signIn = nullptr;
    QPushButton* m_verify = nullptr;
    QPushButton* m_back = nullptr;
    QPushButton* m_switchUser = nullptr;
    QLabel* m_reason = nullptr;
    QLabel* m_error = nullptr;
    QLabel* m_codeHint = nullptr;
    QTimer* m_holdOffTick = nullptr;
    QDeadlineTimer m_holdOffUntil;
    QString m_holdOffHelp; // what IT says to do while sign-in is paused (LOCKOUT_HELP_TEXT)
};

} // namespace ehrs::app
