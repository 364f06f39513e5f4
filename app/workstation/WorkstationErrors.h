// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

namespace ehrs::app {

// The agent's shared-workstation answers (docs/agent-api.md) as the app tells them apart.

/// A wrong PIN (`invalid_pin`); Error::attemptsLeft says how many are left.
bool isInvalidPin(const Error& error);
/// The PIN can no longer bring the session back (`full_sign_in_required`: too many wrong PINs,
/// shift over, no PIN, or the session ended): the password sign-in, with the email filled.
bool isFullSignInRequired(const Error& error);
/// `token` while nobody is active but clinicians are parked (`no_active_clinician`).
bool isNoActiveClinician(const Error& error);

/// The same errors made, for tests' fakes.
Error invalidPinError(int attemptsLeft);
Error fullSignInRequiredError();

} // namespace ehrs::app
