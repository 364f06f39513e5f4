// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>
#include <QStringView>

namespace ehrs {

/// The marketing name of a device model code as phones and tablets report it ("SM-S918B" is
/// "Galaxy S23 Ultra", "TC52" is "Zebra TC52"), from a small table written for this project
/// (common/DeviceModels.cpp: common phones, tablets and the handhelds hospitals issue). Samsung
/// codes match whatever their regional suffix. Empty when the code is not in the table: callers
/// then show the code as it came.
[[nodiscard]] QString deviceMarketingName(QStringView model);

} // namespace ehrs
