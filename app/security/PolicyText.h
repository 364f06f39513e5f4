// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "api/AccountDtos.h"

#include <QString>

namespace ehrs::app {

/// The session policy that IT's rules give this session, in words for the Security page: "Signed
/// out after 15 minutes without activity; at most 12 hours; ends when the screen locks; two-step
/// verification required; at most 3 sessions".
QString describePolicy(const SessionPolicyInfo& policy);
/// Where it comes from: "Shared workstation · groups: nurses, ward-3".
QString describePolicySource(const SessionPolicyInfo& policy);
/// "15 minutes", "12 hours", "7 days", "90 seconds".
QString durationText(int seconds);

} // namespace ehrs::app
