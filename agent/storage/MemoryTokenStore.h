// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "TokenStore.h"

#include <QHash>

namespace ehrs::agent {

/// The fallback when there is no keychain: the account lives as long as the agent process and
/// is never written to disk (a plaintext file would be readable by any process of the user and
/// by backups).
class MemoryTokenStore final : public TokenStore
{
public:
    /// `note`: why there is no keychain, for `status` (empty when memory was chosen on purpose).
    explicit MemoryTokenStore(QString note = {}) : m_note(std::move(note)) {}

    QFuture<Result<std::optional<StoredAccount>>> load() override;
    QFuture<Result<void>> save(const StoredAccount& account) override;
    QFuture<Result<void>> remove(const StoredAccount& account) override;
    QFuture<Result<std::vector<StoredAccount>>> loadParked() override;
    QFuture<Result<void>> park(const StoredAccount& account) override;
    QFuture<Result<QString>> loadDeviceCredential(const QString& serverUrl, const QString& email) override;
    QFuture<Result<void>> saveDeviceCredential(const QString& serverUrl, const QString& email,
                                               const QString& credential) override;
    QString kind() const override { return QStringLiteral("memory"); }
    bool isPersistent() const override { return false; }
    QString note() const override { return m_note; }

private:
    QString m_note;
    std::optional<StoredAccount> m_account;
    std::vector<StoredAccount> m_parked;         // oldest first
    QHash<QString, QString> m_deviceCredentials; // by StoredAccount::deviceCredentialKey()
};

} // namespace ehrs::agent
