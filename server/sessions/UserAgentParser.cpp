// SPDX-License-Identifier: Apache-2.0
#include "UserAgentParser.h"

#include "DeviceModels.h"

#include <QChar>
#include <QString>
#include <algorithm>

namespace ehrs::server {

namespace {

// Real User-Agent strings stay well under this; anything past it is noise or an attack.
constexpr qsizetype kMaxInput = 1024;
// Android model names are short ("Pixel 7", "SM-S911B"); a longer "model" is not one.
constexpr qsizetype kMaxModelLength = 64;
constexpr qsizetype kMaxProductNameLength = 64;

bool isDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

bool isAsciiLetter(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}

bool isAsciiAlnum(QChar c)
{
    return isAsciiLetter(c) || isDigit(c);
}

// Separates the words of a User-Agent: products ("Chrome/120.0") and comment elements.
bool isWordSeparator(QChar c)
{
    return c == u' ' || c == u'\t' || c == u';' || c == u'(' || c == u')' || c == u',';
}

// Where `token` occurs in `s` at the start of a word (not preceded by a letter or digit), so that
// "Chrome/" does not match inside "HeadlessChrome/"; -1 if it does not. Each iteration moves
// forward, so the cost stays linear in the (bounded) input.
qsizetype findToken(QStringView s, QStringView token)
{
    qsizetype from = 0;
    while (from < s.size()) {
        const qsizetype at = s.indexOf(token, from);
        if (at < 0)
            return -1;
        if (at == 0 || !isAsciiAlnum(s[at - 1]))
            return at;
        from = at + 1;
    }
    return -1;
}

bool hasToken(QStringView s, QStringView token)
{
    return findToken(s, token) >= 0;
}

// The version number starting at `pos` ("17_1", "120.0.6099.119"), without trailing separators.
QStringView versionAt(QStringView s, qsizetype pos)
{
    if (pos < 0 || pos >= s.size() || !isDigit(s[pos]))
        return {};
    qsizetype end = pos;
    while (end < s.size() && (isDigit(s[end]) || s[end] == u'.' || s[end] == u'_'))
        ++end;
    QStringView version = s.sliced(pos, end - pos);
    while (!version.isEmpty() && !isDigit(version.back()))
        version.chop(1);
    return version;
}

// The version right after `prefix` ("Chrome/", "Android "), or empty when either is missing.
QStringView versionAfter(QStringView s, QStringView prefix)
{
    const qsizetype at = findToken(s, prefix);
    return at < 0 ? QStringView{} : versionAt(s, at + prefix.size());
}

// The first `parts` components of a version, dot-separated: ("10_15_7", 3) -> "10.15.7",
// ("120.0.6099.119", 1) -> "120".
QString versionPrefix(QStringView version, int parts)
{
    QString out;
    int separators = 0;
    for (const QChar c : version) {
        if (c == u'.' || c == u'_') {
            if (++separators >= parts)
                break;
            out += u'.';
        } else {
            out += c;
        }
    }
    return out;
}

QString withVersion(QStringView name, const QString& version)
{
    if (version.isEmpty())
        return name.toString();
    return name.toString() + u' ' + version;
}

// Copies text taken from the header so that it is safe to show: no control or formatting
// characters (NUL, bidi overrides), no lone surrogates, whitespace collapsed.
QString sanitized(QStringView text)
{
    QString out;
    out.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c.isHighSurrogate() && i + 1 < text.size() && text[i + 1].isLowSurrogate()) {
            const char32_t ucs = QChar::surrogateToUcs4(c, text[i + 1]);
            const QChar::Category category = QChar::category(ucs);
            if (category != QChar::Other_Format && category != QChar::Other_NotAssigned) {
                out += c;
                out += text[i + 1];
            }
            ++i;
            continue;
        }
        if (c.isSurrogate())
            continue;
        if (c.isSpace()) {
            out += u' ';
            continue;
        }
        const QChar::Category category = c.category();
        if (category == QChar::Other_Control || category == QChar::Other_Format ||
            category == QChar::Other_NotAssigned)
            continue;
        out += c;
    }
    return out.simplified();
}

