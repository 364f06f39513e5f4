// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the libFuzzer targets: a property check that aborts with a message (libFuzzer then
// saves the input as a crash), and a Qt message handler that keeps the warnings the code under
// test prints for bad input out of the fuzzer's output (EHRS_FUZZ_VERBOSE=1 shows them).

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <cstdio>
#include <cstdlib>

namespace ehrs::fuzz {

[[noreturn]] inline void checkFailed(const char* file, int line, const char* condition, const QString& detail)
{
    std::fprintf(stderr, "\n==FUZZ_CHECK failed== %s:%d: %s\n  %s\n", file, line, condition,
                 detail.toUtf8().constData());
    std::fflush(stderr);
    std::abort();
}

inline void quietQtMessages()
{
    if (qEnvironmentVariableIsSet("EHRS_FUZZ_VERBOSE"))
        return;
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& message) {
        if (type == QtFatalMsg) {
            std::fprintf(stderr, "qFatal: %s\n", message.toUtf8().constData());
            std::abort();
        }
    });
}

/// Printable form of a value for a failure message: at most 200 characters, escapes shown.
inline QString shown(const QString& value)
{
    QString out;
    for (const QChar c : value.left(200)) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c.isSurrogate())
            out += QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QLatin1Char('0'));
        else
            out += c;
    }
    if (value.size() > 200)
        out += QStringLiteral("... (%1 characters)").arg(value.size());
    return out;
}

inline QString shown(const QByteArray& value)
{
    return shown(QString::fromUtf8(value));
}

} // namespace ehrs::fuzz

/// A property of the code under test; `detail` (a QString) says what was seen.
#define FUZZ_CHECK(condition, detail)                                                                        \
    do {                                                                                                     \
        if (!(condition))                                                                                    \
            ::ehrs::fuzz::checkFailed(__FILE__, __LINE__, #condition, (detail));                            \
    } while (false)
