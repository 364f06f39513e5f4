// SPDX-License-Identifier: Apache-2.0
#include "UserImport.h"

#include "auth/PasswordHasher.h"
#include "auth/UserStore.h"

#include <QHash>
#include <QSet>

namespace ehrs::server {
namespace {
struct Record
{
    int line = 0;
    QStringList fields;
};

/// RFC 4180 records, each with the line it starts on; an unterminated quote is a problem.
QList<Record> splitRecords(const QString& text, QList<ImportProblem>& problems)
{
    QList<Record> out;
    Record current;
    QString field;
    bool quoted = false;
    bool fieldWasQuoted = false;
    int line = 1;
    current.line = 1;
    auto endField = [&] {
        current.fields << field;
        field.clear();
        fieldWasQuoted = false;
    };
    auto endRecord = [&](int nextLine) {
        endField();
        // A blank line is no record.
        if (!(current.fields.size() == 1 && current.fields.first().isEmpty()))
            out << current;
        current = Record{};
        current.line = nextLine;
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == u'"') {
                if (i + 1 < text.size() && text.at(i + 1) == u'"') {
                    field += u'"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                if (c == u'\n')
                    ++line;
                field += c;
            }
            continue;
        }
        if (c == u'"' && field.isEmpty() && !fieldWasQuoted) {
            quoted = true;
            fieldWasQuoted = true;
        } else if (c == u',') {
            endField();
        } else if (c == u'\r' && i + 1 < text.size() && text.at(i + 1) == u'\n') {
            continue; // CRLF: the LF ends the record
        } else if (c == u'\n') {
            ++line;
            endRecord(line);
        } else {
            field += c;
        }
    }
    if (quoted) {
        problems << ImportProblem{current.line,
                                  QStringLiteral("a quoted field is not closed before the end of the file")};
        return out;
    }
    if (!field.isEmpty() || !current.fields.isEmpty())
        endRecord(line);
    return out;
}
} // namespace

ImportPlan parseUserImport(const QByteArray& csv)
{
    ImportPlan plan;
    QByteArray bytes = csv;
    if (bytes.startsWith("\xEF\xBB\xBF"))
        bytes.remove(0, 3);
    const QString text = QString::fromUtf8(bytes);
    if (text.contains(QChar::ReplacementCharacter)) {
        plan.problems << ImportProblem{0, QStringLiteral("the file is not UTF-8 text")};
        return plan;
    }
    const QList<Record> records = splitRecords(text, plan.problems);
    if (records.isEmpty()) {
        if (plan.problems.isEmpty())
            plan.problems << ImportProblem{1, QStringLiteral("the file is empty: it needs a header line "
                                                             "(email,name,password_hash[,role][,groups])")};
        return plan;
    }

    // The header: known columns only, the required ones present, none twice.
    const QStringList known{QStringLiteral("email"), QStringLiteral("name"), QStringLiteral("password_hash"),
                            QStringLiteral("role"), QStringLiteral("groups")};
    QHash<QString, int> column;
    const Record& header = records.first();
    for (int i = 0; i < header.fields.size(); ++i) {
        const QString name = header.fields.at(i).trimmed().toLower();
        if (!known.contains(name))
            plan.problems << ImportProblem{header.line,
                                           QStringLiteral("unknown column \"%1\" (known: %2)")
                                               .arg(name.left(40), known.join(QStringLiteral(", ")))};
        else if (column.contains(name))
            plan.problems << ImportProblem{header.line,
                                           QStringLiteral("column \"%1\" appears twice").arg(name)};
        else
            column.insert(name, i);
    }
    for (const char* required : {"email", "name", "password_hash"}) {
        if (!column.contains(QLatin1String(required)))
            plan.problems << ImportProblem{
                header.line, QStringLiteral("the header has no \"%1\" column").arg(QLatin1String(required))};
    }
    if (!plan.problems.isEmpty())
        return plan;

    QHash<QString, int> seen; // normalised email -> line
    for (qsizetype r = 1; r < records.size(); ++r) {
        const Record& rec = records.at(r);
        if (rec.fields.size() != header.fields.size()) {
            const bool unquotedArgon2 = rec.fields.size() > header.fields.size() &&
                                        rec.fields.join(u',').contains(QStringLiteral("$argon2"));
            plan.problems << ImportProblem{
                rec.line, QStringLiteral("%1 fields where the header has %2%3")
                              .arg(rec.fields.size())
                              .arg(header.fields.size())
                              .arg(unquotedArgon2 ? QStringLiteral(" (an argon2id hash holds commas: "
                                                                   "put it in double quotes)")
                                                  : QString())};
            continue;
        }
        auto value = [&](const char* name) {
            const auto it = column.constFind(QLatin1String(name));
            return it == column.constEnd() ? QString() : rec.fields.at(*it).trimmed();
        };
        ImportedUser u;
        u.line = rec.line;
        u.email = UserStore::normalizeEmail(value("email"));
        u.name = value("name");
        u.passwordHash = value("password_hash").toLatin1();
        u.role = value("role").toLower();
        if (u.role.isEmpty())
            u.role = QStringLiteral("user");
        QStringList lineProblems;
        if (auto e = UserStore::checkEmail(u.email); !e)
            lineProblems << e.error().message;
        else if (seen.contains(u.email))
            lineProblems << QStringLiteral("%1 is already on line %2").arg(u.email).arg(seen.value(u.email));
        if (u.name.size() > 200)
            lineProblems << QStringLiteral("the name is longer than 200 characters");
        if (u.passwordHash.isEmpty())
            lineProblems << QStringLiteral("no password hash");
        else if (PasswordHasher::formatOf(u.passwordHash) == PasswordHasher::Format::Unknown)
            lineProblems << QStringLiteral(
                "unknown password hash format (expected bcrypt $2a$, $2b$ or $2y$, or "
                "argon2id)");
        if (u.role != u"user" && u.role != u"admin")
            lineProblems << QStringLiteral("role \"%1\" is neither user nor admin").arg(u.role.left(40));
        auto groups = UserStore::parseGroups(value("groups"));
        if (!groups)
            lineProblems << groups.error().message;
        else
            u.groups = *groups;
        if (!lineProblems.isEmpty()) {
            for (const QString& p : lineProblems)
                plan.problems << ImportProblem{rec.line, p};
            continue;
        }
        seen.insert(u.email, rec.line);
        plan.users << u;
    }
    if (plan.users.isEmpty() && plan.problems.isEmpty())
        plan.problems << ImportProblem{header.line, QStringLiteral("the file has a header but no users")};
    return plan;
}

} // namespace ehrs::server
