// SPDX-License-Identifier: Apache-2.0
#include "GeoLocator.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <algorithm>
#include <maxminddb.h>

namespace ehrs::server {
namespace {
bool isLocal(const QHostAddress& a)
{
    static const QList<QPair<QHostAddress, int>> privateRanges = {
        QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8")), QHostAddress::parseSubnet(QStringLiteral("172.16.0.0/12")),
        QHostAddress::parseSubnet(QStringLiteral("192.168.0.0/16")),
        QHostAddress::parseSubnet(QStringLiteral("100.64.0.0/10"))};
    if (a.isLoopback() || a.isLinkLocal() || a.isUniqueLocalUnicast())
        return true;
    for (const auto& range : privateRanges) {
        if (a.isInSubnet(range))
            return true;
    }
    return false;
}

QString stringAt(MMDB_entry_s* entry, const char* a, const char* b, const char* c)
{
    MMDB_entry_data_s data{};
    if (MMDB_get_value(entry, &data, a, b, c, nullptr) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING)
        return {};
    return QString::fromUtf8(data.utf8_string, qsizetype(data.data_size));
}

std::optional<double> doubleAt(MMDB_entry_s* entry, const char* a, const char* b)
{
    MMDB_entry_data_s data{};
    if (MMDB_get_value(entry, &data, a, b, nullptr) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_DOUBLE)
        return std::nullopt;
    return data.double_value;
}
} // namespace

GeoLocator::GeoLocator() = default;

GeoLocator::~GeoLocator()
{
    if (m_db)
        MMDB_close(m_db.get());
}

Result<QList<NamedNetwork>> GeoLocator::parseNetworkLocations(const QString& text)
{
    constexpr qsizetype kMaxName = 100;
    QList<NamedNetwork> networks;
    QString normalised = text;
    normalised.replace(u'\n', u';');
    for (const QString& raw : normalised.split(u';', Qt::SkipEmptyParts)) {
        const QString entry = raw.trimmed();
        if (entry.isEmpty())
            continue;
        const qsizetype eq = entry.indexOf(u'=');
        const QString range = entry.left(eq).trimmed();
        const QString name = eq < 0 ? QString() : entry.mid(eq + 1).trimmed();
        if (eq <= 0 || name.isEmpty())
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("NETWORK_LOCATIONS: '%1' is not CIDR=Name").arg(entry.left(60)));
        for (QChar ch : name) {
            if (ch.category() == QChar::Other_Control || ch.category() == QChar::Other_Format)
                return fail(
                    ErrorCode::InvalidRequest,
                    QStringLiteral("NETWORK_LOCATIONS: the name of %1 has a control character").arg(range));
        }
        if (name.size() > kMaxName)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("NETWORK_LOCATIONS: the name of %1 is longer than %2 characters")
                            .arg(range)
                            .arg(kMaxName));
        QPair<QHostAddress, int> subnet = range.contains(u'/')
                                              ? QHostAddress::parseSubnet(range)
                                              : QPair<QHostAddress, int>{QHostAddress(range), -1};
        const QString addressPart = range.section(u'/', 0, 0);
        const bool abbreviated =
            !addressPart.contains(u':') && addressPart.count(u'.') != 3; // "10.0" is no address
        if (subnet.first.isNull() || abbreviated)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("NETWORK_LOCATIONS: '%1' is not an address or CIDR range")
                            .arg(range.left(60)));
        if (subnet.second < 0)
            subnet.second = subnet.first.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128;
        networks.append({subnet, name});
    }
    // The most specific range first: "10.20.3.0/24 = Ward 3" inside "10.20.0.0/16 = St Mary's".
    std::stable_sort(networks.begin(), networks.end(), [](const NamedNetwork& a, const NamedNetwork& b) {
        return a.subnet.second > b.subnet.second;
    });
    return networks;
}

Result<std::unique_ptr<GeoLocator>> GeoLocator::open(const QString& mmdbPath, const QString& networkLocations)
{
    auto named = parseNetworkLocations(networkLocations);
    if (!named)
        return fail(named.error());
    auto locator = open(mmdbPath);
    if (locator)
        (*locator)->m_named = std::move(*named);
    return locator;
}

Result<std::unique_ptr<GeoLocator>> GeoLocator::open(const QString& mmdbPath)
{
    auto locator = std::make_unique<GeoLocator>();
    if (mmdbPath.isEmpty())
        return locator;
    auto db = std::make_unique<MMDB_s>();
    const int rc = MMDB_open(mmdbPath.toLocal8Bit().constData(), MMDB_MODE_MMAP, db.get());
    if (rc != MMDB_SUCCESS)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("GEOIP_DB %1: %2").arg(mmdbPath, QString::fromLatin1(MMDB_strerror(rc))));
    locator->m_db = std::move(db);
    return locator;
}

QString GeoLocator::locate(const QString& ipAddress) const
{
    const auto place = lookup(ipAddress);
    return place ? place->label() : QString();
}

QString GeoPlace::label() const
{
    if (!networkName.isEmpty())
        return networkName;
    if (!city.isEmpty() && !country.isEmpty())
        return city + QStringLiteral(", ") + country;
    return country;
}

QString GeoPlace::key() const
{
    if (!networkName.isEmpty())
        return QStringLiteral("net:") + networkName;
    return QStringLiteral("geo:") + (countryCode.isEmpty() ? country : countryCode) + u'/' + city;
}

std::optional<GeoPlace> GeoLocator::lookup(const QString& ipAddress) const
{
    QHostAddress address(ipAddress);
    if (address.isNull())
        return std::nullopt;
    bool v4 = false;
    const quint32 ipv4 = address.toIPv4Address(&v4);
    if (v4)
        address = QHostAddress(ipv4);
    GeoPlace place;
    for (const NamedNetwork& n : m_named) {
        if (address.isInSubnet(n.subnet)) {
            place.networkName = n.name;
            return place;
        }
    }
    if (isLocal(address)) {
        place.networkName = QStringLiteral("Local network");
        return place;
    }
    if (!m_db)
        return std::nullopt;
    int gaiError = 0, mmdbError = 0;
    MMDB_lookup_result_s result =
        MMDB_lookup_string(m_db.get(), address.toString().toLatin1().constData(), &gaiError, &mmdbError);
    if (gaiError != 0 || mmdbError != MMDB_SUCCESS || !result.found_entry)
        return std::nullopt;
    place.city = stringAt(&result.entry, "city", "names", "en");
    place.country = stringAt(&result.entry, "country", "names", "en");
    place.countryCode = stringAt(&result.entry, "country", "iso_code", nullptr);
    if (place.country.isEmpty())
        return std::nullopt;
    place.latitude = doubleAt(&result.entry, "location", "latitude");
    place.longitude = doubleAt(&result.entry, "location", "longitude");
    if (!place.latitude || !place.longitude)
        place.latitude = place.longitude = std::nullopt;
    return place;
}

} // namespace ehrs::server
