// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Result.h"

#include <QString>

namespace ehrs {

// What the agent and the app tell a person about an error of the server or the agent: one list
// of "the session is over" codes and one set of sentences, so the two clients say the same thing.

/// True for the codes that mean the session is over (revoked, refresh token re-used, expired,
/// or the server no longer accepts it): signing in again is the only way on. Everything else is
/// worth a retry.
bool isSessionEnded(ErrorCode code);
inline bool isSessionEnded(const Error& error)
{
    return isSessionEnded(error.code);
}

/// The sentence shown to a person for an error of the server or the agent.
QString describeError(const Error& error);
/// What to tell a person after the session ended for `reason` (an error code name as in the
/// agent's `signed-out` event: session_revoked, session_expired, refresh_token_reused,
/// unauthorized, ended_on_lock when policy ended it as the screen locked, or logout for the
/// person's own sign-out). Empty for an empty reason.
QString signedOutMessage(const QString& reason);
/// The same, preferring the server's own words where it gave some (the idle timeout's "This
/// session ended after 30 minutes without activity"): `serverMessage` as a sentence plus "Sign in
/// again to continue." for session_expired, signedOutMessage(reason) otherwise.
QString signedOutMessage(const QString& reason, const QString& serverMessage);
/// True when the server refused a second-factor code rather than the password (both are 403;
/// the server's message names the code: "The code is not correct").
bool isCodeError(const Error& error);
/// `text` as a sentence: a full stop added when it ends without one (the server's messages do).
QString asSentence(const QString& text);
/// "45 seconds", "15 minutes": a wait, rounded up so that trying again then works.
QString describeWait(int seconds);

} // namespace ehrs
