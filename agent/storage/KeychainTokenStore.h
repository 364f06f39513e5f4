// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "TokenStore.h"

#include <QObject>
#include <QPromise>
#include <QStringList>
#include <memory>

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
    QFuture<Result<std::vector<StoredAccount>>> loadParked() override;
    QFuture<Result<void>> park(const StoredAccount& account) override;
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
    /// A JSON array of the account entries' keys that are parked (shared workstations), oldest
    /// first; absent when none is.
    static QString parkedAccountsKey() { return QStringLiteral("parked-accounts"); }

private:
    static Error toError(const QKeychain::Job& job);
    /// Drops `key` from the parked list; writes the list when it changed. Ready when done.
    QFuture<Result<void>> unlistParked(const QString& key);
    /// Writes the parked list as it is now (deleting the entry when it is empty).
    QFuture<Result<void>> writeParkedList();
    /// Reads the entries of `keys` one after the other into `accounts`, then finishes `promise`.
    void readParked(QStringList keys, std::vector<StoredAccount> accounts,
                    std::shared_ptr<QPromise<Result<std::vector<StoredAccount>>>> promise);
    /// Deletes the current-account pointer if it names `key`.
    QFuture<Result<void>> dropCurrentIf(const QString& key);

    QString m_service;
    QStringList m_parkedKeys; // as loadParked() read it, changed by park/save/remove at call time
};

} // namespace ehrs::agent
