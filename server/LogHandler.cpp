// SPDX-License-Identifier: Apache-2.0
#include "LogHandler.h"

#include <QDateTime>
#include <QtGlobal>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

namespace ehrs::server {
namespace {
thread_local QByteArray t_requestId;
bool g_json = false;

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

void write(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    const char* category = context.category ? context.category : "default";
    std::string text;
    if (g_json) {
        nlohmann::json line{{"time", QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toStdString()},
                            {"level", levelName(type)},
                            {"category", category},
                            {"message", message.toStdString()}};
        if (!t_requestId.isEmpty())
            line["requestId"] = t_requestId.toStdString();
        text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
    } else {
        text = std::string(category) + ": ";
        if (type >= QtWarningMsg && type != QtInfoMsg)
            text += std::string(levelName(type)) + ": ";
        if (!t_requestId.isEmpty())
            text += '[' + t_requestId.toStdString() + "] ";
        text += message.toStdString() + '\n';
    }
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    if (type == QtFatalMsg)
        std::abort();
}
} // namespace

void installLogHandler(bool json)
{
    g_json = json;
    qInstallMessageHandler(write);
}

RequestScope::RequestScope(const QByteArray& requestId) : m_previous(std::exchange(t_requestId, requestId)) {}

RequestScope::~RequestScope()
{
    t_requestId = std::move(m_previous);
}

const QByteArray& RequestScope::current()
{
    return t_requestId;
}

} // namespace ehrs::server
