// SPDX-License-Identifier: Apache-2.0
#include "MainWindow.h"

#include "DeviceIcons.h"
#include "Logging.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "security/SecurityPage.h"
#include "sessions/SessionListModel.h"
#include "sessions/SessionsPage.h"
#include "signin/SignInPage.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QPushButton>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <utility>

namespace ehrs::app {
namespace {
constexpr int kReconnectIntervalMs = 3000;
} // namespace

MainWindow::MainWindow(AgentConnection* agent, ServerApi* api, QWidget* parent)
    : QMainWindow(parent), m_agent(agent), m_api(api), m_model(new SessionListModel(nullptr, this))
{
    setWindowTitle(tr("EHR Sessions"));
    resize(860, 640);
    setMinimumSize(560, 460);
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(buildConnectingPage());
    m_signIn = new SignInPage(m_agent, &m_settings, m_stack);
    m_stack->addWidget(m_signIn);
    m_stack->addWidget(buildMainPage());
    setCentralWidget(m_stack);

    connect(m_signIn, &SignInPage::signedIn, this, &MainWindow::showMain);
    connect(m_agent, &AgentConnection::signedOut, this, [this](const QString& reason, const QString&) {
        const QString message = m_pendingReason.isEmpty() ? signedOutMessage(reason) : m_pendingReason;
        m_pendingReason.clear();
        if (page() != Page::SignIn)
            showSignIn(message);
    });
    connect(m_agent, &AgentConnection::sessionsChanged, m_sessions, &SessionsPage::reload);
    connect(m_agent, &AgentConnection::liveUpdatesChanged, m_sessions, &SessionsPage::setLiveUpdates);
    connect(m_agent, &AgentConnection::tokenRefreshed, this, [this] {
        if (page() == Page::Main)
            m_sessions->reload();
    });
    connect(m_agent, &AgentConnection::connectionLost, this, [this] {
        setPage(Page::Connecting);
        m_connectingText->setText(tr("Lost the connection to the EHR Sessions agent. Reconnecting…"));
        QTimer::singleShot(1000, this, &MainWindow::start);
    });
    connect(m_api, &ServerApi::authenticationLost, this,
            [this](const Error& error) { onAuthenticationLost(describeError(error)); });
    connect(m_api, &ServerApi::agentSignedOut, this, &MainWindow::onAgentSignedOut);
}

MainWindow::~MainWindow() = default;

QWidget* MainWindow::buildConnectingPage()
{
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    layout->addStretch();
    auto* logo = new QLabel(page);
    logo->setPixmap(DeviceIcons::appIcon(64, devicePixelRatioF()));
    logo->setAlignment(Qt::AlignCenter);
    layout->addWidget(logo);
    m_connectingText = new QLabel(tr("Connecting to the EHR Sessions agent…"), page);
    m_connectingText->setAlignment(Qt::AlignCenter);
    m_connectingText->setWordWrap(true);
    m_connectingText->setAccessibleName(tr("Status"));
    layout->addWidget(m_connectingText);
    m_retry = new QPushButton(tr("Try a&gain"), page);
    m_retry->setVisible(false);
    layout->addWidget(m_retry, 0, Qt::AlignHCenter);
    layout->addStretch();
    connect(m_retry, &QPushButton::clicked, this, &MainWindow::start);
    return page;
}

QWidget* MainWindow::buildMainPage()
{
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto* bar = new QWidget(page);
    bar->setAutoFillBackground(true);
    bar->setBackgroundRole(QPalette::Base);
    auto* barLayout = new QHBoxLayout(bar);
    barLayout->setContentsMargins(16, 8, 16, 8);
    auto* logo = new QLabel(bar);
    logo->setPixmap(DeviceIcons::appIcon(28, devicePixelRatioF()));
    barLayout->addWidget(logo);
    auto* name = new QLabel(tr("<b>EHR Sessions</b>"), bar);
    barLayout->addWidget(name);
    barLayout->addStretch();
    m_account = new QLabel(bar);
    m_account->setTextFormat(Qt::PlainText);
    m_account->setAccessibleName(tr("Signed in as"));
    barLayout->addWidget(m_account);
    // Alt+T: Alt+O belongs to the Security page's "Turn on…".
    auto* signOut = new QPushButton(tr("Sign ou&t"), bar);
    signOut->setObjectName(QStringLiteral("signOut"));
    signOut->setAccessibleName(tr("Sign out of this device"));
    barLayout->addWidget(signOut);
    layout->addWidget(bar);

    m_tabs = new QTabWidget(page);
    m_tabs->setDocumentMode(true);
    m_tabs->setAccessibleName(tr("Account pages"));
    m_sessions = new SessionsPage(m_api, m_model, m_tabs);
    m_sessions->setSignOutControlName(QString(signOut->text()).remove(u'&'));
    m_security = new SecurityPage(m_api, m_tabs);
    m_tabs->addTab(m_sessions, tr("Active &sessions"));
    m_tabs->addTab(m_security, tr("Securit&y"));
    layout->addWidget(m_tabs, 1);

    connect(m_sessions, &SessionsPage::sessionsSeen, m_security, &SecurityPage::setSessionStats);
    connect(m_sessions, &SessionsPage::sessionsUnavailable, m_security,
            [this] { m_security->setSessionStats(-1, 0); });
    // A password change ends the other sessions: the list (and the advice drawn from it) follows.
    connect(m_security, &SecurityPage::passwordChanged, m_sessions, &SessionsPage::reload);
    connect(m_security, &SecurityPage::accountLoaded, this, [this] {
        const QString holder = m_security->displayName();
        if (!holder.isEmpty())
            m_account->setText(tr("Signed in as %1").arg(holder));
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
        if (m_tabs->widget(index) == m_security)
            m_security->reload();
    });
    connect(signOut, &QPushButton::clicked, this, [this] {
        m_pendingReason = tr("You signed out.");
        m_agent->logout().then(this, [this](const Result<void>& r) {
            if (!r)
                qCWarning(lcApp) << "sign-out:" << r.error().message;
            m_pendingReason.clear();
            showSignIn(tr("You signed out."));
        });
    });
    return page;
}

MainWindow::Page MainWindow::page() const
{
    return static_cast<Page>(m_stack->currentIndex());
}

void MainWindow::setPage(Page p)
{
    if (page() == Page::Main && p != Page::Main)
        m_sessions->setActive(false);
    m_stack->setCurrentIndex(int(p));
    Q_EMIT pageChanged(p);
}

void MainWindow::start()
{
    setPage(Page::Connecting);
    m_retry->setVisible(false);
    m_connectingText->setText(tr("Connecting to the EHR Sessions agent…"));
    m_agent->start().then(this, [this](const Result<ipc::StatusReply>& status) {
        if (!status) {
            m_connectingText->setText(tr("<b>Cannot reach the EHR Sessions agent.</b><br>%1<br>Trying again "
                                         "every few seconds.")
                                          .arg(status.error().message.toHtmlEscaped()));
            m_retry->setVisible(true);
            m_retry->setFocus();
            // The agent may be restarting (systemd brings it back after a crash): keep trying,
            // so that nobody has to click to get back to work.
            QTimer::singleShot(kReconnectIntervalMs, this, [this] {
                if (page() == Page::Connecting && m_retry->isVisible())
                    start();
            });
            return;
        }
        if (status->signedIn)
            showMain();
        else
            showSignIn(signedOutMessage(status->signedOutReason));
    });
}

void MainWindow::showSignIn(const QString& reason)
{
    m_signIn->reset(reason);
    setPage(Page::SignIn);
}

void MainWindow::showMain()
{
    m_agent->status().then(this, [this](const Result<ipc::StatusReply>& status) {
        if (!status || !status->signedIn) {
            showSignIn(status ? signedOutMessage(status->signedOutReason) : describeError(status.error()));
            return;
        }
        m_api->setServerUrl(QUrl(status->serverUrl));
        // The name arrives with the account (the Security page loads it); until then the email.
        m_account->setText(tr("Signed in as %1").arg(status->email));
        m_account->setToolTip(tr("%1 on %2").arg(status->email, QUrl(status->serverUrl).host()));
        m_tabs->setCurrentWidget(m_sessions);
        setPage(Page::Main);
        m_sessions->setActive(true);
        m_security->reload();
        m_sessions->view()->setFocus();
    });
}

void MainWindow::onAuthenticationLost(const QString& message)
{
    if (page() != Page::Main)
        return;
    // The agent may still believe in a session the server ended: have it forget it, so that
    // signing in again starts afresh.
    qCInfo(lcApp) << "the server refused the session; returning to sign-in";
    m_pendingReason = message;
    showSignIn(message);
    // Until the agent has let go of the old session a new sign-in would be refused as a conflict.
    m_signIn->setEnabled(false);
    m_agent->logout().then(this, [this](const Result<void>&) {
        m_pendingReason.clear();
        m_signIn->setEnabled(true);
        m_signIn->reset(m_signIn->reasonLabel()->text());
    });
}

void MainWindow::onAgentSignedOut(const Error& error)
{
    if (page() != Page::Main)
        return; // the signed-out event got here first
    // Asked for a token while the agent signed out (another program ran `logout`, or a refresh
    // found the session ended): tell the agent's reason, not the bare "not signed in".
    m_agent->status().then(this, [this, error](const Result<ipc::StatusReply>& status) {
        if (page() != Page::Main)
            return;
        if (status && status->signedIn) {
            m_sessions->reload(); // signed in again meanwhile
            return;
        }
        const QString reason = status ? status->signedOutReason : QString();
        showSignIn(!m_pendingReason.isEmpty() ? std::exchange(m_pendingReason, QString())
                   : !reason.isEmpty()        ? signedOutMessage(reason)
                                              : describeError(error));
    });
}

void MainWindow::changeEvent(QEvent* event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::ActivationChange && isActiveWindow() && page() == Page::Main)
        m_sessions->reloadIfStale();
}

} // namespace ehrs::app
