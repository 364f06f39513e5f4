// SPDX-License-Identifier: Apache-2.0
#include "SignInRisk.h"

#include <QLocale>
#include <QSet>
#include <cmath>

namespace ehrs::server {
namespace {
QString plural(qint64 n, const char* unit)
{
    return QStringLiteral("%1 %2%3")
        .arg(n)
        .arg(QLatin1String(unit))
        .arg(n == 1 ? QString() : QStringLiteral("s"));
}
} // namespace

double SignInRisk::distanceKm(double lat1, double lon1, double lat2, double lon2)
{
    constexpr double kRadiusKm = 6371.0;
    constexpr double kRad = M_PI / 180.0;
    const double dLat = (lat2 - lat1) * kRad;
    const double dLon = (lon2 - lon1) * kRad;
    const double a = std::sin(dLat / 2) * std::sin(dLat / 2) +
                     std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dLon / 2) * std::sin(dLon / 2);
    return 2 * kRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

QString SignInRisk::duration(qint64 ms)
{
    const qint64 minutes = qMax<qint64>(1, (ms + 30'000) / 60'000);
    if (minutes < 120)
        return plural(minutes, "minute");
    const qint64 hours = (minutes + 30) / 60;
    if (hours < 48)
        return plural(hours, "hour");
    return plural((hours + 12) / 24, "day");
}

RiskAssessment SignInRisk::assess(const SignInSignals& s, const RiskPolicy& policy)
{
    RiskAssessment r;
    const QLocale english(QLocale::English);
    auto add = [&r](int weight, const char* code, const QString& words) {
        r.score += weight;
        r.signals << QString::fromLatin1(code);
        r.reasons << words;
    };
    if (!s.knownDevice)
        add(RiskPolicy::kNewDevice, "new_device", QStringLiteral("first sign-in from this device"));

    if (s.place) {
        QSet<QString> seen;
        for (const PastSignIn& p : s.history) {
            if (p.place)
                seen.insert(p.place->key);
        }
        if (!seen.isEmpty() && !seen.contains(s.place->key))
            add(RiskPolicy::kNewPlace, "new_place", QStringLiteral("first sign-in from ") + s.place->label);
    }

    // Impossible travel: from the previous sign-in that has coordinates to this one.
    if (s.place && s.place->latitude && s.place->longitude) {
        for (const PastSignIn& p : s.history) {
            if (!p.place || !p.place->latitude || !p.place->longitude)
                continue;
            const double km =
                distanceKm(*p.place->latitude, *p.place->longitude, *s.place->latitude, *s.place->longitude);
            const qint64 elapsedMs =
                qMax<qint64>(s.nowMs - p.atMs, 60'000); // GeoIP and clocks are not that exact
            const double kmh = km / (double(elapsedMs) / 3'600'000.0);
            if (km >= RiskPolicy::kMinTravelKm && kmh > policy.maxKmh)
                add(RiskPolicy::kImpossibleTravel, "impossible_travel",
                    QStringLiteral("%1 km from your sign-in in %2 %3 earlier")
                        .arg(english.toString(qRound64(km)), p.place->label, duration(s.nowMs - p.atMs)));
            break; // only the latest located sign-in counts
        }
    }

    if (s.recentFailures >= policy.failureBurst)
        add(RiskPolicy::kFailureBurst, "failure_burst",
            QStringLiteral("%1 wrong passwords in the %2 before")
                .arg(s.recentFailures)
                .arg(duration(qint64(s.failureWindowSeconds) * 1000)));

    if (!s.browserFamily.isEmpty() && !s.history.empty()) {
        bool seen = false;
        for (const PastSignIn& p : s.history)
            seen = seen || p.browserFamily == s.browserFamily;
        if (!seen)
            add(RiskPolicy::kNewBrowserFamily, "new_browser_family",
                QStringLiteral("first sign-in with ") + s.browserFamily);
    }
    r.suspicious = r.score >= policy.threshold;
    return r;
}

} // namespace ehrs::server
