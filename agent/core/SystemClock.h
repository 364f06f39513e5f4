// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"

namespace ehrs::agent {

/// The real clocks of the machine.
class SystemClock final : public Clock
{
public:
    qint64 elapsedMs() const override;
    qint64 awakeMs() const override;
    QDateTime now() const override;
};

} // namespace ehrs::agent
