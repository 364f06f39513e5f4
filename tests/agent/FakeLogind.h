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
#include <QObject>
#include <QProcess>
#include <QTemporaryDir>
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
    bool idleHint() const { return m_idle; }
    qulonglong idleSinceHint() const { return m_idleSinceUs; }
    bool lockedHint() const { return m_locked; }
    /// How often a client read the properties: proof the agent looks at this stand-in.
    int reads() const { return m_reads; }

    /// Idle since `since` (IdleHint true), or in use (IdleHint false, IdleSinceHint now), announced
    /// with PropertiesChanged as logind does.
    void setIdle(bool idle, const QDateTime& since = QDateTime::currentDateTimeUtc());
    /// LockedHint plus the Lock/Unlock signal, as logind and a screen locker do together.
    void setLocked(bool locked);

Q_SIGNALS:
    void Lock();
    void Unlock();

public Q_SLOTS:
    // Counts the agent's start-up GetAll through a property it always reads.
    void noteRead() { ++m_reads; }

private:
    void announce(const QVariantMap& changed);

    QDBusConnection m_bus;
    QString m_id;
    bool m_idle = false;
    qulonglong m_idleSinceUs = 0;
    bool m_locked = false;
    int m_reads = 0;
};

/// org.freedesktop.login1.Manager: finds sessions by id (XDG_SESSION_ID) or PID (none here).
class FakeLogindManager : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.login1.Manager")
public:
    explicit FakeLogindManager(QObject* parent = nullptr) : QObject(parent) {}
    QHash<QString, FakeLogindSession*> sessions;
    int lookups = 0;

public Q_SLOTS:
    QDBusObjectPath GetSession(const QString& id, const QDBusMessage& message);
    QDBusObjectPath GetSessionByPID(uint pid, const QDBusMessage& message);
};

/// org.freedesktop.ScreenSaver: active (locked) or not.
class FakeScreenSaver : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.ScreenSaver")
public:
    explicit FakeScreenSaver(QObject* parent = nullptr) : QObject(parent) {}
    bool active = false;
    void setActive(bool on)
    {
        active = on;
        Q_EMIT ActiveChanged(on);
    }

public Q_SLOTS:
    bool GetActive() const { return active; }

Q_SIGNALS:
    void ActiveChanged(bool active);
};

/// A private `dbus-daemon --session` with the stand-ins on it.
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
    FakeScreenSaver& screenSaver() { return m_screenSaver; }

private:
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
    QDBusConnection m_bus{QString()};
    FakeLogindManager m_manager;
    FakeScreenSaver m_screenSaver;
    std::vector<std::unique_ptr<FakeLogindSession>> m_sessions;
};

} // namespace ehrs::agent::test
