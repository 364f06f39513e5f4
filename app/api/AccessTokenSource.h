// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QFuture>
#include <QString>

namespace ehrs::app {

/// Where ServerApi gets its bearer tokens: the agent in the app, a fake in tests.
class AccessTokenSource
{
public:
    virtual ~AccessTokenSource() = default;
    /// A currently valid access token. `fresh`: the last one was refused with a 401, so make sure
    /// this one is not that one (the agent refreshes when it is close to expiry).
    virtual QFuture<Result<QString>> accessToken(bool fresh) = 0;
};

} // namespace ehrs::app
