// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

namespace ehrs::server {

/// Where a sign-in came from, as far as the server can tell (GeoLocator::lookup()).
struct SignInPlace
{
    QString key;   // equal keys are the same place (named network, or city and country)
    QString label; // "Lisbon, Portugal", "St Mary's, Ward 3"
    std::optional<double> latitude;
    std::optional<double> longitude;
};

/// An earlier successful sign-in of the same account.
struct PastSignIn
{
    qint64 atMs = 0;
    std::optional<SignInPlace> place;
    QString browserFamily; // "Firefox on Linux": browser and system without versions
};

/// What the server knows about a sign-in whose password was right.
struct SignInSignals
{
    qint64 nowMs = 0;
    bool knownDevice = false; // a live device credential of this account was presented
    std::optional<SignInPlace> place;
    QString browserFamily;
    int recentFailures = 0;          // wrong passwords for the account within the failure window
    int failureWindowSeconds = 900;  // for the words
    std::vector<PastSignIn> history; // newest first
};

/// The tunable part (SUSPICIOUS_SIGNIN_*); the weights are fixed and documented.
struct RiskPolicy
{
    static constexpr int kNewDevice = 20;
    static constexpr int kNewPlace = 30;
    static constexpr int kImpossibleTravel = 50;
    static constexpr int kFailureBurst = 30;
    static constexpr int kNewBrowserFamily = 15;
    /// Distances below this are GeoIP's own imprecision, never travel.
    static constexpr double kMinTravelKm = 100;

    int threshold = 50;
    double maxKmh = 900;
    int failureBurst = 3;
};

/// The verdict on one sign-in: which signals fired (codes for the audit and metrics), the same in
/// words for the person (the event stream and the email), the score and whether it reaches the
/// threshold.
struct RiskAssessment
{
    int score = 0;
    QStringList signals; // new_device, new_place, impossible_travel, failure_burst, new_browser_family
    QStringList reasons; // "first sign-in from Lisbon, Portugal", "1,450 km from your sign-in in ..."
    bool suspicious = false;
};

/// Suspicious sign-in scoring: a pure function of the signals and the policy (the clock is in the
/// signals), so it is tested without a server. A new account's first sign-in has no history to
/// compare with: only the new-device signal can fire then.
class SignInRisk
{
public:
    static RiskAssessment assess(const SignInSignals& signals, const RiskPolicy& policy);
    /// Great-circle distance (haversine, mean Earth radius 6371 km).
    static double distanceKm(double lat1, double lon1, double lat2, double lon2);
    /// "20 minutes", "3 hours", "2 days".
    static QString duration(qint64 ms);
};

} // namespace ehrs::server
