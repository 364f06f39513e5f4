// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

namespace ehrs::agent {

/// Prompts on the controlling terminal and reads a line with echo off (the password is never
/// shown nor kept in shell history). Fails without a terminal: use --password-stdin then.
[[nodiscard]] Result<QString> promptHidden(const QString& prompt);
/// Prompts on the terminal and reads a visible line (the TOTP code).
[[nodiscard]] Result<QString> promptVisible(const QString& prompt);
/// One line from standard input, without its line ending.
[[nodiscard]] Result<QString> readStdinLine();

} // namespace ehrs::agent