// A product name such as "curl", "python-requests", "EHR-Sessions-Agent".
bool isProductName(QStringView name)
{
    if (name.isEmpty() || name.size() > kMaxProductNameLength || !isAsciiLetter(name.front()))
        return false;
    for (const QChar c : name) {
        if (!isAsciiAlnum(c) && c != u'-' && c != u'_' && c != u'.' && c != u'+')
            return false;
    }
    return true;
}

struct Product
{
    QStringView name;
    QStringView version; // may contain letters ("0.1.0-rc1"); empty when absent
};

// Splits "name/version" into a Product; the name is empty when `word` is not one.
Product productOf(QStringView word)
{
    const qsizetype slash = word.indexOf(u'/');
    if (slash <= 0)
        return {};
    const QStringView name = word.first(slash);
    if (!isProductName(name))
        return {};
    return {name, word.sliced(slash + 1)};
}

Product firstProduct(QStringView s)
{
    qsizetype end = 0;
    while (end < s.size() && !isWordSeparator(s[end]))
        ++end;
    return productOf(s.first(end));
}

bool looksLikeBot(QStringView name)
{
    return name.endsWith(u"bot", Qt::CaseInsensitive) || name.contains(u"bot-", Qt::CaseInsensitive) ||
           name.contains(u"spider", Qt::CaseInsensitive) || name.contains(u"crawler", Qt::CaseInsensitive) ||
           name.compare(u"facebookexternalhit", Qt::CaseInsensitive) == 0;
}

// "Googlebot 2.1" when some product of the header is a crawler ("compatible; Googlebot/2.1;"),
// else empty. Crawlers often copy a browser's header, so this is checked first.
QString detectBot(QStringView s)
{
    qsizetype i = 0;
    while (i < s.size()) {
        while (i < s.size() && isWordSeparator(s[i]))
            ++i;
        const qsizetype start = i;
        while (i < s.size() && !isWordSeparator(s[i]))
            ++i;
        const Product product = productOf(s.sliced(start, i - start));
        if (!product.name.isEmpty() && looksLikeBot(product.name))
            return withVersion(product.name, versionPrefix(versionAt(product.version, 0), 2));
    }
    return {};
}

QString iosVersion(QStringView s)
{
    for (const QStringView prefix :
         {QStringView(u"iPhone OS "), QStringView(u"CPU OS "), QStringView(u"iOS ")}) {
        const QStringView version = versionAfter(s, prefix);
        if (!version.isEmpty())
            return versionPrefix(version, 3);
    }
    return {};
}

// Comment elements that sit between "Android 14;" and the model in older headers.
bool isNotAModel(QStringView element)
{
    if (element == u"U" || element == u"I" || element == u"N" || element == u"wv" || element == u"Mobile" ||
        element == u"Tablet" || element.startsWith(u"rv:"))
        return true;
    // Locales: "en", "ko-kr", "en_US".
    const bool locale = (element.size() == 2 && isAsciiLetter(element[0]) && isAsciiLetter(element[1])) ||
                        (element.size() == 5 && isAsciiLetter(element[0]) && isAsciiLetter(element[1]) &&
                         (element[2] == u'-' || element[2] == u'_') && isAsciiLetter(element[3]) &&
                         isAsciiLetter(element[4]));
    return locale;
}

// "Pixel 7" out of "Linux; Android 14; Pixel 7 Build/UQ1A.240105.004)"; empty when the header
// carries no model (Firefox) or the reduced placeholder "K" (Chrome since 110).
QString androidModel(QStringView s, qsizetype androidAt)
{
    const auto elementEnd = [s](qsizetype from) {
        while (from < s.size() && s[from] != u';' && s[from] != u')' && s[from] != u'(')
            ++from;
        return from;
    };
    qsizetype end = elementEnd(androidAt);
    for (int tries = 0; tries < 3 && end < s.size() && s[end] == u';'; ++tries) {
        const qsizetype start = end + 1;
        end = elementEnd(start);
        QStringView element = s.sliced(start, end - start).trimmed();
        if (isNotAModel(element))
            continue;
        const qsizetype build = element.indexOf(u"Build/");
        if (build >= 0)
            element = element.first(build).trimmed();
        if (element.startsWith(u"SAMSUNG "))
            element = element.sliced(8).trimmed();
        const QString model = sanitized(element);
        if (model.isEmpty() || model == u"K" || model.size() > kMaxModelLength)
            return {};
        return model;
    }
    return {};
}

