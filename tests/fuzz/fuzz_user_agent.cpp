// SPDX-License-Identifier: Apache-2.0
// ehrs::server::parseUserAgent on arbitrary headers, read as UTF-8 (how the server decodes them) and as
// raw UTF-16 (lone surrogates, every BMP character), checking the contract of UserAgentParser.h
// and the bounds that DeviceInfo has everywhere else (deviceInfoFromJson rejects more).

#include "FuzzSupport.h"

#include "DeviceInfo.h"
#include "sessions/UserAgentParser.h"

#include <QChar>
#include <QString>

using namespace ehrs;
using ehrs::server::parseUserAgent;

namespace {
constexpr qsizetype kLookedAt = 1024; // UserAgentParser.h: no more than the first 1024 characters

// A character that the parser promises never to copy into a field.
bool unsafe(const QString& s, qsizetype i)
{
    const QChar c = s[i];
    if (c.isHighSurrogate())
        return i + 1 >= s.size() || !s[i + 1].isLowSurrogate();
    if (c.isLowSurrogate())
        return i == 0 || !s[i - 1].isHighSurrogate();
    const QChar::Category category = c.category();
    return category == QChar::Other_Control || category == QChar::Other_Format;
}

void checkField(const QString& value, const char* name, const QString& input)
{
    const QString detail = QStringLiteral("%1 = \"%2\" (%3 characters) for \"%4\"")
                               .arg(QLatin1String(name), fuzz::shown(value))
                               .arg(value.size())
                               .arg(fuzz::shown(input));
    FUZZ_CHECK(value.size() <= DeviceInfo::kMaxFieldLength, QStringLiteral("field too long: ") + detail);
    for (qsizetype i = 0; i < value.size(); ++i)
        FUZZ_CHECK(!unsafe(value, i), QStringLiteral("control/format character or lone surrogate copied: ") + detail);
}

void check(const QString& userAgent)
{
    const DeviceInfo d = parseUserAgent(userAgent);
    FUZZ_CHECK(DeviceInfo::isKnownType(d.type), QStringLiteral("type \"%1\" for \"%2\"").arg(fuzz::shown(d.type), fuzz::shown(userAgent)));
    checkField(d.name, "name", userAgent);
    checkField(d.os, "os", userAgent);
    checkField(d.browser, "browser", userAgent);
    // The result depends on the first 1024 characters only, and on nothing else.
    FUZZ_CHECK(parseUserAgent(userAgent) == d, QStringLiteral("not deterministic"));
    if (userAgent.size() > kLookedAt)
        FUZZ_CHECK(parseUserAgent(QStringView(userAgent).first(kLookedAt)) == d,
                   QStringLiteral("characters past %1 changed the result").arg(kLookedAt));
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    fuzz::quietQtMessages();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    check(QString::fromUtf8(reinterpret_cast<const char*>(data), qsizetype(size)));
    QString utf16(qsizetype(size / 2), Qt::Uninitialized);
    for (size_t i = 0; i + 1 < size; i += 2)
        utf16[qsizetype(i / 2)] = QChar(char16_t(data[i] | (data[i + 1] << 8)));
    check(utf16);
    return 0;
}
