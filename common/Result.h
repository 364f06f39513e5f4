// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QString>

#include <string_view>
#include <tl/expected.hpp>

namespace ehrs {

/// What went wrong, shared by the server, the agent and the app. The server maps each code to an
/// HTTP status in exactly one place (server/http/ErrorMapping.cpp); clients map it back from the
/// `error` field of a JSON error body.
enum class ErrorCode {
    InvalidRequest,     // malformed or semantically wrong input (400)
    Unauthenticated,    // missing, invalid or expired credentials (401)
    Forbidden,          // authenticated but not allowed (403)
    NotFound,           // no such resource, or not the caller's (404)
    MethodNotAllowed,   // (405)
    Conflict,           // state conflict, e.g. duplicate (409)
    PayloadTooLarge,    // (413)
    RateLimited,        // (429)
    Unavailable,        // a dependency is down; try again later (503)
    SessionRevoked,     // the session was ended (401 with a specific error)
    RefreshReused,      // an already rotated refresh token came back: theft suspected (401)
    SessionExpired,     // absolute or idle lifetime over (401)
    NetworkError,       // client side: could not reach the peer
    StorageError,       // client side: keychain / local storage failure
    Internal,           // a bug or an unexpected failure (500); never for bad input
};

/// Stable machine-readable name of a code, as it appears in `{"error": ...}` bodies.
std::string_view errorCodeName(ErrorCode code);
/// Inverse of errorCodeName(); unknown names map to Internal.
ErrorCode errorCodeFromName(std::string_view name);

/// An error: a code for programs and a message for people. Messages never contain secrets.
struct Error
{
    ErrorCode code = ErrorCode::Internal;
    QString message;
    /// Seconds after which a retry may succeed (429, 503); 0 when not applicable.
    int retryAfterSeconds = 0;
    /// A refused sign-in: wrong passwords still allowed before sign-in pauses (said only in the
    /// last few); -1 when not said.
    int attemptsLeft = -1;
    /// A paused sign-in: what IT says to do (the server's LOCKOUT_HELP_TEXT); empty when unset.
    QString helpText;
    /// The wire name of the error when it is more specific than `code`'s (the server's
    /// `invalid_pin`, `full_sign_in_required`, `session_parked`; the agent's `no_active_clinician`);
    /// empty otherwise. Kept from the server's body through the agent to its clients.
    QString name;
};

template <typename T>
using Result = tl::expected<T, Error>;

/// Shorthand for the failure side: `return fail(ErrorCode::NotFound, u"no such session"_s);`
inline tl::unexpected<Error> fail(ErrorCode code, QString message, int retryAfterSeconds = 0)
{
    return tl::unexpected<Error>(Error{code, std::move(message), retryAfterSeconds});
}
inline tl::unexpected<Error> fail(Error error)
{
    return tl::unexpected<Error>(std::move(error));
}

} // namespace ehrs
