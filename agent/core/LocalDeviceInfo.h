// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "DeviceInfo.h"

namespace ehrs::agent {

/// This machine as the server should list it: hostname, OS pretty name, "EHR Sessions Agent
/// <version>", and desktop or laptop from the DMI chassis type.
DeviceInfo localDeviceInfo();

} // namespace ehrs::agent
