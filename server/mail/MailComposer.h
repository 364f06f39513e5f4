// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "mail/SmtpSender.h"
#include "sessions/SessionEvents.h"

#include <optional>

namespace ehrs::server {

/// Turns an account's audit event into the email that tells its holder about it: a sign-in on a
/// new device (login_success with newDevice), a suspicious sign-in (suspicious_login, with its
/// reasons in words), a password or two-step change and a refresh-token reuse detection. Each
/// says what happened, on which device, where and when, and how to end that session (the
/// ehr-sessions app's Active Sessions view). Never a token, a code or a link that signs anyone in.
class MailComposer
{
public:
    /// The mail for `row` to `email`, or nullopt when the event sends none.
    static std::optional<OutgoingMail> compose(const AccountEventRow& row, const QString& email,
                                               const QString& name);
    /// The audit events compose() may answer.
    static bool mayNotify(const QString& auditEvent);
};

} // namespace ehrs::server
