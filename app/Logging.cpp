// SPDX-License-Identifier: Apache-2.0
#include "Logging.h"

Q_LOGGING_CATEGORY(lcApp, "ehrs.app")
