// SPDX-License-Identifier: Apache-2.0
#pragma once

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

    QListView* view() const { return m_view; }
    SessionDelegate* delegate() const { return m_delegate; }
    QPushButton* signOutOthersButton() const { return m_signOutOthers; }
    QLabel* banner() const { return m_banner; }
    QLabel* errorText() const { return m_errorText; }
    QPushButton* retryButton() const { return m_retry; }
    /// The empty state: shown when this device is the only one signed in.
    QLabel* onlyThisDeviceLabel() const { return m_onlyThis; }

    /// Asks to confirm, then revokes the session of `row`.
    void confirmRevoke(int row);
    /// Asks for the password, then signs out every other device.
    void confirmSignOutOthers();

Q_SIGNALS:
    /// A reload finished; `count` sessions are shown (tests wait on this).
    void reloaded(int count);
    /// The number of sessions changed (the Security page's recommendations use it).
    void sessionsSeen(int count, int oldestDays);

private:
    void buildUi();
    void showBanner(const QString& text, bool error);
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
    QPushButton* m_signOutOthers = nullptr;
    QPushButton* m_refresh = nullptr;
    QPushButton* m_retry = nullptr;
    QTimer m_timer;
    QElapsedTimer m_sinceReload;
    bool m_loading = false;
    bool m_reloadAgain = false;
    bool m_loadedOnce = false;
};

} // namespace ehrs::app
