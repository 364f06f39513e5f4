// SPDX-License-Identifier: Apache-2.0
#include "JsonLogHandler.h"

#include <QDateTime>
#include <QtGlobal>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ehrs::server {
namespace {
const char* levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "error";
    case QtFatalMsg: return "fatal";
    }
    return "info";
}

void writeJson(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    const nlohmann::json line{{"time", QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toStdString()},
                              {"level", levelName(type)},
                              {"category", context.category ? context.category : "default"},
                              {"message", message.toStdString()}};
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}
} // namespace

void installJsonLogHandler()
{
    qInstallMessageHandler(writeJson);
}

} // namespace ehrs::server