QString windowsName(QStringView ntVersion)
{
    if (ntVersion == u"10.0")
        return QStringLiteral("Windows 10/11");
    if (ntVersion == u"6.3")
        return QStringLiteral("Windows 8.1");
    if (ntVersion == u"6.2")
        return QStringLiteral("Windows 8");
    if (ntVersion == u"6.1")
        return QStringLiteral("Windows 7");
    if (ntVersion == u"6.0")
        return QStringLiteral("Windows Vista");
    if (ntVersion == u"5.1" || ntVersion == u"5.2")
        return QStringLiteral("Windows XP");
    return QStringLiteral("Windows");
}

// Type, device name and OS. Order matters: iOS headers say "like Mac OS X", Android headers say
// "Linux", Windows Phone headers say "Android" and "iPhone".
DeviceInfo detectPlatform(QStringView s, bool browserLike)
{
    DeviceInfo d;
    if (hasToken(s, u"Windows Phone")) {
        d.type = QStringLiteral("mobile");
        d.name = QStringLiteral("Windows phone");
        d.os = QStringLiteral("Windows Phone");
    } else if (hasToken(s, u"iPad")) {
        d.type = QStringLiteral("tablet");
        d.name = QStringLiteral("iPad");
        d.os = withVersion(u"iPadOS", iosVersion(s));
    } else if (hasToken(s, u"iPod")) {
        d.type = QStringLiteral("mobile");
        d.name = QStringLiteral("iPod touch");
        d.os = withVersion(u"iOS", iosVersion(s));
    } else if (hasToken(s, u"iPhone")) {
        d.type = QStringLiteral("mobile");
        d.name = QStringLiteral("iPhone");
        d.os = withVersion(u"iOS", iosVersion(s));
    } else if (const qsizetype at = findToken(s, u"Android"); at >= 0) {
        qsizetype versionAtPos = at + 7; // past "Android"
        while (versionAtPos < s.size() && s[versionAtPos] == u' ')
            ++versionAtPos;
        d.os = withVersion(u"Android", versionPrefix(versionAt(s, versionAtPos), 3));
        // Browsers say "Mobile" on phones only. Native clients (Dalvik, okhttp) never do, and
        // most of them run on phones.
        const bool phone = hasToken(s, u"Mobile") || !browserLike;
        d.type = phone ? QStringLiteral("mobile") : QStringLiteral("tablet");
        d.name = androidModel(s, at);
        // "SM-S918B" means nothing to most people; "Galaxy S23 Ultra" does.
        if (const QString marketing = deviceMarketingName(d.name); !marketing.isEmpty())
            d.name = marketing;
        if (d.name.isEmpty())
            d.name = phone ? QStringLiteral("Android phone") : QStringLiteral("Android tablet");
    } else if (hasToken(s, u"CrOS")) {
        d.type = QStringLiteral("laptop");
        d.name = QStringLiteral("Chromebook");
        d.os = QStringLiteral("ChromeOS");
    } else if (const qsizetype nt = findToken(s, u"Windows NT "); nt >= 0) {
        d.type = QStringLiteral("desktop");
        d.name = QStringLiteral("Windows PC");
        d.os = windowsName(versionAt(s, nt + 11));
    } else if (hasToken(s, u"Windows")) {
        d.type = QStringLiteral("desktop");
        d.name = QStringLiteral("Windows PC");
        d.os = withVersion(u"Windows", versionPrefix(versionAfter(s, u"Windows "), 1));
    } else if (hasToken(s, u"Macintosh") || hasToken(s, u"Mac OS X") || hasToken(s, u"macOS")) {
        // iPads in desktop mode land here too: their header is a Mac's.
        d.type = QStringLiteral("desktop");
        d.name = QStringLiteral("Mac");
        QStringView version = versionAfter(s, u"Mac OS X ");
        if (version.isEmpty())
            version = versionAfter(s, u"macOS ");
        d.os = withVersion(u"macOS", versionPrefix(version, 3));
    } else if (hasToken(s, u"Linux")) {
        d.type = QStringLiteral("desktop");
        d.name = QStringLiteral("Linux PC");
        d.os = QStringLiteral("Linux");
    }
    return d;
}

struct BrowserToken
{
    QStringView token;
    QStringView name;
};

