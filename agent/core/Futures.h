// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "FutureHelpers.h"

namespace ehrs::agent {
// The helpers live in common/FutureHelpers.h (the app and the IPC client use them too).
using ehrs::deferredFuture;
using ehrs::finishPromise;
using ehrs::readyFuture;
using ehrs::startedPromise;
} // namespace ehrs::agent
