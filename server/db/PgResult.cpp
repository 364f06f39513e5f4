// SPDX-License-Identifier: Apache-2.0
#include "PgResult.h"

#include <charconv>
#include <libpq-fe.h>

namespace ehrs::server {

PgResult::PgResult(pg_result* result) : m_result(result) {}

void PgResult::Free::operator()(pg_result* r) const
{
    PQclear(r);
}

int PgResult::rows() const
{
    return m_result ? PQntuples(m_result.get()) : 0;
}

int PgResult::columns() const
{
    return m_result ? PQnfields(m_result.get()) : 0;
}

int PgResult::affectedRows() const
{
    if (!m_result)
        return 0;
    const char* n = PQcmdTuples(m_result.get());
    int out = 0;
    std::from_chars(n, n + qstrlen(n), out);
    return out;
}

bool PgResult::isNull(int row, int column) const
{
    return !m_result || row >= rows() || column >= columns() || PQgetisnull(m_result.get(), row, column);
}

QByteArrayView PgResult::value(int row, int column) const
{
    if (isNull(row, column))
        return {};
    return QByteArrayView(PQgetvalue(m_result.get(), row, column), PQgetlength(m_result.get(), row, column));
}

qint64 PgResult::toLongLong(int row, int column) const
{
    const QByteArrayView v = value(row, column);
    qint64 out = 0;
    std::from_chars(v.data(), v.data() + v.size(), out);
    return out;
}

bool PgResult::toBool(int row, int column) const
{
    const QByteArrayView v = value(row, column);
    return !v.isEmpty() && v[0] == 't';
}

int PgResult::column(const char* name) const
{
    return m_result ? PQfnumber(m_result.get(), name) : -1;
}

} // namespace ehrs::server
