// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>
#include <QUrl>

namespace ehrs {

/// Reads a server address as a person types it (`--server`, the app's Server field, agent.conf):
/// an http:// or https:// URL with a host. The InvalidRequest error says what to type instead; an
/// address without a scheme gets a hint with one ("127.0.0.1:8000": did you mean
/// http://127.0.0.1:8000?; "sessions.example.org": did you mean https://sessions.example.org?).
[[nodiscard]] Result<QUrl> parseServerUrl(const QString& text);

/// 127.0.0.0/8, ::1, localhost and *.localhost: where plain http:// is acceptable.
bool isLoopbackHost(const QString& host);

} // namespace ehrs
