// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "WireModels.h"

#include <QByteArray>
#include <vector>

namespace ehrs::server {

/// The body of GET /api/sessions, `{sessions:[...], success:true, total}`, written straight into
/// the response buffer: the same bytes as serialising the SessionDto objects through nlohmann,
/// without the intermediate tree (the largest CPU cost of a list request before).
QByteArray sessionListJson(const std::vector<SessionDto>& sessions);

} // namespace ehrs::server
