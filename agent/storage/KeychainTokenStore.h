// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "TokenStore.h"

#include <QObject>

namespace QKeychain {
class Job;
}

namespace ehrs::agent {

/// The OS keychain through QtKeychain (Secret Service / gnome-keyring or KWallet on Linux).
///
/// Entries live under the service name (default "ehr-sessions"): one per server + account, keyed
/// StoredAccount::storageKey() and holding StoredAccount::toJson(), plus a "current-account"
/// entry naming the account the agent is signed in to, since keychains cannot be listed.
class KeychainTokenStore final : public QObject, public TokenStore
{
    Q_OBJECT
public:
    /// `service` is overridable so tests do not touch a developer's real entries.
    explicit KeychainTokenStore(QString service = QStringLiteral("ehr-sessions"), QObject* parent = nullptr);

    QFuture<Result<std::optional<StoredAccount>>> load() override;
    QFuture<Result<void>> save(const StoredAccount& account) override;
    QFuture<Result<void>> remove(const StoredAccount& account) override;
    QFuture<Result<QString>> loadDeviceCredential(const QString& serverUrl, const QString& email) override;
    QFuture<Result<void>> saveDeviceCredential(const QString& serverUrl, const QString& email,
                                               const QString& credential) override;
    QString kind() const override { return QStringLiteral("keychain"); }
    bool isPersistent() const override { return true; }

    /// The raw text of one entry, or nullopt when absent (tests check what is really stored).
    QFuture<Result<std::optional<QString>>> readEntry(const QString& key);
    QFuture<Result<void>> writeEntry(const QString& key, const QString& value);
    QFuture<Result<void>> deleteEntry(const QString& key);

    static QString currentAccountKey() { return QStringLiteral("current-account"); }

private:
    static Error toError(const QKeychain::Job& job);

    QString m_service;
};

} // namespace ehrs::agent
