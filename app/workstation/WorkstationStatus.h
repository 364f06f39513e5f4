// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QByteArrayView>
#include <QDateTime>
#include <QString>
#include <vector>

namespace ehrs::app {

/// A clinician whose session the agent parked on this workstation (switch user): they come back
/// with their shift PIN.
struct ParkedAccount
{
    QString email;
    QString userId;
    QDateTime parkedAt;
};

/// What the agent's `status` says about the workstation (issue 14, docs/agent-api.md): its device
/// class, the active clinician's shift PIN, the parked clinicians, and whether the desktop is locked.
struct WorkstationStatus
{
    bool signedIn = false;
    QString email;           // the active clinician; empty when nobody is active
    QString signedOutReason; // why the last session ended (an error code name), as in `signed-out`
    QString lastError;       // the agent's last error: for session_expired, the server's words
    QString deviceClass;
    QString workstationId;
    bool pinSet = false;
    QDateTime pinValidUntil;
    bool locked = false;
    std::vector<ParkedAccount> parked;

    bool isSharedWorkstation() const { return deviceClass == QLatin1String("shared_workstation"); }
    /// Nobody is active, but clinicians wait to resume with their PIN: the switch-user screen.
    bool wantsSwitchUser() const { return !signedIn && !parked.empty(); }
};

/// Reads the workstation fields of a `status` reply payload (absent fields keep their defaults:
/// an older agent is a personal device with nobody parked).
[[nodiscard]] Result<WorkstationStatus> workstationStatusFromPayload(QByteArrayView payload);

} // namespace ehrs::app
