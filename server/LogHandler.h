// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>
#include <utility>
#include <vector>

namespace ehrs::server {

/// Where log lines go. Text: "category: [request-id] message" lines on stderr. Json: one JSON
/// object per line on stderr ({"time","level","category","requestId","message"} plus the scope's
/// fields, LOG_FORMAT=json). Journal: one journald entry per line with structured fields
/// (journalFields()), through sd_journal_sendv(); a line the journal refuses goes to stderr as text.
enum class LogOutput {
    Text,
    Json,
    Journal,
};

/// Structured fields of a log line (journal field names: upper case, digits, '_').
using LogFieldList = std::vector<std::pair<QByteArray, QByteArray>>;

/// LOG_FORMAT's value to an output: "text", "json", "journal", or "auto" (the default): the
/// journal when stderr is connected to journald, as under systemd (stderrIsJournal()), else text.
LogOutput chooseLogOutput(const QString& logFormat);

/// True when stderr is the stream systemd connected to journald: JOURNAL_STREAM names the
/// device and inode of stderr (systemd.exec(5), "$JOURNAL_STREAM").
bool stderrIsJournal();

/// Installs the server's log format; Journal where no journald socket exists falls back to Text. The request
/// id is the one of the request the logging thread is handling, if any. Messages never carry secrets: the
/// code that logs takes care of that.
void installLogHandler(LogOutput output);

/// The journal entry of one log line: MESSAGE, PRIORITY (syslog level: debug 7, info 6,
/// warning 4, critical 3, fatal 2), SYSLOG_IDENTIFIER=ehr-sessions-server, EHRS_CATEGORY,
/// REQUEST_ID when a request is in scope, then `fields` (empty values left out). Each item is
/// "NAME=value", as sd_journal_sendv() takes them.
std::vector<QByteArray> journalFields(QtMsgType type, const char* category, const QString& message,
                                      const QByteArray& requestId, const LogFieldList& fields);

/// Marks the request whose work runs on this thread while the scope lives, so that its log lines
/// carry the request's id; the previous mark comes back at the end. One worker thread interleaves
/// many requests, so every piece of a request's work (the handler, each continuation after a
/// database or hashing reply) opens its own scope: the id follows the request, not the thread.
class RequestScope
{
public:
    explicit RequestScope(const QByteArray& requestId);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

    /// The id of the request whose work is running on this thread, or empty.
    static const QByteArray& current();

private:
    QByteArray m_previous;
};

/// Adds structured fields (EVENT, USER_ID, SESSION_ID of an audit line) to the log lines this
/// thread writes while the scope lives: journal fields, JSON keys (lowerCamel: "userId").
/// Never a secret: these are ids and event names.
class LogFields
{
public:
    explicit LogFields(LogFieldList fields);
    ~LogFields();
    LogFields(const LogFields&) = delete;
    LogFields& operator=(const LogFields&) = delete;

    /// The fields in scope on this thread.
    static const LogFieldList& current();

private:
    LogFieldList m_previous;
};

} // namespace ehrs::server
