// SPDX-License-Identifier: Apache-2.0
#include "Metrics.h"

#include <QString>
#include <charconv>
#include <cmath>

namespace ehrs::server {

namespace {

bool isLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isValid(QByteArrayView name, bool allowColon)
{
    if (name.isEmpty() || isDigit(name.front()))
        return false;
    for (const char c : name) {
        if (!isLetter(c) && !isDigit(c) && !(allowColon && c == ':'))
            return false;
    }
    return true;
}

QByteArray sanitize(QByteArrayView name, bool allowColon)
{
    QByteArray out;
    out.reserve(name.size() + 1);
    if (name.isEmpty() || isDigit(name.front()))
        out += '_';
    for (const char c : name)
        out += (isLetter(c) || isDigit(c) || (allowColon && c == ':')) ? c : '_';
    return out;
}

QByteArray escape(QByteArrayView text, bool quote)
{
    if (!text.isValidUtf8())
        return escape(QString::fromUtf8(text).toUtf8(), quote);
    QByteArray out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

} // namespace

QByteArrayView Metrics::typeName(Type type)
{
    switch (type) {
    case Type::Counter:
        return "counter";
    case Type::Gauge:
        return "gauge";
    case Type::Histogram:
        return "histogram";
    }
    return "untyped";
}

bool Metrics::isValidName(QByteArrayView name)
{
    return isValid(name, true);
}

bool Metrics::isValidLabelName(QByteArrayView name)
{
    return isValid(name, false);
}

QByteArray Metrics::sanitizeName(QByteArrayView name)
{
    return sanitize(name, true);
}

QByteArray Metrics::sanitizeLabelName(QByteArrayView name)
{
    return sanitize(name, false);
}

QByteArray Metrics::escapeLabelValue(QByteArrayView value)
{
    return escape(value, true);
}

QByteArray Metrics::escapeHelp(QByteArrayView help)
{
    return escape(help, false);
}

QByteArray Metrics::formatValue(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    // Every integer up to 2^53 is exact in a double: print it as one, without "e+06".
    constexpr double maxExactInteger = 9007199254740992.0;
    char buffer[32];
    std::to_chars_result result;
    if (value == std::trunc(value) && std::fabs(value) <= maxExactInteger)
        result = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value));
    else
        result = std::to_chars(buffer, buffer + sizeof buffer, value,
                               std::chars_format::general); // shortest round trip
    Q_ASSERT(result.ec == std::errc());
    return QByteArray(buffer, result.ptr - buffer);
}

QByteArray Metrics::formatCount(std::uint64_t value)
{
    return QByteArray::number(static_cast<qulonglong>(value));
}

} // namespace ehrs::server
