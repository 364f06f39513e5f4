// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

#include <memory>

struct MMDB_s;

namespace ehrs::server {

/// Turns a client address into the `location` of a session: "Local network" for private,
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

    QString locate(const QString& ipAddress) const;

private:
    std::unique_ptr<MMDB_s> m_db;
};

} // namespace ehrs::server
