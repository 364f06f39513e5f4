// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"
#include "StoredAccount.h"

#include <QFuture>
#include <QString>
#include <optional>
#include <vector>

namespace ehrs::agent {

/// Where the agent keeps its account between runs. Operations are asynchronous (a keychain may
/// prompt or talk D-Bus) and never finish synchronously inside the call.
///
/// The agent keeps one current account; `load()` returns it. `save()` must be durable when its
/// future reports success: the agent hands out a rotated token only after that.
class TokenStore
{
public:
    virtual ~TokenStore() = default;

    /// The current account, or nullopt when none is stored. ErrorCode::Unavailable means there is
    /// no backend at all (no Secret Service): the caller may fall back to memory.
    virtual QFuture<Result<std::optional<StoredAccount>>> load() = 0;
    /// Stores `account` and makes it the current one.
    virtual QFuture<Result<void>> save(const StoredAccount& account) = 0;
    /// Deletes `account`'s entry (and the current-account pointer if it names it). Removing what
    /// is not there succeeds.
    virtual QFuture<Result<void>> remove(const StoredAccount& account) = 0;

    // Shared workstations (issue 14): besides the current account, accounts whose sessions are
    // parked ("switch user"), each in its own account entry, plus a list of them.
    /// The parked accounts, oldest first (an unreadable or missing entry is left out).
    virtual QFuture<Result<std::vector<StoredAccount>>> loadParked() = 0;
    /// Stores `account` (its parkedAtMs set) as parked: no longer the current account.
    virtual QFuture<Result<void>> park(const StoredAccount& account) = 0;
    // save() of a parked account makes it current and no longer parked (resume); remove() forgets
    // a parked account too.

    /// The device credential the server issued to this device for `email` on `serverUrl` (empty:
    /// none). It names the device, not a session: remove() leaves it, so the next sign-in of that
    /// account here is not locked out by other clients' failed attempts.
    virtual QFuture<Result<QString>> loadDeviceCredential(const QString& serverUrl, const QString& email) = 0;
    /// Stores it; an empty `credential` deletes the entry.
    virtual QFuture<Result<void>> saveDeviceCredential(const QString& serverUrl, const QString& email,
                                                       const QString& credential) = 0;

    /// "keychain" or "memory", as `status` reports it.
    virtual QString kind() const = 0;
    /// True when what is saved outlives the process.
    virtual bool isPersistent() const = 0;
    /// Why this store is in use when it is not the expected one (no keychain: why), for `status`.
    virtual QString note() const { return {}; }
};

} // namespace ehrs::agent
