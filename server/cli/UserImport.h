// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace ehrs::server {

/// `ehr-sessions-server user import FILE`: users moved over from the replaced system, with the
/// password hashes it stored (bcrypt `$2a$`/`$2b$`/`$2y$`) or our own argon2id, so that they sign
/// in with the password they already have (rehashed to argon2id at that first sign-in).
///
/// The file is CSV (RFC 4180: commas, double quotes around fields that hold commas, quotes or
/// line breaks, `""` for a quote inside; UTF-8, an optional byte-order mark, LF or CRLF) with a
/// header naming its columns: `email`, `name` and `password_hash` are required, `role` (`user` or
/// `admin`, default `user`) and `groups` (names separated by `;`, `,` or spaces) optional; any
/// other column is refused, so that a misspelt one is not dropped silently.
struct ImportedUser
{
    int line = 0; // where its record starts, 1-based, the header being line 1
    QString email;
    QString name;
    QByteArray passwordHash;
    QString role;
    QStringList groups;
};

struct ImportProblem
{
    int line = 0;
    QString message; // never the hash itself
};

struct ImportPlan
{
    QList<ImportedUser> users;
    QList<ImportProblem> problems; // empty: the whole file can be imported
};

/// Parses and checks the file's text: every record, so that one run names every bad line.
/// Duplicates within the file are problems; users that already exist are checked by the caller.
ImportPlan parseUserImport(const QByteArray& csv);

} // namespace ehrs::server
