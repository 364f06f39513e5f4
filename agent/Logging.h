// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcAgent)          // ehrs.agent: lifecycle, sign-in state
Q_DECLARE_LOGGING_CATEGORY(lcAgentRefresh)   // ehrs.agent.refresh: scheduling, backoff
Q_DECLARE_LOGGING_CATEGORY(lcAgentStorage)   // ehrs.agent.storage: keychain
Q_DECLARE_LOGGING_CATEGORY(lcAgentLocalApi)  // ehrs.agent.localapi: socket, clients
