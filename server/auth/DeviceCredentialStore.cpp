// SPDX-License-Identifier: Apache-2.0
#include "DeviceCredentialStore.h"

#include "Crypto.h"

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
        m_db.exec(QStringLiteral("SELECT d.user_id, u.email, d.failures FROM device_credentials d "
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
    DeviceCredentialRecord r{query->value(0).toString(), query->value(1).toString(), query->value(2).toInt()};
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

} // namespace ehrs::server
