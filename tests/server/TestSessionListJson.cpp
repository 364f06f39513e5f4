// SPDX-License-Identifier: Apache-2.0
// The hand-written JSON of GET /api/sessions gives the same bytes as nlohmann's serialisation of
// the same sessions, whatever their text holds.
#include "api/SessionListJson.h"

#include <QTest>
#include <nlohmann/json.hpp>
#include <random>

using namespace ehrs;
using namespace ehrs::server;

namespace {
QByteArray viaNlohmann(const std::vector<SessionDto>& sessions)
{
    nlohmann::json items = nlohmann::json::array();
    for (const auto& s : sessions)
        items.push_back(s);
    const nlohmann::json body{{"success", true}, {"sessions", items}, {"total", sessions.size()}};
    return QByteArray::fromStdString(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

SessionDto sample(int i)
{
    SessionDto s;
    s.id = QStringLiteral("3f1c2a9e-0000-4000-8000-%1").arg(i, 12, 10, QLatin1Char('0'));
    s.name = i % 2 ? QStringLiteral("Ward 4 PC") : QString();
    s.createdAt = QDateTime::fromMSecsSinceEpoch(1764000000000 + i * 1000, Qt::UTC);
    s.lastActivityAt = QDateTime::fromMSecsSinceEpoch(1764000500123 + i, Qt::UTC);
    s.expiresAt = QDateTime::fromMSecsSinceEpoch(1764604800000, Qt::UTC);
    s.ipAddress = QStringLiteral("203.0.113.%1").arg(i);
    s.location = QStringLiteral("Local network");
    s.userAgent = QStringLiteral("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0");
    s.deviceInfo = DeviceInfo{QStringLiteral("desktop"), QString(), QStringLiteral("Windows 10/11"),
                              QStringLiteral("Chrome 120")};
    s.isActive = true;
    s.isCurrent = i == 0;
    s.parked = i == 1;
    return s;
}
} // namespace

class TestSessionListJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sameBytesAsNlohmann_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << QString();
        QTest::newRow("ascii") << QStringLiteral("iPhone of Dr. Smith");
        QTest::newRow("quotes and backslashes") << QStringLiteral(R"(say "hi" \ bye)");
        QTest::newRow("control characters") << QString::fromUtf16(u"a\u0001b\u001fc\nd\re\tf\bg\fh\u007f");
        QTest::newRow("markup") << QStringLiteral("<b>x</b><img src=x onerror=alert(1)>");
        QTest::newRow("accents") << QStringLiteral("Poste de soins, Hôpital Émile-Roux");
        QTest::newRow("non-BMP and RTL")
            << QString::fromUtf16(u"\U0001F4BB laptop \u202Egnp.exe \u05E9\u05DC\u05D5\u05DD");
        QTest::newRow("lone surrogate") << QString(QChar(0xD800)) + QStringLiteral("x");
    }

    void sameBytesAsNlohmann()
    {
        QFETCH(QString, text);
        std::vector<SessionDto> sessions;
        for (int i = 0; i < 3; ++i) {
            SessionDto s = sample(i);
            s.name = text;
            s.deviceInfo.name = text;
            s.userAgent = text + s.userAgent;
            sessions.push_back(s);
        }
        QCOMPARE(sessionListJson(sessions), viaNlohmann(sessions));
    }

    void emptyAndLongLists()
    {
        QCOMPARE(sessionListJson({}), viaNlohmann({}));
        std::vector<SessionDto> many;
        for (int i = 0; i < 200; ++i)
            many.push_back(sample(i));
        QCOMPARE(sessionListJson(many), viaNlohmann(many));
        // and it is valid JSON that reads back
        const auto parsed = nlohmann::json::parse(sessionListJson(many).toStdString());
        QCOMPARE(parsed["total"].get<int>(), 200);
    }

    void randomText()
    {
        std::mt19937 rng(12345);
        std::uniform_int_distribution<int> len(0, 40), ch(0, 0x2FFF);
        for (int round = 0; round < 500; ++round) {
            QString text;
            const int n = len(rng);
            for (int i = 0; i < n; ++i)
                text += QChar(char16_t(ch(rng) % 3 == 0 ? ch(rng) % 0x80 : ch(rng)));
            SessionDto s = sample(round);
            s.location = text;
            QCOMPARE(sessionListJson({s}), viaNlohmann({s}));
        }
    }
};

QTEST_GUILESS_MAIN(TestSessionListJson)
#include "TestSessionListJson.moc"
