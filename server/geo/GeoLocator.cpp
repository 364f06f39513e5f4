// SPDX-License-Identifier: Apache-2.0
#include "GeoLocator.h"

#include <QHostAddress>
#include <QList>
#include <QPair>

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
} // namespace

GeoLocator::GeoLocator() = default;

GeoLocator::~GeoLocator()
{
    if (m_db)
        MMDB_close(m_db.get());
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
    QHostAddress address(ipAddress);
    if (address.isNull())
        return {};
    bool v4 = false;
    const quint32 ipv4 = address.toIPv4Address(&v4);
    if (v4)
        address = QHostAddress(ipv4);
    if (isLocal(address))
        return QStringLiteral("Local network");
    if (!m_db)
        return {};
    int gaiError = 0, mmdbError = 0;
    MMDB_lookup_result_s result =
        MMDB_lookup_string(m_db.get(), address.toString().toLatin1().constData(), &gaiError, &mmdbError);
    if (gaiError != 0 || mmdbError != MMDB_SUCCESS || !result.found_entry)
        return {};
    const QString city = stringAt(&result.entry, "city", "names", "en");
    const QString country = stringAt(&result.entry, "country", "names", "en");
    if (!city.isEmpty() && !country.isEmpty())
        return city + QStringLiteral(", ") + country;
    return country;
}

} // namespace ehrs::server
