// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QWidget>
#include <array>

class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;

namespace ehrs::app {

class ServerApi;
class RememberedDevicesBox;
class TotpSetupPanel;

/// Security settings: two-step verification (status, TOTP enrolment with a QR code and backup
/// codes, turning it off), password change, and recommendations drawn from the account and its
/// sessions.
class SecurityPage : public QWidget
{
    Q_OBJECT
public:
    SecurityPage(ServerApi* api, QWidget* parent = nullptr);

    /// Reloads the account (2FA status, backup codes left).
    void reload();
    /// What the Sessions page last saw, for the recommendations.
    void setSessionStats(int count, int oldestDays);
    /// Starts TOTP enrolment (the "Turn on" button): asks for the password, then shows the QR code.
    void beginTotpSetup();
    /// Puts a shared workstation's box (the shift PIN, issue 14) under "This session".
    void addWorkstationBox(QWidget* box);
    /// Scrolls the page so that `child` is in view.
    void bringIntoView(QWidget* child);

    TotpSetupPanel* totpPanel() const { return m_totp; }
    QLabel* mfaStatusLabel() const { return m_mfaStatus; }
    QPushButton* turnOnButton() const { return m_mfaOn; }
    QPushButton* turnOffButton() const { return m_mfaOff; }
    /// "New backup codes…": shown while two-step verification is on.
    QPushButton* newBackupCodesButton() const { return m_newCodes; }
    /// Recent security activity: one row per event (when, what, device, where), newest first.
    QTreeWidget* activityList() const { return m_activity; }
    /// Why the activity could not be loaded, or that there is none yet.
    QLabel* activityStatus() const { return m_activityStatus; }
    /// Asks for the password and a current code, then shows new backup codes.
    void beginNewBackupCodes();
    /// Reloads the recent security activity.
    void reloadActivity();
    QLabel* recommendationsLabel() const { return m_recommendations; }
    /// IT's session policy for this session, in words (PolicyText); its source below it.
    QLabel* policyLabel() const { return m_policy; }
    QLabel* policySourceLabel() const { return m_policySource; }
    /// The remembered devices (issue 18), with their Forget button.
    RememberedDevicesBox* rememberedDevices() const { return m_rememberedDevices; }
    /// The current, new and repeated password fields, in that order.
    std::array<QLineEdit*, 3> passwordFields() const { return {m_current, m_new, m_repeat}; }
    /// A current 2FA (or backup) code for the password change; shown only while 2FA is on.
    QLineEdit* passwordCodeField() const { return m_currentCode; }
    QPushButton* changePasswordButton() const { return m_change; }
    QLabel* passwordMessage() const { return m_passwordMessage; }
    /// The password rules, shown under the new password field before anything is typed.
    QLabel* passwordRules() const { return m_passwordRules; }
    /// The account holder's name (or email) as last loaded; empty before the first load.
    QString displayName() const { return m_displayName; }

Q_SIGNALS:
    void accountLoaded(bool mfaEnabled);
    /// The recent activity was loaded (`count` events) or failed (-1).
    void activityLoaded(int count);
    /// The password was changed (the server ended the other sessions).
    void passwordChanged();

protected:
    /// Leaving the page (another tab, sign-out) ends an unfinished enrolment and forgets the
    /// backup codes and typed passwords: a shared workstation shows none of them to the next person.
    void hideEvent(QHideEvent* event) override;

private:
    QGroupBox* buildMfaBox();
    QGroupBox* buildPasswordBox();
    QGroupBox* buildActivityBox();
    void disableTotp();
    void growToContents();
    void changePassword();
    void updateRecommendations();
    void setMessage(QLabel* label, const QString& text, bool error);

    ServerApi* m_api;
    QLabel* m_mfaStatus = nullptr;
    QPushButton* m_mfaOn = nullptr;
    QPushButton* m_mfaOff = nullptr;
    QPushButton* m_newCodes = nullptr;
    QTreeWidget* m_activity = nullptr;
    QLabel* m_activityStatus = nullptr;
    RememberedDevicesBox* m_rememberedDevices = nullptr;
    TotpSetupPanel* m_totp = nullptr;
    QLineEdit* m_current = nullptr;
    QLineEdit* m_new = nullptr;
    QLineEdit* m_repeat = nullptr;
    QLineEdit* m_currentCode = nullptr;
    QFormLayout* m_passwordForm = nullptr;
    QPushButton* m_change = nullptr;
    QLabel* m_passwordMessage = nullptr;
    QLabel* m_recommendations = nullptr;
    QLabel* m_policy = nullptr;
    QLabel* m_policySource = nullptr;
    QGroupBox* m_policyBox = nullptr;
    QLabel* m_passwordRules = nullptr;
    QString m_displayName;
    QString m_accountError; // why the last account check failed; empty when it worked
    bool m_known = false;
    bool m_mfaEnabled = false;
    int m_backupLeft = 0;
    int m_sessionCount = 0;
    int m_oldestDays = 0;
};

} // namespace ehrs::app
