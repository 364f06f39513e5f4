// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "config/ServerConfig.h"

#include <QString>

namespace ehrs::server::cli {

/// `workstation handovers --workstation ID [--since 8h|ISO-8601]`: who was active on a shared
/// workstation from when to when (the workstation_* audit rows), oldest first, one line each:
/// `FROM  TO|active  EMAIL  session SESSION_ID  (signed in|resumed)`. Bad input: a one-line reason
/// and exit code 2.
int workstationHandovers(const ServerConfig& config, const QString& workstationId, const QString& since);

} // namespace ehrs::server::cli
