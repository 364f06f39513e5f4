// SPDX-License-Identifier: Apache-2.0
#pragma once

// A strict reader of the Prometheus text exposition format 0.0.4, for tests that check what
// /metrics and MetricsRegistry::render() produce.

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QPair>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ehrs::test::exposition {

using LabelMap = QMap<QByteArray, QByteArray>;
using SeriesKey = QList<QPair<QByteArray, QByteArray>>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Sample
{
    QByteArray name;
    LabelMap labels;
    double value = 0;
};

// What a strict reader of the text exposition format 0.0.4 gets out of render().
struct Exposition
{
    QByteArray error; // empty when every line follows the grammar and the rules below
    QList<QByteArray> families;
    QMap<QByteArray, QByteArray> types;
    QMap<QByteArray, QByteArray> help; // unescaped
    QList<Sample> samples;

    // NaN when there is no such sample.
    double value(const QByteArray& name, const LabelMap& labels = {}) const
    {
        for (const Sample& s : samples) {
            if (s.name == name && s.labels == labels)
                return s.value;
        }
        return kNaN;
    }
    qsizetype count(const QByteArray& name) const
    {
        return std::count_if(samples.begin(), samples.end(), [&](const Sample& s) { return s.name == name; });
    }
};

inline LabelMap withLabel(LabelMap labels, const QByteArray& name, const QByteArray& value)
{
    labels.insert(name, value);
    return labels;
}

inline bool isNameChar(char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

inline QByteArray takeName(QByteArrayView line, qsizetype& pos, bool colon)
{
    const qsizetype start = pos;
    while (pos < line.size() && isNameChar(line[pos], pos == start, colon))
        ++pos;
    return line.sliced(start, pos - start).toByteArray();
}

// Label values (`quoted`: up to the closing quote, which is consumed) and HELP text (to the end).
inline bool takeEscaped(QByteArrayView line, qsizetype& pos, bool quoted, QByteArray* out)
{
    while (pos < line.size()) {
        const char c = line[pos++];
        if (quoted && c == '"')
            return true;
        if (c != '\\') {
            *out += c;
            continue;
        }
        if (pos == line.size())
            return false;
        const char escaped = line[pos++];
        if (escaped == '\\')
            *out += '\\';
        else if (escaped == 'n')
            *out += '\n';
        else if (quoted && escaped == '"')
            *out += '"';
        else
            return false;
    }
    return !quoted;
}

// NaN | [+-]Inf | -?digits(.digits)?([eE][+-]?digits)?
inline bool parseNumber(QByteArrayView text, double* value)
{
    if (text == "NaN" || text == "+Inf" || text == "-Inf") {
        *value = text == "NaN" ? kNaN : text == "+Inf" ? kInf : -kInf;
        return true;
    }
    qsizetype pos = 0;
    const auto digits = [&] {
        const qsizetype start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
            ++pos;
        return pos > start;
    };
    if (pos < text.size() && text[pos] == '-')
        ++pos;
    if (!digits())
        return false;
    if (pos < text.size() && text[pos] == '.' && (++pos, !digits()))
        return false;
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
            ++pos;
        if (!digits())
            return false;
    }
    bool ok = false;
    *value = text.toByteArray().toDouble(&ok);
    return ok && pos == text.size();
}

// Rules on top of the line grammar: a family's HELP (optional) then TYPE come once, before its
// samples; families are contiguous and sorted by name; a family's series are sorted by their
// labels (without `le`) and never repeated; histogram series are their buckets with strictly
// increasing `le` and non-decreasing integral counts ending with +Inf, one `_sum` and one `_count`
// equal to the +Inf bucket (before or after the buckets).
inline Exposition parseExposition(const QByteArray& text)
{
    Exposition e;
    QByteArray current;
    bool hasHelp = false, hasType = false, hasSamples = false;
    SeriesKey lastKey;
    QSet<QByteArray> sampleIds;
    const auto fail = [&e](qsizetype lineNo, const char* why, QByteArrayView line) {
        e.error = "line " + QByteArray::number(lineNo) + ": " + why + ": " + line.toByteArray();
        return e;
    };
    if (!text.isEmpty() && !text.endsWith('\n'))
        return fail(0, "no final newline", {});
    QList<QByteArray> lines = text.split('\n');
    lines.removeLast();

    for (qsizetype n = 0; n < lines.size(); ++n) {
        const QByteArrayView line = lines[n];
        const qsizetype lineNo = n + 1;
        if (line.startsWith('#')) {
            const bool isHelp = line.startsWith("# HELP ");
            if (!isHelp && !line.startsWith("# TYPE "))
                return fail(lineNo, "not a HELP or TYPE comment", line);
            qsizetype pos = 7;
            const QByteArray name = takeName(line, pos, true);
            if (name.isEmpty() || pos == line.size() || line[pos++] != ' ')
                return fail(lineNo, "bad metric name", line);
            if (name != current) {
                if (e.types.contains(name) || e.help.contains(name))
                    return fail(lineNo, "family not contiguous", line);
                if (!current.isEmpty() && name <= current)
                    return fail(lineNo, "families not sorted by name", line);
                if (!current.isEmpty() && !hasType)
                    return fail(lineNo, "previous family has no TYPE", line);
                current = name;
                e.families += name;
                hasHelp = hasType = hasSamples = false;
                lastKey.clear();
            }
            if (isHelp) {
                QByteArray help;
                if (hasHelp || hasType || !takeEscaped(line, pos, false, &help))
                    return fail(lineNo, "HELP repeated, late or badly escaped", line);
                e.help.insert(name, help);
                hasHelp = true;
            } else {
                const QByteArray type = line.sliced(pos).toByteArray();
                if (hasType || (type != "counter" && type != "gauge" && type != "histogram"))
                    return fail(lineNo, "TYPE repeated or unknown", line);
                e.types.insert(name, type);
                hasType = true;
            }
            continue;
        }

        Sample sample;
        qsizetype pos = 0;
        sample.name = takeName(line, pos, true);
        if (sample.name.isEmpty())
            return fail(lineNo, "bad metric name", line);
        if (current.isEmpty() || !hasType)
            return fail(lineNo, "sample before its family's TYPE", line);
        const QByteArray type = e.types.value(current);
        QByteArray suffix;
        if (type == "histogram") {
            for (const char* s : {"_bucket", "_sum", "_count"}) {
                if (sample.name == current + s)
                    suffix = s;
            }
            if (suffix.isEmpty())
                return fail(lineNo, "histogram sample outside _bucket/_sum/_count", line);
        } else if (sample.name != current) {
            return fail(lineNo, "sample outside its family", line);
        }
        if (pos < line.size() && line[pos] == '{') {
            ++pos;
            do {
                const QByteArray label = takeName(line, pos, false);
                if (label.isEmpty() || line.sliced(pos).size() < 2 || line[pos] != '=' ||
                    line[pos + 1] != '"')
                    return fail(lineNo, "bad label", line);
                pos += 2;
                QByteArray value;
                if (!takeEscaped(line, pos, true, &value) || sample.labels.contains(label))
                    return fail(lineNo, "bad or repeated label value", line);
                sample.labels.insert(label, value);
                if (pos == line.size() || (line[pos] != ',' && line[pos] != '}'))
                    return fail(lineNo, "bad label list", line);
            } while (line[pos++] == ',');
        }
        if (pos == line.size() || line[pos++] != ' ' || !parseNumber(line.sliced(pos), &sample.value))
            return fail(lineNo, "bad value", line);
        if (type == "counter" && sample.value < 0)
            return fail(lineNo, "negative counter", line);
        if ((suffix == "_bucket") != sample.labels.contains("le"))
            return fail(lineNo, "le on a sample other than a bucket, or a bucket without le", line);

        SeriesKey key;
        for (auto it = sample.labels.cbegin(); it != sample.labels.cend(); ++it) {
            if (it.key() != "le" || type != "histogram")
                key.append({it.key(), it.value()});
        }
        if (hasSamples && key != lastKey && !(lastKey < key))
            return fail(lineNo, "series not sorted by labels, or split", line);
        lastKey = key;
        hasSamples = true;
        QByteArray id = sample.name;
        for (auto it = sample.labels.cbegin(); it != sample.labels.cend(); ++it)
            id += '\0' + it.key() + '\0' + it.value();
        if (sampleIds.contains(id))
            return fail(lineNo, "duplicate sample", line);
        sampleIds.insert(id);
        e.samples += sample;
    }
    if (!current.isEmpty() && !hasType)
        return fail(lines.size(), "last family has no TYPE", {});

    // Histogram series: samples of one series are contiguous (checked above).
    for (qsizetype i = 0; i < e.samples.size();) {
        const Sample& first = e.samples[i];
        const auto histogramOf = [&e](const QByteArray& sampleName) {
            for (const QByteArray& f : e.families) {
                if (e.types.value(f) == "histogram" &&
                    (sampleName == f + "_bucket" || sampleName == f + "_sum" || sampleName == f + "_count"))
                    return f;
            }
            return QByteArray();
        };
        const QByteArray name = histogramOf(first.name);
        if (name.isEmpty()) {
            ++i;
            continue;
        }
        LabelMap key = first.labels;
        key.remove("le");
        double previousLe = -kInf, previousCount = 0, lastCount = -1, count = -1;
        bool seenInf = false, seenSum = false, seenCount = false;
        for (; i < e.samples.size(); ++i) {
            const Sample& s = e.samples[i];
            LabelMap k = s.labels;
            k.remove("le");
            if (k != key || histogramOf(s.name) != name)
                break;
            if (s.name == name + "_bucket") {
                double le = 0;
                if (seenInf || !parseNumber(s.labels.value("le"), &le) || std::isnan(le) || le <= previousLe)
                    return fail(0, "histogram buckets out of order", s.name);
                if (s.value != std::floor(s.value) || s.value < previousCount)
                    return fail(0, "histogram bucket counts not monotonic integers", s.name);
                previousLe = le;
                previousCount = lastCount = s.value;
                seenInf = std::isinf(le);
            } else if (s.name == name + "_sum") {
                if (seenSum)
                    return fail(0, "histogram _sum twice", s.name);
                seenSum = true;
            } else {
                if (seenCount)
                    return fail(0, "histogram _count twice", s.name);
                seenCount = true;
                count = s.value;
            }
        }
        // The format orders the buckets but not _sum and _count around them (prometheus-cpp
        // writes _count and _sum first).
        if (!seenInf)
            return fail(0, "histogram series without a +Inf bucket", name);
        if (!seenSum)
            return fail(0, "histogram series without _sum", name);
        if (!seenCount || count != lastCount)
            return fail(0, "histogram _count missing or not equal to the +Inf bucket", name);
    }
    return e;
}

} // namespace ehrs::test::exposition
