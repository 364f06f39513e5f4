// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>
#include <QtGlobal>

namespace ehrs::agent {

/// The uid of the process at the other end of a connected local socket (SO_PEERCRED on Linux),
/// as the kernel recorded it at connect time: it cannot be forged by the peer.
[[nodiscard]] Result<uint> peerUid(qintptr socketDescriptor);
/// The effective uid of this process.
uint currentUid();
/// Creates `dir` with mode 0700 if needed and checks that it is a real directory owned by us with
/// no access for anyone else; tightens the mode of our own directory if it was looser.
[[nodiscard]] Result<void> preparePrivateDirectory(const QString& dir);
/// Restricts the socket file itself to its owner (defence in depth: the directory already is).
[[nodiscard]] Result<void> restrictToOwner(const QString& path);

} // namespace ehrs::agent
