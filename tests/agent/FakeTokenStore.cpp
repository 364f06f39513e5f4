// SPDX-License-Identifier: Apache-2.0
#include "FakeTokenStore.h"

#include "core/Futures.h"

namespace ehrs::agent::test {

QFuture<Result<std::optional<StoredAccount>>> FakeTokenStore::load()
{
    using R = Result<std::optional<StoredAccount>>;
    if (failLoad)
        return deferredFuture(R(fail(*failLoad)));
    return deferredFuture(R(stored));
}

QFuture<Result<void>> FakeTokenStore::save(const StoredAccount& account)
{
    if (failSave)
        return deferredFuture(Result<void>(fail(*failSave)));
    stored = account;
    saves.append(account);
    std::erase_if(parked,
                  [&account](const StoredAccount& a) { return a.storageKey() == account.storageKey(); });
    return deferredFuture(Result<void>{});
}

QFuture<Result<void>> FakeTokenStore::remove(const StoredAccount& account)
{
    if (stored && stored->storageKey() == account.storageKey())
        stored.reset();
    std::erase_if(parked,
                  [&account](const StoredAccount& a) { return a.storageKey() == account.storageKey(); });
    return deferredFuture(Result<void>{});
}

QFuture<Result<std::vector<StoredAccount>>> FakeTokenStore::loadParked()
{
    using R = Result<std::vector<StoredAccount>>;
    if (failLoad)
        return deferredFuture(R(fail(*failLoad)));
    return deferredFuture(R(parked));
}

QFuture<Result<void>> FakeTokenStore::park(const StoredAccount& account)
{
    if (failSave)
        return deferredFuture(Result<void>(fail(*failSave)));
    if (stored && stored->storageKey() == account.storageKey())
        stored.reset();
    std::erase_if(parked,
                  [&account](const StoredAccount& a) { return a.storageKey() == account.storageKey(); });
    parked.push_back(account);
    return deferredFuture(Result<void>{});
}

QFuture<Result<QString>> FakeTokenStore::loadDeviceCredential(const QString& serverUrl, const QString& email)
{
    return deferredFuture(
        Result<QString>(deviceCredentials.value(StoredAccount::deviceCredentialKey(serverUrl, email))));
}

QFuture<Result<void>> FakeTokenStore::saveDeviceCredential(const QString& serverUrl, const QString& email,
                                                           const QString& credential)
{
    const QString key = StoredAccount::deviceCredentialKey(serverUrl, email);
    if (credential.isEmpty())
        deviceCredentials.remove(key);
    else
        deviceCredentials.insert(key, credential);
    return deferredFuture(Result<void>{});
}

} // namespace ehrs::agent::test
