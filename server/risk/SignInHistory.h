// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"
#include "Result.h"
#include "db/Database.h"
#include "geo/GeoLocator.h"
#include "risk/SignInRisk.h"

namespace ehrs::server {

/// Gathers a sign-in's SignInSignals from what the server already keeps: the account's earlier
/// successful sign-ins and recent wrong passwords (audit_events), and where addresses are
/// (GeoLocator). Runs on the sign-in's own thread and database connection (two indexed reads).
class SignInHistory
{
public:
    static constexpr int kHistoryRows = 50;

    /// `parse`: what a User-Agent says (sessions/UserAgentParser, passed in: risk/ sits below sessions/).
    using Parser = DeviceInfo (*)(QStringView userAgent);
    SignInHistory(Database& db, const GeoLocator* geo, Parser parse) : m_db(db), m_geo(geo), m_parse(parse) {}

    [[nodiscard]] Result<SignInSignals> gather(const QString& userId, const QString& ipAddress,
                                               const QString& userAgent, bool knownDevice, qint64 nowMs,
                                               int failureWindowSeconds) const;
    std::optional<SignInPlace> placeOf(const QString& ipAddress) const;
    /// "Firefox on Linux": the User-Agent's browser and system without version numbers.
    QString browserFamily(const QString& userAgent) const;

private:
    Database& m_db;
    const GeoLocator* m_geo;
    Parser m_parse;
};

} // namespace ehrs::server
