// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>
#include <optional>

namespace ehrs::agent {

/// A listening socket handed over by systemd socket activation (ehr-sessions-agent.socket).
struct ActivatedSocket
{
    int fd = -1;
    QString path; // the socket file it is bound to
};

/// The listening socket systemd passed (the sd_listen_fds() protocol: LISTEN_PID is this process,
/// LISTEN_FDS sockets from fd 3 on), or nullopt when the agent was started without one (by hand,
/// by XDG autostart or by the app). An error when the passed descriptor is not a listening Unix
/// stream socket. Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES either way, like
/// sd_listen_fds(1), and marks the descriptors close-on-exec.
[[nodiscard]] std::optional<Result<ActivatedSocket>> takeActivatedSocket();

} // namespace ehrs::agent
