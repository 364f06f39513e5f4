// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDateTime>
#include <QString>

namespace ehrs::app {

/// "just now", "5 minutes ago", "3 days ago": how long before `now` the moment `then` was.
/// Moments in the future (clock skew between server and desktop) read as "just now".
QString relativeTime(const QDateTime& then, const QDateTime& now);

} // namespace ehrs::app
