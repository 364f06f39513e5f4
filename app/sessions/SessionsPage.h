// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDateTime>
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

class QLabel;
class QListView;
class QPushButton;
class QStackedWidget;

namespace ehrs::app {

class ServerApi;
class SessionDelegate;
class SessionListModel;

/// Active Sessions: every device signed in to the account, with rename, sign out (revoke) per
/// device and "Sign out all other devices". Reloads every 30 s, on reload() (agent events, window
/// focus) and after each change; loading, error and "only this device" states are explicit.
class SessionsPage : public QWidget
{
    Q_OBJECT
public:
    SessionsPage(ServerApi* api, SessionListModel* model, QWidget* parent = nullptr);

    enum class State { Loading, Error, List };
    State state() const;
    /// Reloads; during a reload, once more when it is done.
    void reload();
    /// As reload(), but at most every few seconds (window focus changes come in bursts).
    void reloadIfStale();
    /// Starts and stops the periodic reload (only while signed in and shown).
    void setActive(bool active);
    /// Whether the agent's event stream is live (AgentConnection::liveUpdatesChanged). While it
    /// is, the periodic timer only re-renders the relative times; the list is reloaded over the
    /// network on events, on focus and on Refresh. While it is not, the timer reloads too.
    void setLiveUpdates(bool live);
    bool liveUpdates() const { return m_live; }
    /// The periodic timer's interval (default 30 s); tests shorten it.
    void setReloadInterval(int ms) { m_timer.setInterval(ms); }

    QListView* view() const { return m_view; }
    SessionDelegate* delegate() const { return m_delegate; }
    QPushButton* signOutOthersButton() const { return m_signOutOthers; }
    /// The result of the last action (sign out, rename): kept through the reload the action
    /// started, cleared by a later successful load that changed the list or by Refresh.
    QLabel* banner() const { return m_banner; }
    /// "Updated 10:42", or the offline notice when the last reload failed.
    QLabel* statusLine() const { return m_status; }
    QPushButton* refreshButton() const { return m_refresh; }
    /// True while the last reload could not reach the server: actions that need it are disabled.
    bool isOffline() const { return m_offline; }
    QLabel* errorText() const { return m_errorText; }
    QPushButton* retryButton() const { return m_retry; }
    /// The empty state: shown when this device is the only one signed in.
    QLabel* onlyThisDeviceLabel() const { return m_onlyThis; }

    /// What the window calls its own sign-out control, for messages that point to it.
    void setSignOutControlName(const QString& name) { m_signOutName = name; }
    /// Asks to confirm, then revokes the session of `row`.
    void confirmRevoke(int row);
    /// Asks for the password, then signs out every other device.
    void confirmSignOutOthers();

Q_SIGNALS:
    /// A reload finished; `count` sessions are shown (tests wait on this).
    void reloaded(int count);
    /// The number of sessions changed (the Security page's recommendations use it).
    void sessionsSeen(int count, int oldestDays);
    /// A reload failed: what the Security page last heard about the sessions is not current.
    void sessionsUnavailable();

private:
    void buildUi();
    /// Shows an action's result; it stays through the reload the caller starts next, if any.
    void showBanner(const QString& text, bool error, bool reloadFollows = true);
    void hideBanner();
    void showUpdated();
    void setOffline(bool offline, const QString& reason);
    QStringList currentIds() const;
    void renameSession(const QString& id, const QString& name);

    ServerApi* m_api;
    SessionListModel* m_model;
    SessionDelegate* m_delegate = nullptr;
    QStackedWidget* m_stack = nullptr;
    QListView* m_view = nullptr;
    QLabel* m_banner = nullptr;
    QLabel* m_errorText = nullptr;
    QLabel* m_onlyThis = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_signOutOthers = nullptr;
    QPushButton* m_refresh = nullptr;
    QPushButton* m_retry = nullptr;
    QTimer m_timer;
    QElapsedTimer m_sinceReload;
    bool m_loading = false;
    bool m_reloadAgain = false;
    bool m_loadedOnce = false;
    bool m_offline = false;
    bool m_live = false;          // the agent's event stream is connected
    bool m_statusIsError = false; // the status line says the last load failed
    bool m_manualReload = false; // the pending reload was asked for with the Refresh button
    quint64 m_loadSeq = 0;       // loads started so far
    quint64 m_bannerKeepSeq = 0; // the banner stays through loads up to this one
    QStringList m_bannerIds;     // the list the banner's message was about
    QDateTime m_updatedAt;
    QString m_signOutName = tr("Sign out");
};

} // namespace ehrs::app
