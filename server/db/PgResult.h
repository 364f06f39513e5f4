// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <memory>

struct pg_result;

namespace ehrs::server {

/// The rows of one statement's result, in text format, owning libpq's PGresult. Cheap to move;
/// values are views into the result and live as long as it does.
class PgResult
{
public:
    PgResult() = default;
    explicit PgResult(pg_result* result);

    int rows() const;
    int columns() const;
    /// Rows changed by INSERT/UPDATE/DELETE (0 for other statements).
    int affectedRows() const;

    bool isNull(int row, int column) const;
    QByteArrayView value(int row, int column) const;
    QString text(int row, int column) const { return QString::fromUtf8(value(row, column)); }
    qint64 toLongLong(int row, int column) const;
    bool toBool(int row, int column) const; // PostgreSQL's 't'/'f'
    /// The index of a column by name, or -1.
    int column(const char* name) const;

private:
    struct Free
    {
        void operator()(pg_result* r) const;
    };
    std::unique_ptr<pg_result, Free> m_result;
};

} // namespace ehrs::server
