// SPDX-License-Identifier: Apache-2.0
#include "UserStore.h"

#include <QRegularExpression>
#include <QUuid>

namespace ehrs::server {

Result<void> UserStore::checkEmail(const QString& email)
{
    const QString e = normalizeEmail(email);
    const qsizetype at = e.indexOf(u'@');
    if (e.size() > 254 || at <= 0 || at == e.size() - 1 || e.contains(u' ') || e.count(u'@') != 1)
        return fail(ErrorCode::InvalidRequest, QStringLiteral("'%1' is not a valid email address").arg(email.left(64)));
    return {};
}

Result<QStringList> UserStore::parseGroups(const QString& text)
{
    static const QRegularExpression valid(QStringLiteral("^[a-z0-9][a-z0-9._-]{0,63}$"));
    QStringList out;
    for (const QString& raw :
         text.split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts)) {
        const QString g = raw.toLower();
        if (!valid.match(g).hasMatch())
            return fail(
                ErrorCode::InvalidRequest,
                QStringLiteral("group \"%1\" is not a valid group name (letters, digits, '.', '_', '-'; "
                               "at most 64)")
                    .arg(raw.left(64)));
        if (!out.contains(g))
            out << g;
    }
    out.sort();
    return out;
}

Result<bool> UserStore::upgradePasswordHash(const QString& id, const QByteArray& oldHash,
                                            const QByteArray& newHash, qint64 nowMs)
{
    auto r = m_db.execute(
        QStringLiteral(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?"),
        {QString::fromLatin1(newHash), nowMs, id, QString::fromLatin1(oldHash)});
    if (!r)
        return fail(r.error());
    return *r == 1;
}

Result<UserRecord> UserStore::create(const QString& email, const QString& name,
                                     const QByteArray& passwordHash, const QString& role, qint64 nowMs,
                                     const QStringList& groups)
{
    if (auto r = checkEmail(email); !r)
        return fail(r.error());
    UserRecord u;
    u.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    u.email = normalizeEmail(email);
    u.name = name.trimmed().isEmpty() ? u.email.section(u'@', 0, 0) : name.trimmed();
    u.passwordHash = passwordHash;
    u.role = role;
    auto r = m_db.execute(
        QStringLiteral(
            "INSERT INTO users (id, email, name, password_hash, role, user_groups, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        {u.id, u.email, u.name, QString::fromLatin1(passwordHash), u.role,
         groups.isEmpty() ? QStringLiteral("") : groups.join(u','), nowMs, nowMs});
    if (!r) {
        if (r.error().code == ErrorCode::Conflict)
            return fail(ErrorCode::Conflict, QStringLiteral("a user with this email already exists"));
        return fail(r.error());
    }
    return u;
}

Result<std::optional<UserRecord>> UserStore::findOne(const QString& where, const QVariant& value)
{
    auto q = m_db.exec(
        QStringLiteral("SELECT id, email, name, password_hash, role, disabled_at, mfa_enabled_at, "
                       "totp_secret_enc, totp_pending_secret_enc, totp_last_step, mfa_failed_count, "
                       "COALESCE(mfa_changed_at, 0) FROM users WHERE ") +
            where,
        {value});
    if (!q)
        return fail(q.error());
    QSqlQuery* query = *q;
    if (!query->next()) {
        query->finish();
        return std::optional<UserRecord>();
    }
    UserRecord u;
    u.id = query->value(0).toString();
    u.email = query->value(1).toString();
    u.name = query->value(2).toString();
    u.passwordHash = query->value(3).toString().toLatin1();
    u.role = query->value(4).toString();
    u.disabled = !query->value(5).isNull();
    u.mfaEnabled = !query->value(6).isNull();
    u.totpSecretEnc = query->value(7).toString().toLatin1();
    u.totpPendingSecretEnc = query->value(8).toString().toLatin1();
    u.totpLastStep = query->value(9).toLongLong();
    u.mfaFailedCount = query->value(10).toInt();
    u.mfaChangedAt = query->value(11).toLongLong();
    query->finish();
    return std::optional<UserRecord>(std::move(u));
}

Result<std::optional<UserRecord>> UserStore::findByEmail(const QString& email)
{
    return findOne(QStringLiteral("email = ?"), normalizeEmail(email));
}

Result<std::optional<UserRecord>> UserStore::findById(const QString& id)
{
    if (QUuid::fromString(id).isNull())
        return std::optional<UserRecord>();
    return findOne(QStringLiteral("id = ?"), id);
}

Result<void> UserStore::setPasswordHash(const QString& id, const QByteArray& hash, qint64 nowMs)
{
    auto r = m_db.execute(QStringLiteral("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?"),
                          {QString::fromLatin1(hash), nowMs, id});
    if (!r)
        return fail(r.error());
    if (*r == 0)
        return fail(ErrorCode::NotFound, QStringLiteral("no such user"));
    return {};
}

Result<void> UserStore::setDisabled(const QString& id, bool disabled, qint64 nowMs)
{
    auto r = m_db.execute(QStringLiteral("UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?"),
                          {disabled ? QVariant(nowMs) : QVariant(QMetaType::fromType<qint64>()), nowMs, id});
    if (!r)
        return fail(r.error());
    if (*r == 0)
        return fail(ErrorCode::NotFound, QStringLiteral("no such user"));
    return {};
}

Result<void> UserStore::setPendingTotp(const QString& id, const QByteArray& sealedSecret, qint64 nowMs)
{
    auto r = m_db.execute(QStringLiteral("UPDATE users SET totp_pending_secret_enc = ?, updated_at = ? WHERE id = ?"),
                          {QString::fromLatin1(sealedSecret), nowMs, id});
    if (!r)
        return fail(r.error());
    return {};
}

Result<void> UserStore::enableTotp(const QString& id, const QByteArray& sealedSecret, qint64 step, qint64 nowMs)
{
    auto r = m_db.execute(
        QStringLiteral("UPDATE users SET totp_secret_enc = ?, totp_pending_secret_enc = NULL, "
                       "mfa_enabled_at = ?, totp_last_step = ?, mfa_failed_count = 0, mfa_changed_at = ?, "
                       "updated_at = ? WHERE id = ?"),
        {QString::fromLatin1(sealedSecret), nowMs, step, nowMs, nowMs, id});
    if (!r)
        return fail(r.error());
    return {};
}

Result<void> UserStore::disableTotp(const QString& id, qint64 nowMs)
{
    auto r = m_db.execute(
        QStringLiteral(
            "UPDATE users SET totp_secret_enc = NULL, totp_pending_secret_enc = NULL, "
            "mfa_enabled_at = NULL, mfa_failed_count = 0, mfa_changed_at = ?, updated_at = ? WHERE id = ?"),
        {nowMs, nowMs, id});
    if (!r)
        return fail(r.error());
    return {};
}

Result<bool> UserStore::consumeTotpStep(const QString& id, qint64 step)
{
    auto r = m_db.execute(QStringLiteral("UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?"),
                          {step, id, step});
    if (!r)
        return fail(r.error());
    return *r == 1;
}

Result<int> UserStore::recordMfaFailure(const QString& id)
{
    auto r = m_db.execute(
        QStringLiteral("UPDATE users SET mfa_failed_count = mfa_failed_count + 1 WHERE id = ?"), {id});
    if (!r)
        return fail(r.error());
    auto q = m_db.exec(QStringLiteral("SELECT mfa_failed_count FROM users WHERE id = ?"), {id});
    if (!q)
        return fail(q.error());
    const int n = (*q)->next() ? (*q)->value(0).toInt() : 0;
    (*q)->finish();
    return n;
}

Result<void> UserStore::clearMfaFailures(const QString& id)
{
    auto r = m_db.execute(
        QStringLiteral("UPDATE users SET mfa_failed_count = 0 WHERE id = ? AND mfa_failed_count <> 0"), {id});
    if (!r)
        return fail(r.error());
    return {};
}

Result<void> UserStore::resetMfa(const QString& id, qint64 nowMs)
{
    Transaction tx(m_db);
    if (auto r = tx.begin(); !r)
        return fail(r.error());
    auto r = m_db.execute(
        QStringLiteral("UPDATE users SET totp_secret_enc = NULL, totp_pending_secret_enc = NULL, "
                       "mfa_enabled_at = NULL, mfa_failed_count = 0, mfa_changed_at = ?, "
                       "updated_at = ? WHERE id = ?"),
        {nowMs, nowMs, id});
    if (!r)
        return fail(r.error());
    if (*r == 0)
        return fail(ErrorCode::NotFound, QStringLiteral("no such user"));
    if (auto c = m_db.execute(QStringLiteral("DELETE FROM user_backup_codes WHERE user_id = ?"), {id}); !c)
        return fail(c.error());
    if (auto c = tx.commit(); !c)
        return fail(c.error());
    return {};
}

Result<void> UserStore::setRole(const QString& id, const QString& role, qint64 nowMs)
{
    auto r = m_db.execute(QStringLiteral("UPDATE users SET role = ?, updated_at = ? WHERE id = ?"), {role, nowMs, id});
    if (!r)
        return fail(r.error());
    if (*r == 0)
        return fail(ErrorCode::NotFound, QStringLiteral("no such user"));
    return {};
}

} // namespace ehrs::server
