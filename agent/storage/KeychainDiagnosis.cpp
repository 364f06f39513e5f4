// SPDX-License-Identifier: Apache-2.0
#include "KeychainDiagnosis.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>

namespace ehrs::agent {

QString explainMissingKeychain(const Error& probeError)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        const QString address = qEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS");
        return QStringLiteral("there is no D-Bus session bus (%1), and the keychain (Secret Service) is "
                              "reached through it: run the agent inside your desktop session (it starts "
                              "there by itself), or under dbus-run-session")
            .arg(address.isEmpty() ? QStringLiteral("DBUS_SESSION_BUS_ADDRESS is not set")
                                   : QStringLiteral("nothing answers at %1").arg(address));
    }
    const QString secrets = QStringLiteral("org.freedesktop.secrets");
    QDBusConnectionInterface* names = bus.interface();
    const bool running = names && names->isServiceRegistered(secrets).value();
    const bool activatable = names && names->activatableServiceNames().value().contains(secrets);
    if (!running && !activatable)
        return QStringLiteral("no Secret Service is installed on the D-Bus session bus (nothing provides "
                              "org.freedesktop.secrets): install gnome-keyring (or KWallet) and sign in "
                              "to the desktop again");
    return QStringLiteral("the Secret Service did not answer (%1): unlock the keychain (for example by "
                          "signing in to the desktop again, or in Passwords and Keys)")
        .arg(probeError.message);
}

} // namespace ehrs::agent
