// SPDX-License-Identifier: Apache-2.0
#include "DeviceInfo.h"
#include "sessions/UserAgentParser.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Qt::StringLiterals;

using ehrs::DeviceInfo;
using ehrs::server::parseUserAgent;

namespace {

void row(const char* tag, const QString& userAgent, const QString& type, const QString& name,
         const QString& os, const QString& browser)
{
    QTest::newRow(tag) << userAgent << type << name << os << browser;
}

QString withCharAt(QString text, qsizetype position, QChar c)
{
    text.insert(position, c);
    return text;
}

// No control or formatting characters and no unpaired surrogates.
bool isClean(const QString& text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c.isHighSurrogate() && i + 1 < text.size() && text[i + 1].isLowSurrogate()) {
            ++i;
            continue;
        }
        if (c.isSurrogate() || c.category() == QChar::Other_Control || c.category() == QChar::Other_Format)
            return false;
    }
    return true;
}

} // namespace

class TestUserAgentParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void absurdVersionsStayBounded()
    {
        // Found by fuzz_user_agent: a 300-digit version made a field longer than DeviceInfo allows.
        const QString ua = QStringLiteral("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/") +
                           QString(300, u'9') + QStringLiteral(" Safari/537.36");
        const DeviceInfo d = parseUserAgent(ua);
        QVERIFY(d.browser.startsWith(u"Chrome"));
        for (const QString& field : {d.name, d.os, d.browser})
            QVERIFY(field.size() <= 100);
    }

    void parse_data();
    void parse();
    void acceptsViewsOfLargerBuffers();
    void randomInputStaysBounded();
};

