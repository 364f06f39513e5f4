// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Database.h"

#include <limits>

namespace ehrs::server {

/// Applies the numbered SQL files of migrations/<postgres|sqlite>/ (compiled into the binary) that
/// `schema_migrations` does not list yet, each in its own transaction, in order. Safe to run from
/// several instances at once (PostgreSQL advisory lock; SQLite write lock).
class Migrator
{
public:
    explicit Migrator(Database& db) : m_db(db) {}
    /// Returns the versions applied by this call (empty when the schema was current). `upTo`
    /// stops after that version (tests of a migration's data conversion).
    [[nodiscard]] Result<QList<int>> migrate(int upTo = std::numeric_limits<int>::max());
    /// Highest version known to this binary.
    int latestVersion() const;
    /// Highest version recorded in the database (0 for an empty one).
    [[nodiscard]] Result<int> currentVersion();

private:
    struct Migration
    {
        int version;
        QString name;
        QString sql;
    };
    QList<Migration> available() const;

    Database& m_db;
};

} // namespace ehrs::server
