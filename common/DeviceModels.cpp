// SPDX-License-Identifier: Apache-2.0
#include "DeviceModels.h"

#include <array>
#include <string_view>

namespace ehrs {
namespace {
struct Model
{
    std::string_view code; // Samsung: "SM-" and the letter and three digits before the region suffix
    std::string_view name;
};

// Written by hand for this project from the makers' own model numbering; no third-party data set.
// Keep it to devices people carry at work, sorted by maker. Add rows as IT sees new codes in the
// Active Sessions list.
constexpr std::array kModels{
    // Samsung Galaxy S
    Model{"SM-G991", "Galaxy S21"},
    Model{"SM-G996", "Galaxy S21+"},
    Model{"SM-G998", "Galaxy S21 Ultra"},
    Model{"SM-G990", "Galaxy S21 FE"},
    Model{"SM-S901", "Galaxy S22"},
    Model{"SM-S906", "Galaxy S22+"},
    Model{"SM-S908", "Galaxy S22 Ultra"},
    Model{"SM-S911", "Galaxy S23"},
    Model{"SM-S916", "Galaxy S23+"},
    Model{"SM-S918", "Galaxy S23 Ultra"},
    Model{"SM-S711", "Galaxy S23 FE"},
    Model{"SM-S921", "Galaxy S24"},
    Model{"SM-S926", "Galaxy S24+"},
    Model{"SM-S928", "Galaxy S24 Ultra"},
    // Samsung Galaxy A and XCover (rugged, common in wards)
    Model{"SM-A536", "Galaxy A53 5G"},
    Model{"SM-A546", "Galaxy A54 5G"},
    Model{"SM-A556", "Galaxy A55 5G"},
    Model{"SM-A346", "Galaxy A34 5G"},
    Model{"SM-A356", "Galaxy A35 5G"},
    Model{"SM-A256", "Galaxy A25 5G"},
    Model{"SM-A155", "Galaxy A15"},
    Model{"SM-G525", "Galaxy XCover 5"},
    Model{"SM-G556", "Galaxy XCover7"},
    Model{"SM-G736", "Galaxy XCover6 Pro"},
    // Samsung Galaxy Z
    Model{"SM-F731", "Galaxy Z Flip5"},
    Model{"SM-F946", "Galaxy Z Fold5"},
    // Samsung Galaxy Tab
    Model{"SM-T220", "Galaxy Tab A7 Lite"},
    Model{"SM-T225", "Galaxy Tab A7 Lite"},
    Model{"SM-T500", "Galaxy Tab A7"},
    Model{"SM-T505", "Galaxy Tab A7"},
    Model{"SM-X200", "Galaxy Tab A8"},
    Model{"SM-X205", "Galaxy Tab A8"},
    Model{"SM-X110", "Galaxy Tab A9"},
    Model{"SM-X210", "Galaxy Tab A9+"},
    Model{"SM-X700", "Galaxy Tab S8"},
    Model{"SM-X706", "Galaxy Tab S8"},
    Model{"SM-X710", "Galaxy Tab S9"},
    Model{"SM-X716", "Galaxy Tab S9"},
    Model{"SM-T636", "Galaxy Tab Active4 Pro"},
    Model{"SM-X300", "Galaxy Tab Active5"},
    Model{"SM-X306", "Galaxy Tab Active5"},
    // Hospital handhelds (barcode scanning, medication rounds)
    Model{"TC21", "Zebra TC21"},
    Model{"TC26", "Zebra TC26"},
    Model{"TC52", "Zebra TC52"},
    Model{"TC52ax", "Zebra TC52ax"},
    Model{"TC57", "Zebra TC57"},
    Model{"TC53", "Zebra TC53"},
    Model{"TC58", "Zebra TC58"},
    Model{"ET40", "Zebra ET40 tablet"},
    Model{"ET45", "Zebra ET45 tablet"},
    Model{"CT40", "Honeywell CT40"},
    Model{"CT45", "Honeywell CT45"},
    Model{"CT60", "Honeywell CT60"},
    Model{"Versity 9553", "Spectralink Versity"},
    Model{"Versity 9653", "Spectralink Versity"},
    Model{"Versity 9753", "Spectralink Versity"},
};

bool sameCode(QStringView a, std::string_view b)
{
    if (a.size() != qsizetype(b.size()))
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].toUpper() != QChar(QLatin1Char(b[size_t(i)])).toUpper())
            return false;
    }
    return true;
}
} // namespace

QString deviceMarketingName(QStringView model)
{
    QStringView code = model.trimmed();
    // "SM-S918B", "SM-S918U1", "SM-S9180": the part before the region suffix names the model.
    if (code.size() > 7 && code.startsWith(u"SM-", Qt::CaseInsensitive) && code[3].isLetter() &&
        code[4].isDigit() && code[5].isDigit() && code[6].isDigit())
        code = code.left(7);
    for (const Model& m : kModels) {
        if (sameCode(code, m.code))
            return QString::fromLatin1(m.name.data(), qsizetype(m.name.size()));
    }
    return {};
}

} // namespace ehrs
