// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace ehrs::server {

/// Replaces Qt's message handler with one that writes one JSON object per line to stderr:
/// {"time","level","category","message"} (LOG_FORMAT=json). Messages never carry secrets: the
/// code that logs takes care of that.
void installJsonLogHandler();

} // namespace ehrs::server
