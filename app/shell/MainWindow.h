// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QMainWindow>
#include <QSettings>

class QLabel;
class QPushButton;
class QStackedWidget;
class QTabWidget;

namespace ehrs::app {

class AgentConnection;
class SecurityPage;
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

    enum class Page { Connecting, SignIn, Main };
    Page page() const;
    SignInPage* signInPage() const { return m_signIn; }
    SessionsPage* sessionsPage() const { return m_sessions; }
    SecurityPage* securityPage() const { return m_security; }
    SessionListModel* sessionModel() const { return m_model; }
    QTabWidget* tabs() const { return m_tabs; }

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
};

} // namespace ehrs::app
