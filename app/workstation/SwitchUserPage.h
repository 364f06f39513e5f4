// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "WorkstationStatus.h"
#include "ipc/AgentMessages.h"

#include <QWidget>
#include <vector>

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QCompleter;

namespace ehrs::app {

class WorkstationAgent;

/// The switch-user screen of a shared workstation (keyboard-first): the parked clinicians, a
/// "Name or email" field that completes among them, a PIN field, Enter. A name that is not parked
/// here, or a PIN that can no longer be used, goes to the password sign-in with the email filled.
class SwitchUserPage : public QWidget
{
    Q_OBJECT
public:
    explicit SwitchUserPage(WorkstationAgent* agent, QWidget* parent = nullptr);

    /// Shows `parked` (newest first) with `reason` above them (e.g. "Alice's session is paused."),
    /// clears the fields and puts the focus where typing starts.
    void showParked(std::vector<ParkedAccount> parked, const QString& reason = {});

    /// Only the explanation above the list: what was typed stays.
    void setReason(const QString& reason);

    QListWidget* parkedList() const { return m_list; }
    QLineEdit* nameField() const { return m_name; }
    QLineEdit* pinField() const { return m_pin; }
    QPushButton* continueButton() const { return m_continue; }
    QPushButton* passwordButton() const { return m_password; }
    QLabel* errorLabel() const { return m_error; }
    QLabel* reasonLabel() const { return m_reason; }

    /// The parked account `typed` names: its email (any case), the part before the @, or the
    /// start of one email only. Empty when none or several match.
    QString resolve(const QString& typed) const;

Q_SIGNALS:
    /// The clinician is back in their session.
    void resumed(const ehrs::ipc::LoginReply& reply);
    /// The password sign-in is needed: `email` to fill in (may be empty), `explanation` to show.
    void passwordSignInWanted(const QString& email, const QString& explanation);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void submit();
    void setBusy(bool busy);
    void showError(const QString& text, QWidget* focus);
    void focusStart();

    WorkstationAgent* m_agent;
    std::vector<ParkedAccount> m_parked;
    QLabel* m_reason = nullptr;
    QListWidget* m_list = nullptr;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_pin = nullptr;
    QCompleter* m_completer = nullptr;
    QPushButton* m_continue = nullptr;
    QPushButton* m_password = nullptr;
    QLabel* m_error = nullptr;
    bool m_busy = false;
};

} // namespace ehrs::app
