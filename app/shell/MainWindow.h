// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "workstation/WorkstationStatus.h"

#include <QMainWindow>
#include <QSettings>

class QAction;
class QLabel;
class QPushButton;
class QStackedWidget;
class QTabWidget;
class QTimer;

namespace ehrs::app {

class AgentConnection;
class LockPage;
class SecurityPage;
class ShiftPinBox;
class SwitchUserPage;
class ServerApi;
class SessionListModel;
class SessionsPage;
class SignInPage;

/// The window: "connecting to the agent", sign-in, or the signed-in pages (Active sessions,
/// Security) under an account bar. It follows the agent's state: its signed-out event, or a 401
/// the agent cannot cure, brings back sign-in with the reason.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(AgentConnection* agent, ServerApi* api, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Connects to the agent (starting it if needed) and shows what its state calls for.
    void start();

    enum class Page { Connecting, SignIn, Main, SwitchUser, Locked };
    Page page() const;
    SignInPage* signInPage() const { return m_signIn; }
    SessionsPage* sessionsPage() const { return m_sessions; }
    SecurityPage* securityPage() const { return m_security; }
    SessionListModel* sessionModel() const { return m_model; }
    QTabWidget* tabs() const { return m_tabs; }
    SwitchUserPage* switchUserPage() const { return m_switchUser; }
    LockPage* lockPage() const { return m_lock; }
    ShiftPinBox* shiftPinBox() const { return m_pinBox; }
    /// "Switch user" (Ctrl+Shift+U, and a button in the account bar): only on a shared workstation.
    QAction* switchUserAction() const { return m_switchUserAction; }
    /// How often the window asks the agent (locally) whether the desktop was locked or unlocked
    /// or the clinician changed, while a session is on screen.
    void setStatusPollInterval(int ms);

Q_SIGNALS:
    void pageChanged(ehrs::app::MainWindow::Page page);

protected:
    void changeEvent(QEvent* event) override;

private:
    QWidget* buildConnectingPage();
    QWidget* buildMainPage();
    void showSignIn(const QString& reason);
    void showMain();
    void setPage(Page page);
    void onAuthenticationLost(const QString& message);
    void onAgentSignedOut(const Error& error);
    /// Asks the agent's status and shows what it calls for: the lock screen, the signed-in pages,
    /// the switch-user screen (nobody active, clinicians parked) or sign-in with `reason`.
    void followStatus(const QString& reason = {});
    void route(const ipc::StatusReply& status, const QString& reason);
    void pollStatus();
    void switchUser();
    void showPasswordSignIn(const QString& email, const QString& explanation);

    AgentConnection* m_agent;
    ServerApi* m_api;
    QSettings m_settings;
    SessionListModel* m_model;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_connectingText = nullptr;
    QPushButton* m_retry = nullptr;
    SignInPage* m_signIn = nullptr;
    SessionsPage* m_sessions = nullptr;
    SecurityPage* m_security = nullptr;
    QTabWidget* m_tabs = nullptr;
    QLabel* m_account = nullptr;
    QString m_pendingReason; // why we asked the agent to sign out, shown instead of "You signed out"
    SwitchUserPage* m_switchUser = nullptr;
    LockPage* m_lock = nullptr;
    ShiftPinBox* m_pinBox = nullptr;
    QAction* m_switchUserAction = nullptr;
    QPushButton* m_switchUserButton = nullptr;
    QTimer* m_statusPoll = nullptr;
    ipc::StatusReply m_workstation;  // the agent's last status
    bool m_offerPin = false;         // after a password sign-in: offer a shift PIN if none is set
};

} // namespace ehrs::app
