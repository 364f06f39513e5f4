// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

namespace ehrs::agent::cli {

/// The one-shot sub-commands: each connects to the running daemon, prints its answer and
/// returns the process exit code (0 success, 1 a failure reported on stderr in one line, 2 the
/// daemon is not running).
int token(const QString& socketPath, int minValidSeconds);
/// The value of `token --min-valid`: whole seconds, 0 to 86400 (what the agent accepts), or an
/// error that says so.
[[nodiscard]] Result<int> parseMinValid(const QString& text);
int status(const QString& socketPath, bool json);
/// `allowInsecureHttp`: --allow-insecure-http, the opt-in to http:// to a host that is not loopback.
/// `rememberDevice`: --remember-device, sent with the code when the server asks for one.
int login(const QString& socketPath, const QString& serverUrl, const QString& email, bool passwordFromStdin,
          bool allowInsecureHttp = false, bool rememberDevice = false);
int logout(const QString& socketPath);

// Shared workstations (issue 14). Exit codes beyond the above: `token` 5 when nobody is active
// (clinicians parked: switch user); `resume` 5 for a wrong PIN, 6 when only the password helps.
/// `pin`: the active clinician's shift PIN, typed twice at a no-echo prompt (or one stdin line).
int pin(const QString& socketPath, bool pinFromStdin);
/// `switch-user`: parks the active clinician.
int switchUser(const QString& socketPath);
/// `resume EMAIL`: a parked clinician comes back with their PIN.
int resume(const QString& socketPath, const QString& email, bool pinFromStdin);

} // namespace ehrs::agent::cli