void TestUserAgentParser::parse_data()
{
    QTest::addColumn<QString>("userAgent");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("os");
    QTest::addColumn<QString>("browser");

    // --- iOS / iPadOS: the replaced system called these "macOS".
    row("iphone-safari",
        u"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"Version/17.1 Mobile/15E148 Safari/604.1"_s,
        u"mobile"_s, u"iPhone"_s, u"iOS 17.1"_s, u"Safari 17.1"_s);
    row("iphone-safari-patch",
        u"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"Version/17.1.2 Mobile/15E148 Safari/604.1"_s,
        u"mobile"_s, u"iPhone"_s, u"iOS 17.1.2"_s, u"Safari 17.1"_s);
    row("ipad-safari",
        u"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"Version/16.6 Mobile/15E148 Safari/604.1"_s,
        u"tablet"_s, u"iPad"_s, u"iPadOS 16.6"_s, u"Safari 16.6"_s);
    row("ipad-chrome",
        u"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"_s,
        u"tablet"_s, u"iPad"_s, u"iPadOS 17.2"_s, u"Chrome 120"_s);
    row("iphone-chrome",
        u"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"_s,
        u"mobile"_s, u"iPhone"_s, u"iOS 17.1"_s, u"Chrome 120"_s);
    row("iphone-firefox",
        u"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"FxiOS/121.0 Mobile/15E148 Safari/605.1.15"_s,
        u"mobile"_s, u"iPhone"_s, u"iOS 17.2"_s, u"Firefox 121"_s);
    row("iphone-edge",
        u"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"Version/17.0 EdgiOS/120.0.2210.126 Mobile/15E148 Safari/605.1.15"_s,
        u"mobile"_s, u"iPhone"_s, u"iOS 17.2"_s, u"Edge 120"_s);
    row("ipod-safari",
        u"Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        u"Gecko) "
        u"Version/15.6.1 Mobile/15E148 Safari/604.1"_s,
        u"mobile"_s, u"iPod touch"_s, u"iOS 15.7"_s, u"Safari 15.6"_s);
    row("iphone-in-app-webview",
        u"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"Mobile/15E148"_s,
        u"mobile"_s, u"iPhone"_s, u"iOS 16.6"_s, QString());

    // --- Android: the replaced system called these "Linux".
    row("pixel7-chrome-build",
        u"Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240105.004) AppleWebKit/537.36 (KHTML, like "
        u"Gecko) "
        u"Chrome/120.0.6099.144 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("pixel7-chrome",
        u"Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Mobile Safari/537.36"_s,
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("android-reduced-phone",
        u"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Mobile Safari/537.36"_s,
        u"mobile"_s, u"Android phone"_s, u"Android 10"_s, u"Chrome 120"_s);
    row("samsung-internet",
        u"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Galaxy S23"_s, u"Android 14"_s, u"Samsung Internet 23"_s);
    row("samsung-chrome",
        u"Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.6099.144 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Galaxy S23"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("samsung-model-table",
        u"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.6099.144 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Galaxy S23 Ultra"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("model-not-in-the-table",
        u"Mozilla/5.0 (Linux; Android 14; SM-Z999Q) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.6099.144 Mobile Safari/537.36"_s,
        u"mobile"_s, u"SM-Z999Q"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("android-firefox-phone", u"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0"_s,
        u"mobile"_s, u"Android phone"_s, u"Android 14"_s, u"Firefox 121"_s);
    row("android-firefox-tablet", u"Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0"_s,
        u"tablet"_s, u"Android tablet"_s, u"Android 13"_s, u"Firefox 121"_s);
    row("android-tablet-model",
        u"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36"_s,
        u"tablet"_s, u"Galaxy Tab S9"_s, u"Android 13"_s, u"Chrome 120"_s);
    row("android-tablet-reduced",
        u"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36"_s,
        u"tablet"_s, u"Android tablet"_s, u"Android 10"_s, u"Chrome 120"_s);
    row("android-opera",
        u"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 "
        u"Mobile Safari/537.36 OPR/79.2.4195.76163"_s,
        u"mobile"_s, u"Android phone"_s, u"Android 10"_s, u"Opera 79"_s);
    row("android-edge",
        u"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Mobile Safari/537.36 EdgA/120.0.2210.115"_s,
        u"mobile"_s, u"Android phone"_s, u"Android 10"_s, u"Edge 120"_s);
    row("android-webview",
        u"Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240105.004; wv) AppleWebKit/537.36 "
        u"(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("android-stock-browser",
        u"Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 "
        u"(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"_s,
        u"mobile"_s, u"LG-L160L"_s, u"Android 4.0.3"_s, u"Android Browser"_s);
    row("android-dalvik", u"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A.240105.004)"_s,
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Dalvik 2.1"_s);
    row("windows-phone",
        u"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 "
        u"(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063"_s,
        u"mobile"_s, u"Windows phone"_s, u"Windows Phone"_s, u"Edge 15"_s);

    // --- Windows.
    row("windows-chrome",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Chrome 120"_s);
    row("windows-edge",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36 Edg/120.0.2210.91"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Edge 120"_s);
    row("windows-opera",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36 OPR/106.0.0.0"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Opera 106"_s);
    row("windows-firefox",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"_s, u"desktop"_s,
        u"Windows PC"_s, u"Windows 10/11"_s, u"Firefox 121"_s);
    row("windows7-chrome",
        u"Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 "
        u"Safari/537.36"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 7"_s, u"Chrome 109"_s);
    row("windows81-firefox",
        u"Mozilla/5.0 (Windows NT 6.3; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0"_s, u"desktop"_s,
        u"Windows PC"_s, u"Windows 8.1"_s, u"Firefox 115"_s);
    row("windows-ie11", u"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 7"_s, u"Internet Explorer 11"_s);
    row("windows-legacy-edge",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Edge 18"_s);

    // --- macOS, Linux, ChromeOS.
    row("mac-safari",
        u"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        u"Version/17.2 Safari/605.1.15"_s,
        u"desktop"_s, u"Mac"_s, u"macOS 10.15.7"_s, u"Safari 17.2"_s);
    row("mac-chrome",
        u"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.0.0 Safari/537.36"_s,
        u"desktop"_s, u"Mac"_s, u"macOS 10.15.7"_s, u"Chrome 120"_s);
    row("mac-firefox",
        u"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"_s,
        u"desktop"_s, u"Mac"_s, u"macOS 10.15"_s, u"Firefox 121"_s);
    row("linux-chrome",
        u"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36"_s,
        u"desktop"_s, u"Linux PC"_s, u"Linux"_s, u"Chrome 120"_s);
    row("ubuntu-firefox", u"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"_s,
        u"desktop"_s, u"Linux PC"_s, u"Linux"_s, u"Firefox 121"_s);
    row("chromeos-chrome",
        u"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36"_s,
        u"laptop"_s, u"Chromebook"_s, u"ChromeOS"_s, u"Chrome 120"_s);

    // --- Native clients, our own agent, crawlers.
    row("curl", u"curl/8.4.0"_s, u"unknown"_s, QString(), QString(), u"curl 8.4"_s);
    row("python-requests", u"python-requests/2.31.0"_s, u"unknown"_s, QString(), QString(),
        u"python-requests 2.31"_s);
    row("okhttp", u"okhttp/4.12.0"_s, u"unknown"_s, QString(), QString(), u"okhttp 4.12"_s);
    row("wget", u"Wget/1.21.3"_s, u"unknown"_s, QString(), QString(), u"Wget 1.21"_s);
    row("agent-linux", u"EHR-Sessions-Agent/0.1.0 (Linux; Debian GNU/Linux 12; x86_64)"_s, u"desktop"_s,
        u"Linux PC"_s, u"Linux"_s, u"EHR Sessions Agent 0.1.0"_s);
    row("agent-windows", u"EHR-Sessions-Agent/0.2.0-rc1 (Windows 11; x86_64)"_s, u"desktop"_s,
        u"Windows PC"_s, u"Windows 11"_s, u"EHR Sessions Agent 0.2.0-rc1"_s);
    row("agent-bare", u"EHR-Sessions-Agent/0.1.0"_s, u"desktop"_s, QString(), QString(),
        u"EHR Sessions Agent 0.1.0"_s);
    row("googlebot", u"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"_s,
        u"unknown"_s, QString(), QString(), u"Googlebot 2.1"_s);
    row("googlebot-smartphone",
        u"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.6099.129 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        u"+http://www.google.com/bot.html)"_s,
        u"unknown"_s, QString(), QString(), u"Googlebot 2.1"_s);
    row("bingbot", u"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"_s, u"unknown"_s,
        QString(), QString(), u"bingbot 2.0"_s);

    // --- Robustness: nothing here may crash, hang or leak junk into the output.
    row("empty", QString(), u"unknown"_s, QString(), QString(), QString());
    row("whitespace", u"  \t  "_s, u"unknown"_s, QString(), QString(), QString());
    row("5000-As", QString(5000, u'A'), u"unknown"_s, QString(), QString(), QString());
    row("mozilla-only", u"Mozilla/5.0"_s, u"unknown"_s, QString(), QString(), QString());
    row("garbage-words", u"hello world, this is not a user agent"_s, u"unknown"_s, QString(), QString(),
        QString());
    row("only-punctuation", u"))))((((;;;;////"_s, u"unknown"_s, QString(), QString(), QString());
    row("unbalanced-windows",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64 AppleWebKit/537.36 (KHTML, like Gecko Chrome/120.0.0.0 "
        u"Safari/537.36"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Chrome 120"_s);
    row("unbalanced-iphone", u"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X"_s, u"mobile"_s,
        u"iPhone"_s, u"iOS 17.1"_s, QString());
    row("non-ascii-model",
        u"Mozilla/5.0 (Linux; Android 13; Гэлакси Ultra) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.0.0 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Гэлакси Ultra"_s, u"Android 13"_s, u"Chrome 120"_s);
    row("non-ascii-garbage", u"日本語のテキスト ✓ ÿþ 🙂"_s, u"unknown"_s, QString(), QString(),
        QString());
    row("bidi-override-in-model",
        u"Mozilla/5.0 (Linux; Android 14; Pixel\u202E 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        u"Chrome/120.0.0.0 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("lone-surrogate-in-model",
        withCharAt(u"Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/120.0.0.0 Mobile Safari/537.36"_s, 38,
                   QChar(0xD800)),
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("overlong-model",
        u"Mozilla/5.0 (Linux; Android 14; "_s + QString(300, u'M') +
            u") Chrome/120.0.0.0 Mobile Safari/537.36"_s,
        u"mobile"_s, u"Android phone"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("nul-in-model",
        withCharAt(u"Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/120.0.0.0 Mobile Safari/537.36"_s, 38,
                   QChar(0)),
        u"mobile"_s, u"Pixel 7"_s, u"Android 14"_s, u"Chrome 120"_s);
    row("nul-in-product-name", withCharAt(u"curl/8.4.0"_s, 2, QChar(0)), u"unknown"_s, QString(), QString(),
        QString());
    row("nul-before-browser-ua",
        withCharAt(u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36"_s, 0,
                   QChar(0)),
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Chrome 120"_s);
    row("only-nuls", QString(100, QChar(0)), u"unknown"_s, QString(), QString(), QString());
    row("long-tail-ignored",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        u"Safari/537.36 "_s +
            QString(5000, u'x'),
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, u"Chrome 120"_s);
    row("browser-past-1024-chars",
        u"Mozilla/5.0 (Windows NT 10.0; Win64; x64) "_s + QString(1100, u'x') + u" Chrome/120.0.0.0"_s,
        u"desktop"_s, u"Windows PC"_s, u"Windows 10/11"_s, QString());
    row("megabyte-of-tokens", QString(u"Edg/Android;iPhone OS Version/"_s).repeated(40000), u"mobile"_s,
        u"iPhone"_s, u"iOS"_s, u"Edge"_s);
}

void TestUserAgentParser::parse()
{
    QFETCH(QString, userAgent);
    QFETCH(QString, type);
    QFETCH(QString, name);
    QFETCH(QString, os);
    QFETCH(QString, browser);

    const DeviceInfo d = parseUserAgent(userAgent);
    QCOMPARE(d.type, type);
    QCOMPARE(d.name, name);
    QCOMPARE(d.os, os);
    QCOMPARE(d.browser, browser);
    QVERIFY(DeviceInfo::isKnownType(d.type));
}

void TestUserAgentParser::acceptsViewsOfLargerBuffers()
{
    // The server passes a view into the request's header buffer: only the viewed part counts.
    const QString buffer = u"curl/8.4.0 Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)"_s;
    const DeviceInfo d = parseUserAgent(QStringView(buffer).first(10));
    QCOMPARE(d, (DeviceInfo{u"unknown"_s, QString(), QString(), u"curl 8.4"_s}));
}

void TestUserAgentParser::randomInputStaysBounded()
{
    // Random splices of User-Agent vocabulary and junk: the output must stay a valid DeviceInfo that
    // deviceInfoFromJson() would accept, and no control characters may leak through.
    static const QString pieces[] = {
        u"Mozilla/5.0 "_s,
        u"("_s,
        u")"_s,
        u"; "_s,
        u"Android "_s,
        u"14"_s,
        u"iPhone"_s,
        u"iPad"_s,
        u"CPU OS "_s,
        u"17_1"_s,
        u"Mobile"_s,
        u"Build/"_s,
        u"Chrome/"_s,
        u"Edg/"_s,
        u"Version/"_s,
        u"Safari/"_s,
        u"Windows NT "_s,
        u"10.0"_s,
        u"Mac OS X "_s,
        u"Linux"_s,
        u"CrOS"_s,
        u"bot/"_s,
        u"rv:"_s,
        u"EHR-Sessions-Agent/"_s,
        u"."_s,
        u"_"_s,
        u"/"_s,
        u" "_s,
        u"Ж"_s,
        u"\u202E"_s,
        QString(QChar(0)),
        QString(QChar(0xD800)),
        QString(QChar(0xDC00)),
        u"\t"_s,
        u"K"_s,
        u"SAMSUNG "_s,
    };
    constexpr auto pieceCount = sizeof(pieces) / sizeof(pieces[0]);
    QRandomGenerator random(20240101);
    for (int i = 0; i < 3000; ++i) {
        QString userAgent;
        const int length = random.bounded(1, 400);
        for (int j = 0; j < length; ++j)
            userAgent += pieces[random.bounded(static_cast<quint32>(pieceCount))];
        const DeviceInfo d = parseUserAgent(userAgent);
        QVERIFY2(DeviceInfo::isKnownType(d.type), qPrintable(d.type));
        for (const QString* field : {&d.name, &d.os, &d.browser}) {
            QVERIFY(field->size() <= DeviceInfo::kMaxFieldLength);
            QVERIFY2(isClean(*field), qPrintable(userAgent));
        }
    }
}

QTEST_GUILESS_MAIN(TestUserAgentParser)
#include "TestUserAgentParser.moc"
