// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

namespace ehrs::agent {

/// Why there is no keychain, in words a person can act on, after the keychain probe failed with
/// `probeError` (ErrorCode::Unavailable): there is no D-Bus session bus at all (the agent runs
/// outside a desktop session), or the bus has no Secret Service (gnome-keyring or KWallet is not
/// installed or not running), or the Secret Service is there but did not answer (locked).
QString explainMissingKeychain(const Error& probeError);

} // namespace ehrs::agent
