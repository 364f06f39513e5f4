// SPDX-License-Identifier: Apache-2.0
#include "WorkstationCommands.h"

#include "app/ServerApp.h"
#include "wiring/ServiceBundle.h"
#include "workstation/WorkstationService.h"

#include <QDateTime>
#include <QRegularExpression>
#include <cstdio>

namespace ehrs::server::cli {
namespace {
QString isoOf(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate);
}

/// "8h", "2d", "90m", "30s" ago, or an ISO-8601 time; empty: everything.
std::optional<qint64> sinceOf(const QString& text, qint64 nowMs)
{
    if (text.isEmpty())
        return 0;
    static const QRegularExpression ago(QStringLiteral("^(\\d{1,6})([smhd])$"));
    if (const auto m = ago.match(text.trimmed().toLower()); m.hasMatch()) {
        const QString unit = m.captured(2);
        const qint64 s = m.captured(1).toLongLong() * (unit == u"m"   ? 60
                                                       : unit == u"h" ? 3600
                                                       : unit == u"d" ? 86400
                                                                      : 1);
        return nowMs - s * 1000;
    }
    const QDateTime t = QDateTime::fromString(text.trimmed(), Qt::ISODate);
    if (!t.isValid())
        return std::nullopt;
    return t.toMSecsSinceEpoch();
}
} // namespace

int workstationHandovers(const ServerConfig& config, const QString& workstationId, const QString& since)
{
    if (!WorkstationService::isValidWorkstationId(workstationId)) {
        std::fprintf(stderr, "ehr-sessions-server: --workstation: give the workstation's identifier (8 to 64 "
                             "letters, digits, '.', '_', ':', '-')\n");
        return 2;
    }
    const auto from = sinceOf(since, QDateTime::currentMSecsSinceEpoch());
    if (!from) {
        std::fprintf(stderr,
                     "ehr-sessions-server: --since: '%s' is neither a time (ISO 8601) nor e.g. 8h, 2d\n",
                     qPrintable(since));
        return 2;
    }
    if (auto m = migrateDatabase(config); !m) {
        std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(m.error().message));
        return 1;
    }
    auto shared = SharedState::create(config);
    if (!shared) {
        std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(shared.error().message));
        return 1;
    }
    auto services = ServiceBundle::create(**shared, /*requestPath=*/false);
    if (!services) {
        std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(services.error().message));
        return 1;
    }
    auto rows = (*services)->workstation.handovers(workstationId, *from);
    if (!rows) {
        std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(rows.error().message));
        return 1;
    }
    std::printf("workstation %s: %zu hand-over(s)\n", qPrintable(workstationId), rows->size());
    for (const auto& h : *rows)
        std::printf("%s  %s  %s  session %s  (%s)\n", qPrintable(isoOf(h.fromMs)),
                    h.toMs ? qPrintable(isoOf(h.toMs)) : "active              ",
                    qPrintable(h.email.isEmpty() ? h.userId : h.email), qPrintable(h.sessionId),
                    h.how == u"resumed" ? "resumed with PIN" : "signed in");
    return 0;
}

} // namespace ehrs::server::cli
