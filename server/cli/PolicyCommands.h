// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "config/ServerConfig.h"

#include <QMap>
#include <QString>
#include <QStringList>

namespace ehrs::server::cli {

/// `policy set|unset|show|list` and `user groups`: the session policies IT sets per group and per
/// device class (docs/workstation-policy.md). `options` holds the command's flags by name
/// ("group", "device-class", "idle-timeout", "absolute-lifetime", "end-on-lock", "max-sessions",
/// "on-limit", "mfa-required", "user"); a bad value is refused with a one-line reason and exit
/// code 2 before anything is written.
int policy(const ServerConfig& config, const QString& action, const QMap<QString, QString>& options);
/// `user groups EMAIL a,b,...` (empty string: none): sets the groups and applies the policies again.
int userGroups(const ServerConfig& config, const QString& email, const QString& groups);
/// The names of policy()'s options that take a value.
QStringList policyOptionNames();

} // namespace ehrs::server::cli
