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
#include "workstation/LockPage.h"
#include "workstation/ShiftPinBox.h"
#include "workstation/SwitchUserPage.h"

#include <QAction>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <utility>

namespace ehrs::app {
namespace {
constexpr int kReconnectIntervalMs = 3000;
// The agent tells of a lock, an unlock and a change of clinician as they happen (`lock-changed`,
// `user-switched`, `signed-out`); its status is also read now and then (over the local socket, not
// the network), so that a missed event cannot leave the window on the wrong screen for long.
constexpr int kStatusPollMs = 15000;

QStringList parkedEmails(const ipc::StatusReply& s)
{
    QStringList emails;
    for (const ParkedAccount& p : s.parkedAccounts)
        emails << p.email;
    return emails;
}
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
    m_switchUser = new SwitchUserPage(m_agent, m_stack);
    m_stack->addWidget(m_switchUser);
    m_lock = new LockPage(m_stack);
    m_stack->addWidget(m_lock);
    setCentralWidget(m_stack);
    m_statusPoll = new QTimer(this);
    m_statusPoll->setInterval(kStatusPollMs);
    connect(m_statusPoll, &QTimer::timeout, this, &MainWindow::pollStatus);

    connect(m_signIn, &SignInPage::signedIn, this, [this] {
        m_offerPin = true;
        showMain();
    });
    connect(m_switchUser, &SwitchUserPage::resumed, this, &MainWindow::showMain);
    connect(m_switchUser, &SwitchUserPage::passwordSignInWanted, this, &MainWindow::showPasswordSignIn);
    connect(m_signIn, &SignInPage::switchUserWanted, this, [this] { followStatus(); });
    connect(m_agent, &AgentConnection::signedOut, this,
            [this](const QString& reason, const QString& message) {
                // The server's own words for an idle timeout ("This session ended after 30 minutes
                // without activity"), not a generic "expired".
                const QString text =
                    m_pendingReason.isEmpty() ? signedOutMessage(reason, message) : m_pendingReason;
                m_pendingReason.clear();
                if (page() != Page::SignIn)
                    followStatus(text);
            });
    connect(m_agent, &AgentConnection::workstationLocked, this, [this] { followStatus(); });
    // A lock, an unlock or another clinician: the screen follows, except while someone types at
    // the sign-in page (or the agent is not there yet).
    const auto followUnlessSigningIn = [this] {
        if (page() != Page::SignIn && page() != Page::Connecting)
            followStatus();
    };
    connect(m_agent, &AgentConnection::lockChanged, this, followUnlessSigningIn);
    connect(m_agent, &AgentConnection::userSwitched, this, followUnlessSigningIn);
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
    // Shared workstations: park this clinician and let the next one in (Alt+W; Alt+U is the
    // Security page's "C&urrent password").
    m_switchUserAction = new QAction(tr("S&witch user"), this);
    m_switchUserAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_U));
    m_switchUserAction->setShortcutContext(Qt::WindowShortcut);
    m_switchUserAction->setEnabled(false);
    addAction(m_switchUserAction);
    connect(m_switchUserAction, &QAction::triggered, this, &MainWindow::switchUser);
    m_switchUserButton = new QPushButton(m_switchUserAction->text(), bar);
    m_switchUserButton->setObjectName(QStringLiteral("switchUser"));
    m_switchUserButton->setToolTip(
        tr("Let a colleague use this workstation; come back with your shift PIN (%1)")
            .arg(m_switchUserAction->shortcut().toString(QKeySequence::NativeText)));
    m_switchUserButton->setVisible(false);
    connect(m_switchUserButton, &QPushButton::clicked, m_switchUserAction, &QAction::trigger);
    barLayout->addWidget(m_switchUserButton);
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
    m_pinBox = new ShiftPinBox(m_agent, m_security);
    m_pinBox->setVisible(false);
    m_security->addWorkstationBox(m_pinBox);
    connect(m_pinBox, &ShiftPinBox::pinChanged, this, [this](const QDateTime& until) {
        m_workstation.pinSet = true;
        m_workstation.pinValidUntil = until;
    });
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
            followStatus(tr("You signed out."));
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
    if (p == Page::Main || p == Page::Locked || p == Page::SwitchUser)
        m_statusPoll->start();
    else
        m_statusPoll->stop();
    Q_EMIT pageChanged(p);
}

void MainWindow::setStatusPollInterval(int ms)
{
    m_statusPoll->setInterval(ms);
}

void MainWindow::followStatus(const QString& reason)
{
    m_agent->status().then(this, [this, reason](const Result<ipc::StatusReply>& status) {
        if (!status) {
            showSignIn(!reason.isEmpty() ? reason : describeError(status.error()));
            return;
        }
        route(*status, reason);
    });
}

