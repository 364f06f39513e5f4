// SPDX-License-Identifier: Apache-2.0
#include "WorkstationErrors.h"

namespace ehrs::app {
namespace {
// Until the agent's IPC names these codes, they are recognised by the wire code the agent puts
// in the message's place.
const QString kInvalidPin = QStringLiteral("invalid_pin");
const QString kFullSignIn = QStringLiteral("full_sign_in_required");
const QString kNoActive = QStringLiteral("no_active_clinician");
} // namespace

bool isInvalidPin(const Error& error)
{
    return error.message.contains(kInvalidPin) ||
           (error.code == ErrorCode::Unauthenticated && error.attemptsLeft >= 0);
}

bool isFullSignInRequired(const Error& error)
{
    return error.message.contains(kFullSignIn);
}

bool isNoActiveClinician(const Error& error)
{
    return error.message.contains(kNoActive);
}

Error invalidPinError(int attemptsLeft)
{
    Error e{ErrorCode::Unauthenticated, kInvalidPin};
    e.attemptsLeft = attemptsLeft;
    return e;
}

Error fullSignInRequiredError()
{
    return Error{ErrorCode::Forbidden, kFullSignIn};
}

} // namespace ehrs::app
