// SPDX-License-Identifier: Apache-2.0
#include "SessionStore.h"

#include <QUuid>

#include <nlohmann/json.hpp>

namespace ehrs::server {
namespace {
const QString kColumns = QStringLiteral(
    "id, user_id, access_token_hash, refresh_token_hash, prev_refresh_token_hash, rotation_counter, "
    "rotated_at, "
    "expires_at, created_at, last_activity_at, revoked_at, revoke_reason, is_active, ip_address, user_agent, "
    "device_type, device_name, device_os, device_browser, name, refresh_retry_sealed, idle_timeout_ms, "
    "device_class, "
    "policy, parked_at");

QVariant nullIfEmpty(const QString& s)
{
    return s.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(s);
}

QVariant nullIfEmpty(const QByteArray& s)
{
    return nullIfEmpty(QString::fromLatin1(s));
}

QString deviceJson(const DeviceInfo& d)
{
    nlohmann::json j = d;
    return QString::fromStdString(j.dump());
}

bool validId(const QString& id)
{
    return !QUuid::fromString(id).isNull();
}
} // namespace

DeviceInfo deviceFromColumns(QString type, QString name, QString os, QString browser)
{
    DeviceInfo d;
    if (DeviceInfo::isKnownType(type))
        d.type = std::move(type);
    d.name = std::move(name);
    d.os = std::move(os);
    d.browser = std::move(browser);
    return d;
}

Result<void> SessionStore::insert(const SessionRecord& s)
{
    auto r = m_db.execute(
        QStringLiteral(
            "INSERT INTO user_sessions (id, user_id, access_token_hash, refresh_token_hash, "
            "prev_refresh_token_hash, rotation_counter, rotated_at, expires_at, created_at, "
            "last_activity_at, "
            "is_active, ip_address, user_agent, device_info, device_type, device_name, device_os, "
            "device_browser, name, metadata, refresh_retry_sealed, idle_timeout_ms, device_class, policy) "
            "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        {s.id,
         s.userId,
         QString::fromLatin1(s.accessHash),
         QString::fromLatin1(s.refreshHash),
         qint64(s.generation),
         s.rotatedAt,
         s.expiresAt,
         s.createdAt,
         s.lastActivityAt,
         true,
         nullIfEmpty(s.ipAddress),
         nullIfEmpty(s.userAgent),
         deviceJson(s.device),
         s.device.type,
         nullIfEmpty(s.device.name),
         nullIfEmpty(s.device.os),
         nullIfEmpty(s.device.browser),
         nullIfEmpty(s.name),
         QStringLiteral("{}"),
         nullIfEmpty(s.retrySealed),
         s.idleTimeoutMs > 0 ? QVariant(s.idleTimeoutMs) : QVariant(QMetaType::fromType<qint64>()),
         s.deviceClass.isEmpty() ? QStringLiteral("personal") : s.deviceClass,
         nullIfEmpty(s.policy)});
    if (!r)
        return fail(r.error());
    return {};
}

namespace {
SessionRecord rowOf(const QSqlQuery* q)
{
    SessionRecord s;
    s.id = q->value(0).toString();
    s.userId = q->value(1).toString();
    s.accessHash = q->value(2).toString().toLatin1();
    s.refreshHash = q->value(3).toString().toLatin1();
    s.prevRefreshHash = q->value(4).toString().toLatin1();
    s.generation = quint32(q->value(5).toLongLong());
    s.rotatedAt = q->value(6).toLongLong();
    s.expiresAt = q->value(7).toLongLong();
    s.createdAt = q->value(8).toLongLong();
    s.lastActivityAt = q->value(9).toLongLong();
    if (!q->value(10).isNull())
        s.revokedAt = q->value(10).toLongLong();
    s.revokeReason = q->value(11).toString();
    s.isActive = q->value(12).toBool();
    s.ipAddress = q->value(13).toString();
    s.userAgent = q->value(14).toString();
    s.device = deviceFromColumns(q->value(15).toString(), q->value(16).toString(), q->value(17).toString(),
                                 q->value(18).toString());
    s.name = q->value(19).toString();
    s.retrySealed = q->value(20).toString().toLatin1();
    s.idleTimeoutMs = q->value(21).toLongLong();
    s.deviceClass = q->value(22).toString();
    s.policy = q->value(23).toString().toUtf8();
    if (!q->value(24).isNull())
        s.parkedAt = q->value(24).toLongLong();
    return s;
}
} // namespace

Result<std::vector<SessionRecord>> SessionStore::readAll(QSqlQuery* q)
{
    std::vector<SessionRecord> out;
    while (q->next())
        out.push_back(rowOf(q));
    q->finish();
    return out;
}

Result<std::optional<SessionRecord>> SessionStore::readOne(const Result<QSqlQuery*>& q)
{
    if (!q)
        return fail(q.error());
    auto rows = readAll(*q);
    if (!rows)
        return fail(rows.error());
    if (rows->empty())
        return std::optional<SessionRecord>();
    return std::optional<SessionRecord>(std::move(rows->front()));
}

Result<std::optional<SessionRecord>> SessionStore::find(const QString& id, bool forUpdate)
{
    if (!validId(id))
        return std::optional<SessionRecord>();
    QString sql = QStringLiteral("SELECT ") + kColumns + QStringLiteral(" FROM user_sessions WHERE id = ?");
    if (forUpdate && m_db.isPostgres())
        sql += QStringLiteral(" FOR UPDATE");
    auto q = m_db.exec(sql, {id});
    return readOne(q);
}

Result<void> SessionStore::rotate(const SessionRecord& s)
{
    auto r = m_db.execute(QStringLiteral("UPDATE user_sessions SET access_token_hash = ?, refresh_token_hash = ?, "
                                         "prev_refresh_token_hash = ?, refresh_retry_sealed = ?, rotation_counter = ?, "
                                         "rotated_at = ?, last_activity_at = ?, ip_address = COALESCE(?, ip_address) "
                                         "WHERE id = ?"),
                          {QString::fromLatin1(s.accessHash), QString::fromLatin1(s.refreshHash),
                           nullIfEmpty(s.prevRefreshHash), nullIfEmpty(s.retrySealed), qint64(s.generation),
                           s.rotatedAt, s.lastActivityAt, nullIfEmpty(s.ipAddress), s.id});
    if (!r)
        return fail(r.error());
    return {};
}

Result<bool> SessionStore::rotateIf(const SessionRecord& s, const QByteArray& expectedRefreshHash,
                                   quint32 expectedGeneration)
{
    auto r = m_db.execute(QStringLiteral("UPDATE user_sessions SET access_token_hash = ?, refresh_token_hash = ?, "
                                         "prev_refresh_token_hash = ?, refresh_retry_sealed = ?, rotation_counter = ?, "
                                         "rotated_at = ?, last_activity_at = ?, ip_address = COALESCE(?, ip_address) "
                                         "WHERE id = ? AND refresh_token_hash = ? AND rotation_counter = ? "
                                         "AND revoked_at IS NULL"),
                          {QString::fromLatin1(s.accessHash), QString::fromLatin1(s.refreshHash),
                           nullIfEmpty(s.prevRefreshHash), nullIfEmpty(s.retrySealed), qint64(s.generation),
                           s.rotatedAt, s.lastActivityAt, nullIfEmpty(s.ipAddress), s.id,
                           QString::fromLatin1(expectedRefreshHash), qint64(expectedGeneration)});
    if (!r)
        return fail(r.error());
    return *r == 1;
}

Result<void> SessionStore::touch(const QString& id, const QByteArray& accessHash, qint64 nowMs)
{
    auto r = m_db.execute(QStringLiteral("UPDATE user_sessions SET refresh_retry_sealed = NULL, last_activity_at = ? "
                                         "WHERE id = ? AND access_token_hash = ? AND revoked_at IS NULL"),
                          {nowMs, id, QString::fromLatin1(accessHash)});
    if (!r)
        return fail(r.error());
    return {};
}

Result<std::vector<SessionRecord>> SessionStore::listLive(const QString& userId, qint64 nowMs, qint64 idleMs)
{
    auto q = m_db.exec(
        QStringLiteral("SELECT ") + kColumns +
            QStringLiteral(" FROM user_sessions WHERE user_id = ? AND is_active AND revoked_at IS NULL "
                           "AND expires_at > ? AND last_activity_at + COALESCE(idle_timeout_ms, ?) > ? "
                           "ORDER BY last_activity_at DESC, id LIMIT 500"),
        {userId, nowMs, idleMs, nowMs});
    if (!q)
        return fail(q.error());
    return readAll(*q);
}

Result<std::vector<std::pair<SessionRecord, QString>>> SessionStore::allLiveWithGroups(qint64 nowMs,
                                                                                       qint64 idleMs)
{
    QStringList qualified = kColumns.split(QStringLiteral(", "));
    for (QString& c : qualified)
        c.prepend(QStringLiteral("s."));
    const QString columns = qualified.join(QStringLiteral(", "));
    auto q =
        m_db.exec(QStringLiteral("SELECT ") + columns +
                      QStringLiteral(", u.user_groups FROM user_sessions s JOIN users u ON u.id = s.user_id "
                                     "WHERE s.is_active AND s.revoked_at IS NULL AND s.expires_at > ? "
                                     "AND s.last_activity_at + COALESCE(s.idle_timeout_ms, ?) > ?"),
                  {nowMs, idleMs, nowMs});
    if (!q)
        return fail(q.error());
    // The session columns, then the user's groups.
    std::vector<std::pair<SessionRecord, QString>> out;
    QSqlQuery* rows = *q;
    while (rows->next())
        out.emplace_back(rowOf(rows), rows->value(int(qualified.size())).toString());
    rows->finish();
    return out;
}

Result<void> SessionStore::setPolicy(const QString& id, qint64 idleTimeoutMs, qint64 expiresAt,
                                     const QByteArray& policy)
{
    auto r = m_db.execute(
        QStringLiteral("UPDATE user_sessions SET idle_timeout_ms = ?, expires_at = ?, policy = ? "
                       "WHERE id = ? AND revoked_at IS NULL"),
        {idleTimeoutMs, expiresAt, QString::fromUtf8(policy), id});
    if (!r)
        return fail(r.error());
    return {};
}

Result<std::optional<SessionRecord>> SessionStore::revoke(const QString& id, const QString& userId,
                                                          const QString& reason, qint64 nowMs)
{
    if (!validId(id))
        return std::optional<SessionRecord>();
    QString sql = QStringLiteral("UPDATE user_sessions SET revoked_at = ?, is_active = ?, revoke_reason = ?, "
                                 "refresh_retry_sealed = NULL WHERE id = ? AND revoked_at IS NULL");
    QVariantList params{nowMs, false, reason, id};
    if (!userId.isEmpty()) {
        sql += QStringLiteral(" AND user_id = ?");
        params << userId;
    }
    sql += QStringLiteral(" RETURNING ") + kColumns;
    auto q = m_db.exec(sql, params);
    return readOne(q);
}

Result<std::vector<SessionRecord>> SessionStore::revokeAllOf(const QString& userId, const QString& keepId,
                                                             const QString& reason, qint64 nowMs)
{
    auto q = m_db.exec(QStringLiteral("UPDATE user_sessions SET revoked_at = ?, is_active = ?, revoke_reason = ?, "
                                      "refresh_retry_sealed = NULL WHERE user_id = ? AND id <> ? AND revoked_at IS NULL "
                                      "RETURNING ") +
                           kColumns,
                       {nowMs, false, reason, userId,
                        keepId.isEmpty() ? QStringLiteral("00000000-0000-0000-0000-000000000000") : keepId});
    if (!q)
        return fail(q.error());
    return readAll(*q);
}

Result<std::optional<SessionRecord>> SessionStore::rename(const QString& id, const QString& userId,
                                                          const QString& name, qint64 nowMs)
{
    if (!validId(id))
        return std::optional<SessionRecord>();
    auto q = m_db.exec(QStringLiteral("UPDATE user_sessions SET name = ? WHERE id = ? AND user_id = ? AND "
                                      "revoked_at IS NULL AND expires_at > ? RETURNING ") +
                           kColumns,
                       {nullIfEmpty(name), id, userId, nowMs});
    return readOne(q);
}

Result<int> SessionStore::cleanup(qint64 nowMs, qint64 idleMs, qint64 retentionMs, qint64 retryGraceMs, int batch)
{
    // A sealed retry token is useless once its grace has passed: do not keep it around.
    if (auto r = m_db.execute(QStringLiteral("UPDATE user_sessions SET refresh_retry_sealed = NULL "
                                             "WHERE refresh_retry_sealed IS NOT NULL AND rotated_at < ?"),
                              {nowMs - retryGraceMs});
        !r)
        return fail(r.error());
    // Mark what ended by time, so the table tells the truth to people who query it directly.
    for (;;) {
        auto r =
            m_db.execute(QStringLiteral("UPDATE user_sessions SET is_active = ? WHERE id IN (SELECT id FROM "
                                        "user_sessions WHERE is_active AND (expires_at <= ? OR "
                                        "last_activity_at + COALESCE(idle_timeout_ms, ?) <= ?) LIMIT ?)"),
                         {false, nowMs, idleMs, nowMs, batch});
        if (!r)
            return fail(r.error());
        if (*r < batch)
            break;
    }
    int total = 0;
    const qint64 cutoff = nowMs - retentionMs;
    for (;;) {
        auto r = m_db.execute(
            QStringLiteral("DELETE FROM user_sessions WHERE id IN (SELECT id FROM user_sessions WHERE "
                           "expires_at <= ? OR revoked_at <= ? OR last_activity_at + "
                           "COALESCE(idle_timeout_ms, ?) <= ? LIMIT ?)"),
            {cutoff, cutoff, idleMs, cutoff, batch});
        if (!r)
            return fail(r.error());
        total += *r;
        if (*r < batch)
            break;
    }
    return total;
}

} // namespace ehrs::server
