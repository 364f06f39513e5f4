// SPDX-License-Identifier: Apache-2.0
#include "Result.h"

#include <array>
#include <utility>

namespace ehrs {
namespace {
constexpr std::array<std::pair<ErrorCode, std::string_view>, 15> kNames{{
    {ErrorCode::InvalidRequest, "invalid_request"},
    {ErrorCode::Unauthenticated, "unauthorized"},
    {ErrorCode::Forbidden, "forbidden"},
    {ErrorCode::NotFound, "not_found"},
    {ErrorCode::MethodNotAllowed, "method_not_allowed"},
    {ErrorCode::Conflict, "conflict"},
    {ErrorCode::PayloadTooLarge, "payload_too_large"},
    {ErrorCode::RateLimited, "rate_limited"},
    {ErrorCode::Unavailable, "unavailable"},
    {ErrorCode::SessionRevoked, "session_revoked"},
    {ErrorCode::RefreshReused, "refresh_token_reused"},
    {ErrorCode::SessionExpired, "session_expired"},
    {ErrorCode::NetworkError, "network_error"},
    {ErrorCode::StorageError, "storage_error"},
    {ErrorCode::Internal, "internal_error"},
}};
} // namespace

std::string_view errorCodeName(ErrorCode code)
{
    for (const auto& [c, name] : kNames) {
        if (c == code)
            return name;
    }
    return "internal_error";
}

ErrorCode errorCodeFromName(std::string_view name)
{
    for (const auto& [c, n] : kNames) {
        if (n == name)
            return c;
    }
    return ErrorCode::Internal;
}

} // namespace ehrs
