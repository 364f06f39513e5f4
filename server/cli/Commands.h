// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "config/ServerConfig.h"

#include <QString>
#include <memory>

namespace ehrs::server {
class ServiceBundle;
class SharedState;
} // namespace ehrs::server

namespace ehrs::server::cli {

/// Migrates the database, then opens the shared state (`shared`) and one thread's services: what
/// every one-shot command works with.
[[nodiscard]] Result<std::unique_ptr<ServiceBundle>> openServices(std::unique_ptr<SharedState>& shared,
                                                                  const ServerConfig& config);

/// The one-shot sub-commands of ehr-sessions-server. Each returns a process exit code and prints
/// a one-line reason on stderr when it fails. Passwords come from a no-echo prompt on a terminal,
/// or from standard input (`--password-stdin`, or whenever stdin is not a terminal); never argv.
int migrate(const ServerConfig& config);
/// `groups`: comma-separated group names (users.user_groups), for the per-group session policies.
int userAdd(const ServerConfig& config, const QString& email, const QString& name, bool admin,
            bool passwordStdin, const QString& groups = {});
/// Imports users from a CSV file ("-": standard input) with their existing password hashes
/// (UserImport.h): every line checked first, then all in one transaction or none; `dryRun`
/// checks and counts without writing. Bad lines are named by number.
int userImport(const ServerConfig& config, const QString& path, bool dryRun);
int userPasswd(const ServerConfig& config, const QString& email, bool passwordStdin);
int userDisable(const ServerConfig& config, const QString& email);
/// Turns the user's 2FA off (secret, pending enrolment, backup codes and failure count cleared),
/// ends all the user's sessions and audits mfa_reset (actor: cli).
int userMfaReset(const ServerConfig& config, const QString& email);
int revokeUserSessions(const ServerConfig& config, const QString& emailOrId);
int cleanup(const ServerConfig& config);
int rotateKeys(const ServerConfig& config);
int serve(const ServerConfig& config);

} // namespace ehrs::server::cli