// Most specific first: Edge, Opera and Samsung Internet also say "Chrome/", Chrome says "Safari/".
constexpr BrowserToken kBrowsers[] = {
    {u"EdgiOS/", u"Edge"},
    {u"EdgA/", u"Edge"},
    {u"Edg/", u"Edge"},
    {u"Edge/", u"Edge"},
    {u"OPR/", u"Opera"},
    {u"OPiOS/", u"Opera"},
    {u"SamsungBrowser/", u"Samsung Internet"},
    {u"YaBrowser/", u"Yandex Browser"},
    {u"Vivaldi/", u"Vivaldi"},
    {u"UCBrowser/", u"UC Browser"},
    {u"CriOS/", u"Chrome"},
    {u"FxiOS/", u"Firefox"},
    {u"Firefox/", u"Firefox"},
    {u"HeadlessChrome/", u"Headless Chrome"},
    {u"Chromium/", u"Chromium"},
    {u"Chrome/", u"Chrome"},
};

// "Chrome 120", "Safari 17.1"; empty when no known browser is named.
QString detectBrowser(QStringView s, const DeviceInfo& platform)
{
    for (const BrowserToken& browser : kBrowsers) {
        const qsizetype at = findToken(s, browser.token);
        if (at >= 0)
            return withVersion(browser.name, versionPrefix(versionAt(s, at + browser.token.size()), 1));
    }
    if (const qsizetype msie = findToken(s, u"MSIE "); msie >= 0)
        return withVersion(u"Internet Explorer", versionPrefix(versionAt(s, msie + 5), 1));
    if (hasToken(s, u"Trident/"))
        return withVersion(u"Internet Explorer", versionPrefix(versionAfter(s, u"rv:"), 1));
    if (hasToken(s, u"Safari/")) {
        // The pre-Chrome Android browser called itself Safari.
        if (platform.os.startsWith(u"Android"))
            return QStringLiteral("Android Browser");
        // Safari's version is in "Version/"; "Safari/605.1.15" is the WebKit build.
        return withVersion(u"Safari", versionPrefix(versionAfter(s, u"Version/"), 2));
    }
    return {};
}

DeviceInfo parseUnbounded(QStringView userAgent)
{
    const QStringView s = userAgent.first(std::min(userAgent.size(), kMaxInput)).trimmed();
    if (s.isEmpty())
        return {};

    if (QString bot = detectBot(s); !bot.isEmpty()) {
        DeviceInfo d;
        d.browser = std::move(bot);
        return d;
    }

    const Product first = firstProduct(s);
    const bool browserLike = first.name == u"Mozilla" || first.name == u"Opera";
    DeviceInfo d = detectPlatform(s, browserLike);

    // Our own agent and app: "EHR-Sessions-Agent/0.1.0 (Linux; ...)". They run on desktops only.
    if (first.name.startsWith(u"EHR-Sessions", Qt::CaseInsensitive)) {
        QStringView version = first.version;
        qsizetype end = 0;
        while (end < version.size() && end < 32 &&
               (isAsciiAlnum(version[end]) || version[end] == u'.' || version[end] == u'-' ||
                version[end] == u'+'))
            ++end;
        version = version.first(end);
        const QString name = first.name.toString().replace(u'-', u' ');
        d.browser =
            (!version.isEmpty() && isDigit(version.front())) ? withVersion(name, version.toString()) : name;
        d.type = QStringLiteral("desktop");
        return d;
    }

    d.browser = detectBrowser(s, d);
    if (d.browser.isEmpty() && !browserLike && !first.name.isEmpty()) {
        // A non-browser client names itself first: "curl/8.4.0", "python-requests/2.31.0".
        const QString version = versionPrefix(versionAt(first.version, 0), 2);
        if (!version.isEmpty())
            d.browser = withVersion(first.name, version);
    }
    return d;
}

} // namespace

DeviceInfo parseUserAgent(QStringView userAgent)
{
    DeviceInfo d = parseUnbounded(userAgent);
    // Absurd version strings ("Chrome/111...1") must not make a field longer than a stored
    // DeviceInfo may be (found by fuzz_user_agent).
    constexpr qsizetype kMaxShown = 100;
    static_assert(kMaxShown <= DeviceInfo::kMaxFieldLength);
    for (QString* field : {&d.name, &d.os, &d.browser}) {
        if (field->size() > kMaxShown)
            field->truncate(kMaxShown);
    }
    return d;
}

} // namespace ehrs::server
