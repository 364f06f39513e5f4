// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "storage/TokenStore.h"

#include <QHash>
#include <QList>

namespace ehrs::agent::test {

/// A TokenStore for tests: in memory, answers from the event loop, can be told to fail, and
/// records every save so tests can check what was persisted and in which order.
class FakeTokenStore final : public TokenStore
{
public:
    QFuture<Result<std::optional<StoredAccount>>> load() override;
    QFuture<Result<void>> save(const StoredAccount& account) override;
    QFuture<Result<void>> remove(const StoredAccount& account) override;
    QFuture<Result<std::vector<StoredAccount>>> loadParked() override;
    QFuture<Result<void>> park(const StoredAccount& account) override;
    QFuture<Result<QString>> loadDeviceCredential(const QString& serverUrl, const QString& email) override;
    QFuture<Result<void>> saveDeviceCredential(const QString& serverUrl, const QString& email,
                                               const QString& credential) override;
    QString kind() const override { return QStringLiteral("fake"); }
    bool isPersistent() const override { return true; }

    std::optional<StoredAccount> stored;
    std::vector<StoredAccount> parked; // oldest first
    QList<StoredAccount> saves;
    QHash<QString, QString> deviceCredentials; // by StoredAccount::deviceCredentialKey()
    std::optional<Error> failLoad;
    std::optional<Error> failSave;
};

} // namespace ehrs::agent::test