void MainWindow::pollStatus()
{
    m_agent->status().then(this, [this](const Result<ipc::StatusReply>& status) {
        if (!status)
            return; // a lost agent is connectionLost()'s business
        const bool changed =
            status->locked != (page() == Page::Locked) || status->signedIn != m_workstation.signedIn ||
            status->email != m_workstation.email ||
            (page() == Page::SwitchUser && parkedEmails(*status) != parkedEmails(m_workstation));
        // Signed out under the window (the agent's signed-out event may come just after): its
        // reason, in the server's words where it gave some.
        const bool ended = m_workstation.signedIn && !status->signedIn;
        if (changed)
            route(*status, ended ? signedOutMessage(status->signedOutReason, status->lastError) : QString());
        else
            m_workstation = *status;
    });
}

void MainWindow::route(const ipc::StatusReply& status, const QString& reason)
{
    const bool clinicianChanged = status.email != m_workstation.email;
    const QStringList parkedBefore = parkedEmails(m_workstation);
    m_workstation = status;
    const bool shared = isSharedWorkstation(status);
    m_switchUserAction->setEnabled(shared && status.signedIn && !status.locked);
    m_switchUserButton->setVisible(shared);
    m_pinBox->setVisible(shared && status.signedIn);
    m_pinBox->setPinState(status.pinSet, status.pinValidUntil);
    if (status.locked && (status.signedIn || !status.parkedAccounts.empty())) {
        // Nothing of the session stays on screen while the desktop is locked.
        m_lock->setClinician(status.email);
        setPage(Page::Locked);
        return;
    }
    if (status.signedIn) {
        if (page() != Page::Main || clinicianChanged)
            showMain();
        return;
    }
    if (wantsSwitchUser(status)) {
        // Someone may be typing already (the agent's user-switched event can come before the
        // answer that says who was paused): the same list keeps what was typed.
        if (page() != Page::SwitchUser || parkedEmails(status) != parkedBefore)
            m_switchUser->showParked(status.parkedAccounts, reason);
        else if (!reason.isEmpty())
            m_switchUser->setReason(reason);
        setPage(Page::SwitchUser);
        return;
    }
    if (page() != Page::SignIn)
        showSignIn(reason);
    else
        m_signIn->setSwitchUserOffered(false); // nobody is paused (any more)
}

void MainWindow::switchUser()
{
    if (page() != Page::Main || !isSharedWorkstation(m_workstation))
        return;
    m_switchUserAction->setEnabled(false);
    m_agent->switchUser().then(this, [this](const Result<ipc::SwitchUserReply>& r) {
        m_switchUserAction->setEnabled(true);
        if (r) {
            followStatus(tr("%1 is paused. Type your PIN to come back.").arg(r->email));
            return;
        }
        if (r.error().code == ErrorCode::Conflict) {
            // Without a PIN, parking would leave no way back but the password: ask for one first.
            m_tabs->setCurrentWidget(m_security);
            m_pinBox->setVisible(true);
            m_pinBox->offer(tr("Set a shift PIN first: it is how you come back after a colleague used this "
                               "workstation."));
            m_security->bringIntoView(m_pinBox);
            return;
        }
        QMessageBox::warning(this, tr("Switch user"), describeError(r.error()));
    });
}

void MainWindow::showPasswordSignIn(const QString& email, const QString& explanation)
{
    showSignIn(explanation);
    if (!email.isEmpty())
        m_signIn->emailField()->setText(email);
    (m_signIn->emailField()->text().isEmpty() ? m_signIn->emailField() : m_signIn->passwordField())
        ->setFocus();
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
        followStatus(signedOutMessage(status->signedOutReason, status->lastError));
    });
}

void MainWindow::showSignIn(const QString& reason)
{
    m_signIn->reset(reason);
    m_signIn->setSwitchUserOffered(wantsSwitchUser(m_workstation));
    setPage(Page::SignIn);
}

void MainWindow::showMain()
{
    m_agent->status().then(this, [this](const Result<ipc::StatusReply>& status) {
        if (!status) {
            showSignIn(describeError(status.error()));
            return;
        }
        if (!status->signedIn) {
            followStatus(signedOutMessage(status->signedOutReason, status->lastError));
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
        m_agent->status().then(this, [this](const Result<ipc::StatusReply>& ws) {
            if (!ws || page() != Page::Main)
                return;
            m_workstation = *ws;
            const bool shared = isSharedWorkstation(*ws);
            m_switchUserAction->setEnabled(shared);
            m_switchUserButton->setVisible(shared);
            m_pinBox->setVisible(shared);
            m_pinBox->setPinState(ws->pinSet, ws->pinValidUntil);
            if (std::exchange(m_offerPin, false) && shared && !ws->pinSet) {
                m_tabs->setCurrentWidget(m_security);
                m_pinBox->offer();
                m_security->bringIntoView(m_pinBox);
            }
        });
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
        followStatus(!m_pendingReason.isEmpty() ? std::exchange(m_pendingReason, QString())
                     : !reason.isEmpty()        ? signedOutMessage(reason, status->lastError)
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
