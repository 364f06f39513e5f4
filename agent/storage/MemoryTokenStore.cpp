// SPDX-License-Identifier: Apache-2.0
#include "MemoryTokenStore.h"

#include "core/Futures.h"

namespace ehrs::agent {

// Answers are deferred to the event loop, like a real keychain's: code written against this store
// then behaves the same with the keychain.
QFuture<Result<std::optional<StoredAccount>>> MemoryTokenStore::load()
{
    return deferredFuture(Result<std::optional<StoredAccount>>(m_account));
}

namespace {
void dropParked(std::vector<StoredAccount>& parked, const QString& key)
{
    std::erase_if(parked, [&key](const StoredAccount& a) { return a.storageKey() == key; });
}
} // namespace

QFuture<Result<void>> MemoryTokenStore::save(const StoredAccount& account)
{
    m_account = account;
    dropParked(m_parked, account.storageKey());
    return deferredFuture(Result<void>{});
}

QFuture<Result<void>> MemoryTokenStore::remove(const StoredAccount& account)
{
    if (m_account && m_account->storageKey() == account.storageKey())
        m_account.reset();
    dropParked(m_parked, account.storageKey());
    return deferredFuture(Result<void>{});
}

QFuture<Result<std::vector<StoredAccount>>> MemoryTokenStore::loadParked()
{
    return deferredFuture(Result<std::vector<StoredAccount>>(m_parked));
}

QFuture<Result<void>> MemoryTokenStore::park(const StoredAccount& account)
{
    if (m_account && m_account->storageKey() == account.storageKey())
        m_account.reset();
    dropParked(m_parked, account.storageKey());
    m_parked.push_back(account);
    return deferredFuture(Result<void>{});
}

QFuture<Result<QString>> MemoryTokenStore::loadDeviceCredential(const QString& serverUrl,
                                                                const QString& email)
{
    return deferredFuture(
        Result<QString>(m_deviceCredentials.value(StoredAccount::deviceCredentialKey(serverUrl, email))));
}

QFuture<Result<void>> MemoryTokenStore::saveDeviceCredential(const QString& serverUrl, const QString& email,
                                                             const QString& credential)
{
    const QString key = StoredAccount::deviceCredentialKey(serverUrl, email);
    if (credential.isEmpty())
        m_deviceCredentials.remove(key);
    else
        m_deviceCredentials.insert(key, credential);
    return deferredFuture(Result<void>{});
}

} // namespace ehrs::agent
