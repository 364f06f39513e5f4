// SPDX-License-Identifier: Apache-2.0
#include "ClientErrors.h"

#include <QCoreApplication>

namespace ehrs {
namespace {
QString tr(const char* text)
{
    return QCoreApplication::translate("ehrs::ClientErrors", text);
}
} // namespace

bool isSessionEnded(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Unauthenticated:
    case ErrorCode::SessionRevoked:
    case ErrorCode::SessionExpired:
    case ErrorCode::RefreshReused:
        return true;
    default:
        return false;
    }
}

QString describeWait(int seconds)
{
    if (seconds <= 1)
        return tr("1 second");
    if (seconds < 120)
        return tr("%1 seconds").arg(seconds);
    const int minutes = (seconds + 59) / 60; // never promise less than the server asked for
    return minutes < 120 ? tr("%1 minutes").arg(minutes) : tr("%1 hours").arg((minutes + 59) / 60);
}

bool isCodeError(const Error& error)
{
    return error.code == ErrorCode::Forbidden && error.message.startsWith(QLatin1String("The code "));
}

QString asSentence(const QString& text)
{
    const QString t = text.trimmed();
    if (t.isEmpty() || t.endsWith(u'.') || t.endsWith(u'!') || t.endsWith(u'?') || t.endsWith(u'…'))
        return t;
    return t + u'.';
}

QString signedOutMessage(const QString& reason)
{
    if (reason == u"session_revoked")
        return tr("Your session was ended from another device. Sign in again to continue.");
    if (reason == u"session_expired")
        return tr("Your session expired. Sign in again to continue.");
    if (reason == u"refresh_token_reused")
        return tr("Your session was ended because its sign-in was used from two places. Sign in again.");
    if (reason == u"logout")
        return tr("You signed out.");
    if (reason == u"ended_on_lock")
        return tr("Your session ended when the workstation was locked, as your organisation's policy asks. "
                  "Sign in again to continue.");
    if (reason.isEmpty())
        return {};
    return tr("You were signed out. Sign in again to continue.");
}

QString signedOutMessage(const QString& reason, const QString& serverMessage)
{
    // The server's expiry message says which limit ended the session (idle or absolute); the
    // generic sentence does not. Its "; sign in again" is replaced by the clients' own sentence.
    if (reason == u"session_expired" && !serverMessage.trimmed().isEmpty()) {
        QString text = serverMessage.trimmed();
        if (text.startsWith(QLatin1String("signed out")))
            text = text.mid(text.indexOf(u':') + 1).trimmed();
        const qsizetype cut = text.indexOf(QLatin1String("; sign in again"), 0, Qt::CaseInsensitive);
        if (cut > 0)
            text.truncate(cut);
        return asSentence(text) + u' ' + tr("Sign in again to continue.");
    }
    return signedOutMessage(reason);
}

QString describeError(const Error& error)
{
    switch (error.code) {
    case ErrorCode::NetworkError:
        return tr("Cannot reach the server. Check the address and your network connection.");
    case ErrorCode::RateLimited:
        return error.retryAfterSeconds > 0
                   ? tr("Too many attempts. Try again in %1.").arg(describeWait(error.retryAfterSeconds))
                   : tr("Too many attempts. Wait a minute, then try again.");
    case ErrorCode::Forbidden:
        return error.message.isEmpty() ? tr("The password is not correct.") : asSentence(error.message);
    case ErrorCode::SessionRevoked:
        return signedOutMessage(QStringLiteral("session_revoked"));
    case ErrorCode::SessionExpired:
        return signedOutMessage(QStringLiteral("session_expired"), error.message);
    case ErrorCode::RefreshReused:
        return signedOutMessage(QStringLiteral("refresh_token_reused"));
    case ErrorCode::Unavailable:
        return tr("The server is temporarily unavailable. Try again shortly.");
    default:
        return error.message.isEmpty() ? tr("Something went wrong. Try again.") : asSentence(error.message);
    }
}

} // namespace ehrs
