// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <memory>
#include <optional>

struct MMDB_s;

namespace ehrs::server {

/// A network IT named (NETWORK_LOCATIONS): "10.20.0.0/16 = St Mary's, Ward 3".
struct NamedNetwork
{
    QPair<QHostAddress, int> subnet;
    QString name;
};

/// Where an address is, in parts (GeoLocator::lookup()): for comparing sign-ins' places.
struct GeoPlace
{
    QString networkName; // NETWORK_LOCATIONS name, or "Local network"; empty for GeoIP places
    QString city;
    QString country;
    QString countryCode;
    std::optional<double> latitude; // GeoIP's location, when the database has one
    std::optional<double> longitude;

    /// The place in words, as locate() says it.
    QString label() const;
    /// What counts as "the same place" for a sign-in: the named network, else city and country.
    QString key() const;
};

/// Turns a client address into the `location` of a session: the name IT gave its network
/// (NETWORK_LOCATIONS, the most specific range wins); "Local network" for other private,
/// loopback and link-local addresses; "City, Country" (or "Country") from a MaxMind-format
/// database (GEOIP_DB, read with libmaxminddb) when one is configured; otherwise nothing, never a
/// guess. Thread-safe after open.
class GeoLocator
{
public:
    GeoLocator();
    ~GeoLocator();
    GeoLocator(const GeoLocator&) = delete;
    GeoLocator& operator=(const GeoLocator&) = delete;

    /// Opens a .mmdb file (GeoLite2-City, GeoIP2-City or compatible).
    [[nodiscard]] static Result<std::unique_ptr<GeoLocator>> open(const QString& mmdbPath);
    /// As open(mmdbPath), with IT's named networks (the NETWORK_LOCATIONS text).
    [[nodiscard]] static Result<std::unique_ptr<GeoLocator>> open(const QString& mmdbPath,
                                                                  const QString& networkLocations);
    /// Parses NETWORK_LOCATIONS: `CIDR=Name` entries separated by ';' or new lines, e.g.
    /// "10.20.0.0/16=St Mary's, Ward 3; 10.30.0.0/16=Outpatients". A bare address is a /32 (/128).
    /// Names are shown to people and written to the audit: at most 100 characters, no control
    /// characters.
    [[nodiscard]] static Result<QList<NamedNetwork>> parseNetworkLocations(const QString& text);

    QString locate(const QString& ipAddress) const;
    /// locate() in parts, with GeoIP's coordinates; nullopt where locate() says nothing.
    std::optional<GeoPlace> lookup(const QString& ipAddress) const;

private:
    std::unique_ptr<MMDB_s> m_db;
    QList<NamedNetwork> m_named; // most specific first
};

} // namespace ehrs::server
