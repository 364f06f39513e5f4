// SPDX-License-Identifier: Apache-2.0
#include "JsonWriter.h"

namespace ehrs::server {

void JsonWriter::beforeValue()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_hasMember.empty()) {
        if (m_hasMember.back())
            m_out += ',';
        m_hasMember.back() = true;
    }
}

void JsonWriter::open(char c)
{
    beforeValue();
    m_out += c;
    m_hasMember.push_back(false);
}

void JsonWriter::close(char c)
{
    m_hasMember.pop_back();
    m_out += c;
}

void JsonWriter::key(std::string_view name)
{
    if (m_hasMember.back())
        m_out += ',';
    m_hasMember.back() = true;
    m_out += '"';
    m_out.append(name.data(), qsizetype(name.size()));
    m_out += "\":";
    m_afterKey = true;
}

void JsonWriter::escaped(std::string_view utf8)
{
    static constexpr char hex[] = "0123456789abcdef";
    m_out += '"';
    qsizetype plainFrom = 0;
    const auto flush = [&](qsizetype upTo) {
        if (upTo > plainFrom)
            m_out.append(utf8.data() + plainFrom, upTo - plainFrom);
    };
    for (qsizetype i = 0; i < qsizetype(utf8.size()); ++i) {
        const auto c = static_cast<unsigned char>(utf8[size_t(i)]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        flush(i);
        plainFrom = i + 1;
        switch (c) {
        case '"':
            m_out += "\\\"";
            break;
        case '\\':
            m_out += "\\\\";
            break;
        case '\b':
            m_out += "\\b";
            break;
        case '\f':
            m_out += "\\f";
            break;
        case '\n':
            m_out += "\\n";
            break;
        case '\r':
            m_out += "\\r";
            break;
        case '\t':
            m_out += "\\t";
            break;
        default:
            m_out += "\\u00";
            m_out += hex[c >> 4];
            m_out += hex[c & 0xf];
        }
    }
    flush(qsizetype(utf8.size()));
    m_out += '"';
}

void JsonWriter::value(std::string_view utf8)
{
    beforeValue();
    escaped(utf8);
}

void JsonWriter::value(QStringView text)
{
    beforeValue();
    // Most values are plain ASCII: copied as they are, without a UTF-8 conversion buffer.
    bool plain = true;
    for (QChar ch : text) {
        const char16_t c = ch.unicode();
        if (c >= 0x80 || c < 0x20 || c == u'"' || c == u'\\') {
            plain = false;
            break;
        }
    }
    if (plain) {
        const qsizetype start = m_out.size();
        m_out.resize(start + text.size() + 2);
        char* p = m_out.data() + start;
        *p++ = '"';
        for (QChar ch : text)
            *p++ = char(ch.unicode());
        *p = '"';
        return;
    }
    const QByteArray utf8 = text.toUtf8();
    escaped(std::string_view(utf8.constData(), size_t(utf8.size())));
}

void JsonWriter::value(qint64 number)
{
    beforeValue();
    m_out += QByteArray::number(number);
}

void JsonWriter::value(bool flag)
{
    beforeValue();
    m_out += flag ? "true" : "false";
}

} // namespace ehrs::server
