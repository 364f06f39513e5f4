// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace ehrs::server {

/// A postgres:// (or postgresql://) DATABASE_URL, including libpq's multi-host form
/// `postgres://user:pass@db1:5432,db2:5433/dbname?target_session_attrs=read-write`
/// (IPv6 hosts in brackets). Both PostgreSQL clients of the server use it: the request path's
/// libpq connections (PgConnection) take the URL itself, Qt's QPSQL driver (Database) takes the
/// key/value pieces, since it cannot name several hosts in a URL.
struct PgUrl
{
    QStringList hosts; // at least one
    QList<int> ports;  // one per host (5432 where the URL gives none)
    QString user;
    QString password;
    QString dbname;
    QList<QPair<QString, QString>> params; // query parameters, decoded, in order

    /// Errors name DATABASE_URL and what is wrong, never the password.
    [[nodiscard]] static Result<PgUrl> parse(const QString& url);

    bool multiHost() const { return hosts.size() > 1; }
    QString param(const QString& key) const;
    /// "db1:5432,db2:5433": for logs and /readyz (no credentials).
    QString hostList() const;
};

} // namespace ehrs::server
