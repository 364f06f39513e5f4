// SPDX-License-Identifier: Apache-2.0
#pragma once

// Stand-ins for logind and the screensaver on a private D-Bus bus (issue 14's tests): enough of
// org.freedesktop.login1 for the agent's DesktopActivity_linux.cpp (Manager.GetSession and
// GetSessionByPID; a Session object per id with IdleHint, IdleSinceHint, LockedHint, the Lock and
// Unlock signals and PropertiesChanged) and of org.freedesktop.ScreenSaver (GetActive,
// ActiveChanged). The test process owns them; the agents under test reach them through
// DBUS_SYSTEM_BUS_ADDRESS and EHRS_AGENT_SCREENSAVER_BUS.

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDateTime>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <atomic>
#include <memory>

namespace ehrs::agent::test {

/// One logind session object (/org/freedesktop/login1/session/<id>).
class FakeLogindSession : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Session")
    Q_PROPERTY(bool IdleHint READ idleHint)
    Q_PROPERTY(qulonglong IdleSinceHint READ idleSinceHint)
    Q_PROPERTY(bool LockedHint READ lockedHint)
    Q_PROPERTY(QString Id READ id)
public:
    FakeLogindSession(QDBusConnection bus, const QString& id);
    QString path() const;
    QString id() const { return m_id; }
    // Read on the bus thread (FakeDesktopBus), set by the test's.
    bool idleHint() const { return m_idle; }
    qulonglong idleSinceHint() const { return m_idleSinceUs; }
    bool lockedHint() const { return m_locked; }

    /// Idle since `since` (IdleHint true), or in use (IdleHint false, IdleSinceHint now), announced
    /// with PropertiesChanged as logind does.
    void setIdle(bool idle, const QDateTime& since = QDateTime::currentDateTimeUtc());
    /// LockedHint plus the Lock/Unlock signal, as logind and a screen locker do together.
    void setLocked(bool locked);

private:
    void announce(const QVariantMap& changed);
    void signal(const QString& name);

    QDBusConnection m_bus;
    QString m_id;
    std::atomic<bool> m_idle = false;
    std::atomic<qulonglong> m_idleSinceUs = 0;
    std::atomic<bool> m_locked = false;
};

/// org.freedesktop.login1.Manager: finds sessions by id (XDG_SESSION_ID) or PID (none here).
class FakeLogindManager : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Manager")
public:
    explicit FakeLogindManager(QObject* parent = nullptr) : QObject(parent) {}
    void addSession(const QString& id, const QString& path)
    {
        QMutexLocker lock(&m_mutex);
        m_paths.insert(id, path);
    }

public Q_SLOTS:
    QDBusObjectPath GetSession(const QString& id, const QDBusMessage& message);
    QDBusObjectPath GetSessionByPID(uint pid, const QDBusMessage& message);

private:
    QMutex m_mutex; // added to by the test's thread, read on the bus thread
    QHash<QString, QString> m_paths;
};

/// org.freedesktop.ScreenSaver: active (locked) or not.
class FakeScreenSaver : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.ScreenSaver")
public:
    explicit FakeScreenSaver(QObject* parent = nullptr) : QObject(parent) {}
    std::atomic<bool> active = false;

public Q_SLOTS:
    bool GetActive() const { return active; }
};

/// A private `dbus-daemon --session` with the stand-ins on it. They answer from a thread of their
/// own, since the test's thread blocks while it waits for an agent or runs its sub-commands.
class FakeDesktopBus
{
public:
    ~FakeDesktopBus();
    /// Starts the daemon and registers logind (and the screensaver when asked); false with
    /// `error` set when dbus-daemon is missing or fails.
    bool start(bool withScreenSaver, QString* error);
    QString address() const { return m_address; }
    /// A session object for `id` (XDG_SESSION_ID of an agent under test).
    FakeLogindSession& addSession(const QString& id);
    FakeLogindManager& manager() { return m_manager; }
    /// The screensaver locks (active) or unlocks, with ActiveChanged.
    void setScreenSaverActive(bool active);

private:
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
    QDBusConnection m_bus{QString()};
    QThread m_thread;
    FakeLogindManager m_manager;
    FakeScreenSaver m_screenSaver;
    std::vector<std::unique_ptr<FakeLogindSession>> m_sessions;
};

} // namespace ehrs::agent::test
