// SPDX-License-Identifier: Apache-2.0
#include "Logging.h"

Q_LOGGING_CATEGORY(lcAgent, "ehrs.agent")
Q_LOGGING_CATEGORY(lcAgentRefresh, "ehrs.agent.refresh")
Q_LOGGING_CATEGORY(lcAgentStorage, "ehrs.agent.storage")
Q_LOGGING_CATEGORY(lcAgentLocalApi, "ehrs.agent.localapi")
