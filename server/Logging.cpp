// SPDX-License-Identifier: Apache-2.0
#include "Logging.h"

Q_LOGGING_CATEGORY(lcServer, "ehrs.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "ehrs.server.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcDb, "ehrs.server.db", QtInfoMsg)
Q_LOGGING_CATEGORY(lcCache, "ehrs.server.cache", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "ehrs.server.auth", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSessions, "ehrs.server.sessions", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAudit, "ehrs.server.audit", QtInfoMsg)
