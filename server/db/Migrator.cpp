// SPDX-License-Identifier: Apache-2.0
#include "Migrator.h"

#include "Logging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>

static void initMigrationResources()
{
    Q_INIT_RESOURCE(migrations);
}

namespace ehrs::server {

QList<Migrator::Migration> Migrator::available() const
{
    initMigrationResources();
    const QString dir = m_db.isPostgres() ? QStringLiteral(":/migrations/postgres") : QStringLiteral(":/migrations/sqlite");
    QList<Migration> out;
    const QStringList files = QDir(dir).entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
    for (const QString& file : files) {
        bool ok = false;
        const int version = file.section(u'_', 0, 0).toInt(&ok);
        if (!ok)
            continue;
        QFile f(dir + u'/' + file);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        out.append({version, file, QString::fromUtf8(f.readAll())});
    }
    return out;
}

int Migrator::latestVersion() const
{
    const auto all = available();
    return all.isEmpty() ? 0 : all.last().version;
}

Result<int> Migrator::currentVersion()
{
    auto r = m_db.execScript(QStringLiteral(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at bigint NOT NULL)"));
    if (!r)
        return fail(r.error());
    auto q = m_db.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    if (!q)
        return fail(q.error());
    const int v = (*q)->next() ? (*q)->value(0).toInt() : 0;
    (*q)->finish();
    return v;
}

Result<QList<int>> Migrator::migrate(int upTo)
{
    auto current = currentVersion();
    if (!current)
        return fail(current.error());
    QList<int> applied;
    for (const Migration& m : available()) {
        if (m.version <= *current)
            continue;
        if (m.version > upTo)
            break;
        Transaction tx(m_db);
        if (auto r = tx.begin(); !r)
            return fail(r.error());
        if (m_db.isPostgres()) {
            // Serialises concurrent `migrate` runs; released at commit.
            if (auto r = m_db.execute(QStringLiteral("SELECT pg_advisory_xact_lock(4242001)")); !r)
                return fail(r.error());
        }
        auto again = m_db.exec(QStringLiteral("SELECT 1 FROM schema_migrations WHERE version = ?"), {m.version});
        if (!again)
            return fail(again.error());
        const bool done = (*again)->next();
        (*again)->finish();
        if (done)
            continue; // another instance applied it meanwhile
        if (auto r = m_db.execScript(m.sql); !r)
            return fail(Error{r.error().code, QStringLiteral("migration %1 failed: %2").arg(m.name, r.error().message)});
        if (auto r = m_db.execute(
                QStringLiteral("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
                {m.version, m.name, QDateTime::currentMSecsSinceEpoch()});
            !r)
            return fail(r.error());
        if (auto r = tx.commit(); !r)
            return fail(r.error());
        qCInfo(lcDb) << "applied migration" << m.name;
        applied.append(m.version);
    }
    return applied;
}

} // namespace ehrs::server
