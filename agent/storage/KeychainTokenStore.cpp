// SPDX-License-Identifier: Apache-2.0
#include "KeychainTokenStore.h"

#include "Logging.h"
#include "core/Futures.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <qt6keychain/keychain.h>

namespace ehrs::agent {

KeychainTokenStore::KeychainTokenStore(QString service, QObject* parent) : QObject(parent), m_service(std::move(service))
{
}

Error KeychainTokenStore::toError(const QKeychain::Job& job)
{
    // No Secret Service on the bus (or no D-Bus session at all) shows up as NoBackendAvailable or,
    // with the libsecret backend, as OtherError: both mean "no keychain", which the agent answers
    // with memory-only mode. Locked/denied keychains are storage errors proper.
    switch (job.error()) {
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return Error{ErrorCode::Unavailable, QStringLiteral("no keychain backend: %1").arg(job.errorString())};
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        return Error{ErrorCode::StorageError, QStringLiteral("keychain access denied: %1").arg(job.errorString())};
    case QKeychain::OtherError:
        if (job.errorString().contains(u"org.freedesktop.secrets") || job.errorString().contains(u"D-Bus") ||
            job.errorString().contains(u"DBus") || job.errorString().contains(u"dbus"))
            return Error{ErrorCode::Unavailable, QStringLiteral("no keychain backend: %1").arg(job.errorString())};
        return Error{ErrorCode::StorageError, QStringLiteral("keychain error: %1").arg(job.errorString())};
    default:
        return Error{ErrorCode::StorageError, QStringLiteral("keychain error: %1").arg(job.errorString())};
    }
}

QFuture<Result<std::optional<QString>>> KeychainTokenStore::readEntry(const QString& key)
{
    using R = Result<std::optional<QString>>;
    auto promise = startedPromise<R>();
    auto* job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [promise](QKeychain::Job* j) {
        auto* read = static_cast<QKeychain::ReadPasswordJob*>(j);
        if (j->error() == QKeychain::EntryNotFound)
            finishPromise(*promise, R(std::nullopt));
        else if (j->error() != QKeychain::NoError)
            finishPromise(*promise, R(fail(toError(*j))));
        else
            finishPromise(*promise, R(read->textData()));
    });
    job->start(); // queued by QtKeychain: never finishes inside this call
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::writeEntry(const QString& key, const QString& value)
{
    auto promise = startedPromise<Result<void>>();
    auto* job = new QKeychain::WritePasswordJob(m_service, this);
    job->setKey(key);
    job->setTextData(value);
    connect(job, &QKeychain::Job::finished, this, [promise](QKeychain::Job* j) {
        if (j->error() != QKeychain::NoError)
            finishPromise(*promise, Result<void>(fail(toError(*j))));
        else
            finishPromise(*promise, Result<void>{});
    });
    job->start();
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::deleteEntry(const QString& key)
{
    auto promise = startedPromise<Result<void>>();
    auto* job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setKey(key);
    connect(job, &QKeychain::Job::finished, this, [promise](QKeychain::Job* j) {
        if (j->error() != QKeychain::NoError && j->error() != QKeychain::EntryNotFound)
            finishPromise(*promise, Result<void>(fail(toError(*j))));
        else
            finishPromise(*promise, Result<void>{});
    });
    job->start();
    return promise->future();
}

QFuture<Result<std::optional<StoredAccount>>> KeychainTokenStore::load()
{
    using R = Result<std::optional<StoredAccount>>;
    auto promise = startedPromise<R>();
    readEntry(currentAccountKey()).then(this, [this, promise](const Result<std::optional<QString>>& index) {
        if (!index) {
            finishPromise(*promise, R(fail(index.error())));
            return;
        }
        if (!*index || (*index)->isEmpty()) {
            finishPromise(*promise, R(std::nullopt));
            return;
        }
        readEntry(**index).then(this, [promise](const Result<std::optional<QString>>& entry) {
            if (!entry) {
                finishPromise(*promise, R(fail(entry.error())));
                return;
            }
            if (!*entry) { // a pointer left by a crash between the two deletes of remove()
                finishPromise(*promise, R(std::nullopt));
                return;
            }
            auto account = StoredAccount::fromJson((*entry)->toUtf8());
            if (!account) {
                qCWarning(lcAgentStorage) << "ignoring an unreadable keychain entry:" << account.error().message;
                finishPromise(*promise, R(std::nullopt));
                return;
            }
            finishPromise(*promise, R(std::move(*account)));
        });
    });
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::save(const StoredAccount& account)
{
    // The entry first, then the pointer to it: a crash in between leaves the previous current
    // account (or none) in place, never a pointer to a missing entry. QtKeychain runs jobs one at
    // a time in submission order, so rotations saved back to back land in order. A resumed
    // (parked) account leaves the parked list last: a crash before that lists it twice, and the
    // agent takes the current pointer's word (AgentService::start()).
    auto promise = startedPromise<Result<void>>();
    const QString key = account.storageKey();
    writeEntry(key, QString::fromUtf8(account.toJson())).then(this, [this, promise, key](const Result<void>& r) {
        if (!r) {
            finishPromise(*promise, r);
            return;
        }
        writeEntry(currentAccountKey(), key).then(this, [this, promise, key](const Result<void>& r2) {
            if (!r2 || !m_parkedKeys.contains(key)) {
                finishPromise(*promise, r2);
                return;
            }
            unlistParked(key).then(this, [promise](const Result<void>& r3) { finishPromise(*promise, r3); });
        });
    });
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::dropCurrentIf(const QString& key)
{
    auto promise = startedPromise<Result<void>>();
    readEntry(currentAccountKey())
        .then(this, [this, promise, key](const Result<std::optional<QString>>& index) {
            if (index && *index && **index == key) {
                deleteEntry(currentAccountKey()).then(this, [promise](const Result<void>& r3) {
                    finishPromise(*promise, r3);
                });
                return;
            }
            finishPromise(*promise, Result<void>{});
        });
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::remove(const StoredAccount& account)
{
    auto promise = startedPromise<Result<void>>();
    const QString key = account.storageKey();
    deleteEntry(key).then(this, [this, promise, key](const Result<void>& r) {
        if (!r) {
            finishPromise(*promise, r);
            return;
        }
        dropCurrentIf(key).then(this, [this, promise, key](const Result<void>& r2) {
            if (!r2 || !m_parkedKeys.contains(key)) {
                finishPromise(*promise, r2);
                return;
            }
            unlistParked(key).then(this, [promise](const Result<void>& r3) { finishPromise(*promise, r3); });
        });
    });
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::writeParkedList()
{
    if (m_parkedKeys.isEmpty())
        return deleteEntry(parkedAccountsKey());
    nlohmann::json keys = nlohmann::json::array();
    for (const QString& k : std::as_const(m_parkedKeys))
        keys.push_back(k.toStdString());
    return writeEntry(parkedAccountsKey(), QString::fromStdString(keys.dump()));
}

QFuture<Result<void>> KeychainTokenStore::unlistParked(const QString& key)
{
    m_parkedKeys.removeAll(key);
    return writeParkedList();
}

QFuture<Result<void>> KeychainTokenStore::park(const StoredAccount& account)
{
    // The entry (marked parked) first, then the list, then the current pointer: a crash in
    // between leaves an account that is parked on the server marked so in its own entry.
    auto promise = startedPromise<Result<void>>();
    const QString key = account.storageKey();
    writeEntry(key, QString::fromUtf8(account.toJson()))
        .then(this, [this, promise, key](const Result<void>& r) {
            if (!r) {
                finishPromise(*promise, r);
                return;
            }
            m_parkedKeys.removeAll(key);
            m_parkedKeys.append(key);
            writeParkedList().then(this, [this, promise, key](const Result<void>& r2) {
                if (!r2) {
                    finishPromise(*promise, r2);
                    return;
                }
                dropCurrentIf(key).then(this,
                                        [promise](const Result<void>& r3) { finishPromise(*promise, r3); });
            });
        });
    return promise->future();
}

QFuture<Result<std::vector<StoredAccount>>> KeychainTokenStore::loadParked()
{
    using R = Result<std::vector<StoredAccount>>;
    auto promise = startedPromise<R>();
    readEntry(parkedAccountsKey()).then(this, [this, promise](const Result<std::optional<QString>>& list) {
        if (!list) {
            finishPromise(*promise, R(fail(list.error())));
            return;
        }
        m_parkedKeys.clear();
        if (*list) {
            const auto j = nlohmann::json::parse((*list)->toStdString(), nullptr, false);
            if (j.is_array()) {
                for (const auto& k : j) {
                    if (k.is_string() && !m_parkedKeys.contains(QString::fromStdString(k.get<std::string>())))
                        m_parkedKeys.append(QString::fromStdString(k.get<std::string>()));
                }
            } else {
                qCWarning(lcAgentStorage) << "ignoring an unreadable list of parked accounts";
            }
        }
        readParked(m_parkedKeys, {}, promise);
    });
    return promise->future();
}

QFuture<Result<QString>> KeychainTokenStore::loadDeviceCredential(const QString& serverUrl,
                                                                  const QString& email)
{
    auto promise = startedPromise<Result<QString>>();
    readEntry(StoredAccount::deviceCredentialKey(serverUrl, email))
        .then(this, [promise](const Result<std::optional<QString>>& entry) {
            if (!entry)
                finishPromise(*promise, Result<QString>(fail(entry.error())));
            else
                finishPromise(*promise, Result<QString>(entry->value_or(QString())));
        });
    return promise->future();
}

QFuture<Result<void>> KeychainTokenStore::saveDeviceCredential(const QString& serverUrl, const QString& email,
                                                               const QString& credential)
{
    const QString key = StoredAccount::deviceCredentialKey(serverUrl, email);
    return credential.isEmpty() ? deleteEntry(key) : writeEntry(key, credential);
}

} // namespace ehrs::agent

namespace ehrs::agent {

void KeychainTokenStore::readParked(QStringList keys, std::vector<StoredAccount> accounts,
                                    std::shared_ptr<QPromise<Result<std::vector<StoredAccount>>>> promise)
{
    using R = Result<std::vector<StoredAccount>>;
    if (keys.isEmpty()) {
        finishPromise(*promise, R(std::move(accounts)));
        return;
    }
    const QString key = keys.takeFirst();
    readEntry(key).then(
        this, [this, keys, accounts, promise](const Result<std::optional<QString>>& entry) mutable {
            if (!entry) {
                finishPromise(*promise, R(fail(entry.error())));
                return;
            }
            if (*entry) {
                if (auto account = StoredAccount::fromJson((*entry)->toUtf8()))
                    accounts.push_back(std::move(*account));
                else
                    qCWarning(lcAgentStorage) << "ignoring an unreadable parked account entry";
            }
            readParked(std::move(keys), std::move(accounts), promise);
        });
}

} // namespace ehrs::agent
