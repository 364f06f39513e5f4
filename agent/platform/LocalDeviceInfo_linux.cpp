// SPDX-License-Identifier: Apache-2.0
#include "core/LocalDeviceInfo.h"

#include <QFile>
#include <QSysInfo>

namespace ehrs::agent {
namespace {
QString chassisType()
{
    // SMBIOS chassis types: 8 portable, 9 laptop, 10 notebook, 14 sub-notebook, 31 convertible,
    // 32 detachable; 30 tablet.
    QFile f(QStringLiteral("/sys/class/dmi/id/chassis_type"));
    if (!f.open(QIODevice::ReadOnly))
        return QStringLiteral("desktop");
    const int type = f.readAll().trimmed().toInt();
    switch (type) {
    case 8: case 9: case 10: case 14: case 31: case 32: return QStringLiteral("laptop");
    case 30: return QStringLiteral("tablet");
    default: return QStringLiteral("desktop");
    }
}
} // namespace

DeviceInfo localDeviceInfo()
{
    DeviceInfo d;
    d.type = chassisType();
    d.name = QSysInfo::machineHostName().left(DeviceInfo::kMaxFieldLength);
    d.os = QSysInfo::prettyProductName().left(DeviceInfo::kMaxFieldLength);
    d.browser = QStringLiteral("EHR Sessions Agent " EHRS_VERSION);
    return d;
}

} // namespace ehrs::agent
