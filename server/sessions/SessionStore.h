// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"
#include "Result.h"
#include "db/Database.h"

#include <optional>
#include <vector>

namespace ehrs::server {

struct SessionRecord
{
    QString id;
    QString userId;
    QByteArray accessHash;
    QByteArray refreshHash;
    QByteArray prevRefreshHash; // the token rotated away last: coming back after the grace, it is re-use
    /// The current refresh token sealed for a lost-response retry (TokenService::sealRetry);
    /// empty once the current pair has been used, the grace has passed or the session ended.
    QByteArray retrySealed;
    quint32 generation = 0;
    qint64 rotatedAt = 0; // ms, when the current pair was issued
    qint64 expiresAt = 0;
    qint64 createdAt = 0;
    qint64 lastActivityAt = 0;
    std::optional<qint64> revokedAt;
    QString revokeReason;
    bool isActive = true;
    QString ipAddress;
    QString userAgent;
    QString name;
    DeviceInfo device;
    /// The session's own idle timeout from its policy (0: SESSION_IDLE_TIMEOUT, sessions from
    /// before migration 0011), its device class and its resolved policy (SessionPolicy, JSON).
    qint64 idleTimeoutMs = 0;
    QString deviceClass;
    QByteArray policy;
    /// Set while the session is parked on a shared workstation (migration 0012, server/workstation/):
    /// neither its refresh token alone nor its access tokens are accepted until a PIN resumes it.
    std::optional<qint64> parkedAt;
};

/// A device as stored in the device_* columns; an unknown or missing type reads as "unknown".
DeviceInfo deviceFromColumns(QString type, QString name, QString os, QString browser);

/// The `user_sessions` table. All times in milliseconds since the epoch.
class SessionStore
{
public:
    explicit SessionStore(Database& db) : m_db(db) {}

    [[nodiscard]] Result<void> insert(const SessionRecord& s);
    /// Reads one session; inside a transaction on PostgreSQL it takes the row lock (FOR UPDATE),
    /// on SQLite the transaction already holds the database write lock.
    [[nodiscard]] Result<std::optional<SessionRecord>> find(const QString& id, bool forUpdate = false);
    [[nodiscard]] Result<void> rotate(const SessionRecord& s);
    /// rotate() only if the row still holds `expectedRefreshHash` at `expectedGeneration` and is
    /// not revoked; false when it did not (another refresh won, or the session ended).
    [[nodiscard]] Result<bool> rotateIf(const SessionRecord& s, const QByteArray& expectedRefreshHash,
                                        quint32 expectedGeneration);
    /// Use of the current pair: forget the sealed retry token (the response evidently arrived),
    /// note activity. The previous refresh token's hash stays, so its return is re-use.
    [[nodiscard]] Result<void> touch(const QString& id, const QByteArray& accessHash, qint64 nowMs);
    /// `idleMs`: the idle timeout of sessions that have none of their own (idle_timeout_ms NULL).
    [[nodiscard]] Result<std::vector<SessionRecord>> listLive(const QString& userId, qint64 nowMs, qint64 idleMs);
    /// Every live session (any user), with the groups of its user: what a policy change re-resolves.
    [[nodiscard]] Result<std::vector<std::pair<SessionRecord, QString>>> allLiveWithGroups(qint64 nowMs,
                                                                                           qint64 idleMs);
    /// Stores a re-resolved policy of a live session (policy change): idle timeout, absolute end,
    /// policy JSON.
    [[nodiscard]] Result<void> setPolicy(const QString& id, qint64 idleTimeoutMs, qint64 expiresAt,
                                         const QByteArray& policy);
    /// Ends one session (only the user's own when `userId` is set); nullopt when there was no
    /// such live session.
    [[nodiscard]] Result<std::optional<SessionRecord>> revoke(const QString& id, const QString& userId,
                                                              const QString& reason, qint64 nowMs);
    /// Ends every live session of a user except `keepId` (may be empty); returns those ended.
    [[nodiscard]] Result<std::vector<SessionRecord>> revokeAllOf(const QString& userId, const QString& keepId,
                                                                 const QString& reason, qint64 nowMs);
    [[nodiscard]] Result<std::optional<SessionRecord>> rename(const QString& id, const QString& userId,
                                                              const QString& name, qint64 nowMs);
    /// Deactivates sessions past their absolute or idle end, then deletes, in batches of `batch`
    /// rows (short transactions), those expired or revoked more than `retentionMs` ago. Also
    /// erases sealed retry tokens whose refresh grace (`retryGraceMs`) has passed.
    [[nodiscard]] Result<int> cleanup(qint64 nowMs, qint64 idleMs, qint64 retentionMs,
                                      qint64 retryGraceMs = 0, int batch = 1000);

private:
    Result<std::vector<SessionRecord>> readAll(QSqlQuery* q);
    Result<std::optional<SessionRecord>> readOne(const Result<QSqlQuery*>& q);
    Database& m_db;
};

} // namespace ehrs::server
