// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QStringView>
#include <string_view>
#include <vector>

namespace ehrs::server {

/// Writes compact JSON straight into a byte buffer, for hot responses where building a
/// nlohmann::json tree first (a std::map and a string per member) costs more than the rest of
/// the request. The output is what nlohmann's dump() writes for the same members in the same
/// order: strings as UTF-8 with `"`, `\` and control characters escaped (`\u00XX` in lower-case
/// hex), no spaces. Keys are trusted literals (no escaping).
class JsonWriter
{
public:
    explicit JsonWriter(qsizetype reserve = 1024) { m_out.reserve(reserve); }

    void beginObject() { open('{'); }
    void endObject() { close('}'); }
    void beginArray() { open('['); }
    void endArray() { close(']'); }
    void key(std::string_view name);

    void value(QStringView text);
    void value(std::string_view utf8);
    void value(const char* utf8) { value(std::string_view(utf8)); }
    void value(qint64 number);
    void value(bool flag);

    /// The document; the writer is empty afterwards.
    QByteArray take() { return std::move(m_out); }

private:
    void open(char c);
    void close(char c);
    void beforeValue();
    void escaped(std::string_view utf8);

    QByteArray m_out;
    std::vector<bool> m_hasMember; // per open container: a member was written (comma needed)
    bool m_afterKey = false;
};

} // namespace ehrs::server
