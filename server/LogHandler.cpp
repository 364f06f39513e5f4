// SPDX-License-Identifier: Apache-2.0
#include "LogHandler.h"

#include <QDateTime>
#include <QtGlobal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>
#include <utility>

namespace ehrs::server {
namespace {
thread_local QByteArray t_requestId;
thread_local LogFieldList t_fields;
LogOutput g_output = LogOutput::Text;

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

// syslog(3) levels, which journald's PRIORITY uses.
int priority(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return 7;
    case QtInfoMsg:
        return 6;
    case QtWarningMsg:
        return 4;
    case QtCriticalMsg:
        return 3;
    case QtFatalMsg:
        return 2;
    }
    return 6;
}

// "USER_ID" -> "userId".
std::string jsonKey(const QByteArray& field)
{
    std::string key;
    bool upper = false;
    for (char c : field) {
        if (c == '_') {
            upper = !key.empty();
            continue;
        }
        const char lower = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
        key += upper ? char(lower >= 'a' && lower <= 'z' ? lower - 'a' + 'A' : lower) : lower;
        upper = false;
    }
    return key;
}

std::string textLine(QtMsgType type, const char* category, const QString& message)
{
    std::string text = std::string(category) + ": ";
    if (type >= QtWarningMsg && type != QtInfoMsg)
        text += std::string(levelName(type)) + ": ";
    if (!t_requestId.isEmpty())
        text += '[' + t_requestId.toStdString() + "] ";
    text += message.toStdString() + '\n';
    return text;
}

bool sendToJournal(QtMsgType type, const char* category, const QString& message)
{
    const std::vector<QByteArray> fields = journalFields(type, category, message, t_requestId, t_fields);
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (const QByteArray& f : fields)
        iov.push_back({const_cast<char*>(f.constData()), size_t(f.size())});
    return sd_journal_sendv(iov.data(), int(iov.size())) >= 0;
}

void write(QtMsgType type, const QMessageLogContext& context, const QString& message)
{
    const char* category = context.category ? context.category : "default";
    std::string text;
    if (g_output == LogOutput::Journal && sendToJournal(type, category, message)) {
        // written
    } else if (g_output == LogOutput::Json) {
        nlohmann::json line{{"time", QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toStdString()},
                            {"level", levelName(type)},
                            {"category", category},
                            {"message", message.toStdString()}};
        if (!t_requestId.isEmpty())
            line["requestId"] = t_requestId.toStdString();
        for (const auto& [name, value] : t_fields) {
            if (!value.isEmpty())
                line[jsonKey(name)] = value.toStdString();
        }
        text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
    } else {
        text = textLine(type, category, message);
    }
    if (!text.empty()) {
        std::fwrite(text.data(), 1, text.size(), stderr);
        std::fflush(stderr);
    }
    if (type == QtFatalMsg)
        std::abort();
}
} // namespace

bool stderrIsJournal()
{
    const QByteArray stream = qgetenv("JOURNAL_STREAM");
    const qsizetype colon = stream.indexOf(':');
    if (colon <= 0)
        return false;
    bool okDev = false, okIno = false;
    const qulonglong dev = stream.left(colon).toULongLong(&okDev);
    const qulonglong ino = stream.mid(colon + 1).toULongLong(&okIno);
    struct stat st = {};
    if (!okDev || !okIno || fstat(STDERR_FILENO, &st) != 0)
        return false;
    return qulonglong(st.st_dev) == dev && qulonglong(st.st_ino) == ino;
}

LogOutput chooseLogOutput(const QString& logFormat)
{
    if (logFormat == u"json")
        return LogOutput::Json;
    if (logFormat == u"journal")
        return LogOutput::Journal;
    if (logFormat == u"text")
        return LogOutput::Text;
    return stderrIsJournal() ? LogOutput::Journal : LogOutput::Text;
}

std::vector<QByteArray> journalFields(QtMsgType type, const char* category, const QString& message,
                                      const QByteArray& requestId, const LogFieldList& fields)
{
    std::vector<QByteArray> out;
    out.reserve(5 + fields.size());
    out.push_back("MESSAGE=" + message.toUtf8());
    out.push_back("PRIORITY=" + QByteArray::number(priority(type)));
    out.push_back("SYSLOG_IDENTIFIER=ehr-sessions-server");
    out.push_back(QByteArray("EHRS_CATEGORY=") + (category ? category : "default"));
    if (!requestId.isEmpty())
        out.push_back("REQUEST_ID=" + requestId);
    for (const auto& [name, value] : fields) {
        if (!value.isEmpty())
            out.push_back(name + '=' + value);
    }
    return out;
}

void installLogHandler(LogOutput output)
{
    // sd_journal_sendv() drops lines silently when no journald listens (a container without
    // systemd): text on stderr then, so that nothing is lost.
    struct stat st = {};
    if (output == LogOutput::Journal &&
        (stat("/run/systemd/journal/socket", &st) != 0 || !S_ISSOCK(st.st_mode)))
        output = LogOutput::Text;
    g_output = output;
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

LogFields::LogFields(LogFieldList fields) : m_previous(std::exchange(t_fields, std::move(fields))) {}

LogFields::~LogFields()
{
    t_fields = std::move(m_previous);
}

const LogFieldList& LogFields::current()
{
    return t_fields;
}

} // namespace ehrs::server
