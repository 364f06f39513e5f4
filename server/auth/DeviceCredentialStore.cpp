// SPDX-License-Identifier: Apache-2.0
#include "DeviceCredentialStore.h"

#include "Crypto.h"

#include <QUuid>

namespace ehrs::server {

QByteArray DeviceCredentialStore::generate()
{
    return crypto::base64UrlEncode(crypto::randomBytes(32));
}

QByteArray DeviceCredentialStore::hash(QByteArrayView credential)
{
    return crypto::sha256Hex(credential);
}

Result<std::optional<DeviceCredentialRecord>> DeviceCredentialStore::findLive(QByteArrayView credential,
                                                                              qint64 nowMs)
{
    auto q =
        m_db.exec(QStringLiteral("SELECT d.user_id, u.email, d.failures, d.remembered_until, d.device_id "
                                 "FROM device_credentials d "
                                 "JOIN users u ON u.id = d.user_id "
                                 "WHERE d.credential_hash = ? AND d.revoked_at IS NULL AND d.expires_at > ?"),
                  {QString::fromLatin1(hash(credential)), nowMs});
    if (!q)
        return fail(q.error());
    QSqlQuery* query = *q;
    if (!query->next()) {
        query->finish();
        return std::optional<DeviceCredentialRecord>();
    }
    DeviceCredentialRecord r{query->value(0).toString(), query->value(1).toString(), query->value(2).toInt(),
                             query->value(3).toLongLong(), query->value(4).toString()};
    query->finish();
    return std::optional<DeviceCredentialRecord>(std::move(r));
}

Result<void> DeviceCredentialStore::insert(QByteArrayView credential, const QString& userId, qint64 nowMs,
                                           qint64 expiresAtMs, int keepPerUser)
{
    auto r =
        m_db.execute(QStringLiteral("INSERT INTO device_credentials (credential_hash, user_id, created_at, "
                                    "last_used_at, expires_at, failures) VALUES (?, ?, ?, ?, ?, 0)"),
                     {QString::fromLatin1(hash(credential)), userId, nowMs, nowMs, expiresAtMs});
    if (!r)
        return fail(r.error());
    // Pruning keeps the table bounded per user; failing to prune loses nothing.
    (void)m_db.execute(QStringLiteral("DELETE FROM device_credentials WHERE user_id = ? AND "
                                      "(expires_at <= ? OR revoked_at IS NOT NULL)"),
                       {userId, nowMs});
    (void)m_db.execute(
        QStringLiteral("DELETE FROM device_credentials WHERE user_id = ? AND credential_hash NOT IN "
                       "(SELECT credential_hash FROM device_credentials WHERE user_id = ? "
                       "ORDER BY last_used_at DESC LIMIT ?)"),
        {userId, userId, keepPerUser});
    return {};
}

Result<bool> DeviceCredentialStore::renew(QByteArrayView credential, const QString& userId, qint64 nowMs,
                                          qint64 expiresAtMs)
{
    auto r = m_db.execute(
        QStringLiteral("UPDATE device_credentials SET failures = 0, last_used_at = ?, expires_at = ? "
                       "WHERE credential_hash = ? AND user_id = ? AND revoked_at IS NULL "
                       "AND expires_at > ?"),
        {nowMs, expiresAtMs, QString::fromLatin1(hash(credential)), userId, nowMs});
    if (!r)
        return fail(r.error());
    return *r == 1;
}

Result<bool> DeviceCredentialStore::recordFailure(QByteArrayView credential, qint64 nowMs, int maxFailures)
{
    const QString h = QString::fromLatin1(hash(credential));
    auto counted = m_db.execute(QStringLiteral("UPDATE device_credentials SET failures = failures + 1 "
                                               "WHERE credential_hash = ? AND revoked_at IS NULL"),
                                {h});
    if (!counted)
        return fail(counted.error());
    // Separate statement: exactly one of several concurrent failures sees itself revoke it.
    auto revoked =
        m_db.execute(QStringLiteral("UPDATE device_credentials SET revoked_at = ? "
                                    "WHERE credential_hash = ? AND revoked_at IS NULL AND failures >= ?"),
                     {nowMs, h, maxFailures});
    if (!revoked)
        return fail(revoked.error());
    return *revoked == 1;
}

Result<QString> DeviceCredentialStore::remember(QByteArrayView credential, const QString& userId,
                                                qint64 nowMs, qint64 untilMs, const QString& label,
                                                const QString& ipAddress, const QString& place)
{
    const QString h = QString::fromLatin1(hash(credential));
    const QString fresh = QUuid::createUuid().toString(QUuid::WithoutBraces);
    auto r = m_db.execute(
        QStringLiteral("UPDATE device_credentials SET device_id = COALESCE(device_id, ?), remembered_at = ?, "
                       "remembered_until = ?, label = ?, remembered_ip = ?, remembered_place = ? "
                       "WHERE credential_hash = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?"),
        {fresh, nowMs, untilMs, label.left(200), ipAddress.left(64), place.left(200), h, userId, nowMs});
    if (!r)
        return fail(r.error());
    if (*r != 1)
        return QString();
    auto q =
        m_db.exec(QStringLiteral("SELECT device_id FROM device_credentials WHERE credential_hash = ?"), {h});
    if (!q)
        return fail(q.error());
    QString id = (*q)->next() ? (*q)->value(0).toString() : QString();
    (*q)->finish();
    return id;
}

Result<std::vector<RememberedDevice>> DeviceCredentialStore::listRemembered(const QString& userId,
                                                                            qint64 nowMs)
{
    auto q =
        m_db.exec(QStringLiteral("SELECT device_id, label, remembered_at, remembered_until, last_used_at, "
                                 "remembered_ip, remembered_place FROM device_credentials "
                                 "WHERE user_id = ? AND remembered_until > ? AND revoked_at IS NULL "
                                 "AND expires_at > ? ORDER BY last_used_at DESC"),
                  {userId, nowMs, nowMs});
    if (!q)
        return fail(q.error());
    std::vector<RememberedDevice> out;
    while ((*q)->next()) {
        out.push_back(RememberedDevice{(*q)->value(0).toString(), (*q)->value(1).toString(),
                                       (*q)->value(2).toLongLong(), (*q)->value(3).toLongLong(),
                                       (*q)->value(4).toLongLong(), (*q)->value(5).toString(),
                                       (*q)->value(6).toString()});
    }
    (*q)->finish();
    return out;
}

Result<bool> DeviceCredentialStore::forget(const QString& userId, const QString& deviceId)
{
    if (QUuid::fromString(deviceId).isNull())
        return false;
    auto r =
        m_db.execute(QStringLiteral("UPDATE device_credentials SET remembered_until = NULL "
                                    "WHERE user_id = ? AND device_id = ? AND remembered_until IS NOT NULL"),
                     {userId, deviceId});
    if (!r)
        return fail(r.error());
    return *r == 1;
}

Result<int> DeviceCredentialStore::forgetAll(const QString& userId, qint64 nowMs)
{
    auto r = m_db.execute(QStringLiteral("UPDATE device_credentials SET remembered_until = NULL "
                                         "WHERE user_id = ? AND remembered_until > ?"),
                          {userId, nowMs});
    if (!r)
        return fail(r.error());
    return *r;
}

} // namespace ehrs::server
