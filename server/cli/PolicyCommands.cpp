// SPDX-License-Identifier: Apache-2.0
#include "PolicyCommands.h"

#include "Commands.h"
#include "app/ServerApp.h"
#include "cache/RevocationFeed.h"
#include "sessions/EventHub.h"
#include "wiring/ServiceBundle.h"

#include <QRegularExpression>
#include <cstdio>

namespace ehrs::server::cli {
namespace {
constexpr int kUsage = 2;

int refuse(const QString& message)
{
    std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(message));
    return kUsage;
}

int failWith(const QString& message)
{
    std::fprintf(stderr, "ehr-sessions-server: %s\n", qPrintable(message));
    return 1;
}

AuditActor cliActor()
{
    return AuditActor{{}, {}, QStringLiteral("local"), QStringLiteral("ehr-sessions-server cli")};
}

bool isDefault(const QString& v)
{
    return v == u"default" || v == u"unset";
}

/// "900", "900s", "15m", "12h", "7d" -> seconds; 1 s .. 366 days.
Result<int> durationOf(const QString& option, const QString& text)
{
    static const QRegularExpression re(QStringLiteral("^(\\d{1,9})([smhd]?)$"));
    const auto m = re.match(text.trimmed().toLower());
    if (!m.hasMatch())
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("--%1: '%2' is not a duration (seconds, or e.g. 15m, 12h, 7d)").arg(option, text));
    qint64 n = m.captured(1).toLongLong();
    const QString unit = m.captured(2);
    n *= unit == u"m" ? 60 : unit == u"h" ? 3600 : unit == u"d" ? 86400 : 1;
    if (n < 1 || n > 366LL * 86400)
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("--%1: %2 is out of range (1 second to 366 days)").arg(option, text));
    return int(n);
}

Result<bool> yesNoOf(const QString& option, const QString& text)
{
    const QString t = text.trimmed().toLower();
    if (t == u"yes" || t == u"true" || t == u"on" || t == u"1")
        return true;
    if (t == u"no" || t == u"false" || t == u"off" || t == u"0")
        return false;
    return fail(ErrorCode::InvalidRequest,
                QStringLiteral("--%1: use yes or no (not '%2')").arg(option, text));
}

/// The rule's scope from --group / --device-class (exactly one).
Result<PolicyRule> scopeOf(const QMap<QString, QString>& o)
{
    const bool group = o.contains(QStringLiteral("group"));
    const bool device = o.contains(QStringLiteral("device-class"));
    if (group == device)
        return fail(
            ErrorCode::InvalidRequest,
            QStringLiteral("name exactly one of --group NAME or --device-class personal|shared_workstation"));
    PolicyRule r;
    if (group) {
        r.scope = PolicyRule::Scope::Group;
        r.name = o.value(QStringLiteral("group")).trimmed().toLower();
        if (!PolicyRule::isValidGroup(r.name))
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral(
                            "--group: '%1' is not a group name (lower-case letters, digits, '.', '_', '-')")
                            .arg(o.value(QStringLiteral("group"))));
    } else {
        r.scope = PolicyRule::Scope::DeviceClass;
        r.name = o.value(QStringLiteral("device-class")).trimmed();
        if (!deviceclass::isKnown(r.name))
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("--device-class: '%1' is neither personal nor shared_workstation")
                            .arg(r.name));
    }
    return r;
}

/// Applies the settings of `o` to `r` ("default" clears one).
Result<void> applySettings(PolicyRule& r, const QMap<QString, QString>& o)
{
    // One setting: absent (kept), "default" (cleared) or a value `parse` checks.
    auto setting = [&o](const char* name, auto& field, auto parse) -> Result<void> {
        const QString key = QLatin1String(name);
        if (!o.contains(key))
            return {};
        if (isDefault(o.value(key))) {
            field.reset();
            return {};
        }
        auto v = parse(key, o.value(key));
        if (!v)
            return fail(v.error());
        field = *v;
        return {};
    };
    auto duration = [&](const char* name, std::optional<int>& field) {
        return setting(name, field, durationOf);
    };
    auto yesNo = [&](const char* name, std::optional<bool>& field) { return setting(name, field, yesNoOf); };
    if (auto e = duration("idle-timeout", r.idleTimeoutSeconds); !e)
        return e;
    if (auto e = duration("absolute-lifetime", r.absoluteLifetimeSeconds); !e)
        return e;
    if (auto e = yesNo("end-on-lock", r.endOnLock); !e)
        return e;
    if (auto e = yesNo("mfa-required", r.mfaRequired); !e)
        return e;
    if (auto e = duration("shift-window", r.shiftWindowSeconds); !e)
        return e;
    if (o.contains(QStringLiteral("pin-max-failures"))) {
        const QString v = o.value(QStringLiteral("pin-max-failures")).trimmed();
        bool ok = false;
        const int n = v.toInt(&ok);
        if (isDefault(v))
            r.pinMaxFailures.reset();
        else if (!ok || n < 1 || n > 10)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("--pin-max-failures: '%1' is not a number from 1 to 10").arg(v));
        else
            r.pinMaxFailures = n;
    }
    if (o.contains(QStringLiteral("max-sessions"))) {
        const QString v = o.value(QStringLiteral("max-sessions")).trimmed();
        bool ok = false;
        const int n = v.toInt(&ok);
        if (isDefault(v))
            r.maxSessions.reset();
        else if (!ok || n < 0 || n > 1000)
            return fail(
                ErrorCode::InvalidRequest,
                QStringLiteral("--max-sessions: '%1' is not a number from 0 (no limit) to 1000").arg(v));
        else
            r.maxSessions = n;
    }
    if (o.contains(QStringLiteral("on-limit"))) {
        const QString v = o.value(QStringLiteral("on-limit")).trimmed();
        if (isDefault(v))
            r.onLimit.reset();
        else if (v == u"end_oldest")
            r.onLimit = OnSessionLimit::EndOldest;
        else if (v == u"refuse")
            r.onLimit = OnSessionLimit::Refuse;
        else
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("--on-limit: '%1' is neither end_oldest nor refuse").arg(v));
    }
    return {};
}

QString yesNo(const std::optional<bool>& v)
{
    return v ? (*v ? QStringLiteral("yes") : QStringLiteral("no")) : QStringLiteral("-");
}

QString number(const std::optional<int>& v)
{
    return v ? QString::number(*v) : QStringLiteral("-");
}

QString ruleLine(const PolicyRule& r)
{
    return QStringLiteral(
               "%1: idle-timeout=%2 absolute-lifetime=%3 end-on-lock=%4 max-sessions=%5 on-limit=%6 "
               "mfa-required=%7 shift-window=%8 pin-max-failures=%9")
        .arg(r.scopeText(), number(r.idleTimeoutSeconds), number(r.absoluteLifetimeSeconds),
             yesNo(r.endOnLock), number(r.maxSessions),
             r.onLimit ? (*r.onLimit == OnSessionLimit::Refuse ? QStringLiteral("refuse")
                                                               : QStringLiteral("end_oldest"))
                       : QStringLiteral("-"),
             yesNo(r.mfaRequired), number(r.shiftWindowSeconds), number(r.pinMaxFailures));
}

/// Re-resolves every live session and tells the running servers (Redis: at once; without Redis
/// the event streams find the rows at their next check).
Result<int> reapply(ServiceBundle& services)
{
    auto users = services.service.reapplyPolicies(cliActor());
    if (!users)
        return fail(users.error());
    QList<KeyValueStore::Write> wakeUps;
    for (const QString& u : *users)
        wakeUps.append({RevocationFeed::kChannel, EventHub::userMessage(u), 0, true});
    if (!wakeUps.isEmpty())
        (void)services.store.apply(wakeUps); // best effort: streams also look on their own
    return int(users->size());
}
} // namespace

QStringList policyOptionNames()
{
    return {
        QStringLiteral("group"),        QStringLiteral("device-class"), QStringLiteral("absolute-lifetime"),
        QStringLiteral("end-on-lock"),  QStringLiteral("max-sessions"), QStringLiteral("on-limit"),
        QStringLiteral("mfa-required"), QStringLiteral("user"),         QStringLiteral("shift-window"),
        QStringLiteral("pin-max-failures")};
}

int policy(const ServerConfig& config, const QString& action, const QMap<QString, QString>& options)
{
    if (action == u"list") {
        std::unique_ptr<SharedState> shared;
        auto services = openServices(shared, config);
        if (!services)
            return failWith(services.error().message);
        PolicyStore store(*(*services)->db);
        auto rules = store.all();
        if (!rules)
            return failWith(rules.error().message);
        std::printf(
            "defaults: idle-timeout=%d absolute-lifetime=%d end-on-lock=no max-sessions=0 mfa-required=no "
            "shift-window=43200 pin-max-failures=3\n",
            config.idleTimeout, config.refreshTokenTtl);
        for (const PolicyRule& r : *rules)
            std::printf("%s\n", qPrintable(ruleLine(r)));
        return 0;
    }
    if (action == u"show" && options.contains(QStringLiteral("user"))) {
        // What a sign-in of this user would get (on the given device class; default personal).
        const QString claimed = options.value(QStringLiteral("device-class"));
        if (!claimed.isEmpty() && !deviceclass::isKnown(claimed))
            return refuse(QStringLiteral("--device-class: '%1' is neither personal nor shared_workstation")
                              .arg(claimed));
        std::unique_ptr<SharedState> shared;
        auto services = openServices(shared, config);
        if (!services)
            return failWith(services.error().message);
        auto user = (*services)->users.findByEmail(options.value(QStringLiteral("user")));
        if (!user)
            return failWith(user.error().message);
        if (!*user)
            return failWith(QStringLiteral("no user %1").arg(options.value(QStringLiteral("user"))));
        auto p = (*services)->service.policyFor((*user)->id, claimed, RequestInfo{});
        if (!p)
            return failWith(p.error().message);
        std::printf("%s\n", p->toJson().dump().c_str());
        return 0;
    }
    if (action != u"set" && action != u"unset" && action != u"show")
        return refuse(QStringLiteral("policy: use set, unset, show or list (not '%1')").arg(action));
    auto rule = scopeOf(options);
    if (!rule)
        return refuse(rule.error().message);
    if (action == u"set") {
        // Every value is checked before anything is opened or written.
        PolicyRule probe = *rule;
        if (auto e = applySettings(probe, options); !e)
            return refuse(e.error().message);
        bool any = false;
        for (const char* k :
             {"idle-timeout", "absolute-lifetime", "end-on-lock", "max-sessions", "on-limit", "mfa-required",
              "shift-window", "pin-max-failures"})
            any = any || options.contains(QLatin1String(k));
        if (!any)
            return refuse(
                QStringLiteral("policy set: give at least one of --idle-timeout, --absolute-lifetime, "
                               "--end-on-lock, --max-sessions, --on-limit, --mfa-required, --shift-window, "
                               "--pin-max-failures"));
    }
    std::unique_ptr<SharedState> shared;
    auto services = openServices(shared, config);
    if (!services)
        return failWith(services.error().message);
    PolicyStore store(*(*services)->db);
    auto existing = store.find(rule->scope, rule->name);
    if (!existing)
        return failWith(existing.error().message);
    if (action == u"show") {
        if (!*existing)
            return failWith(QStringLiteral("no policy for %1").arg(rule->scopeText()));
        std::printf("%s\n", qPrintable(ruleLine(**existing)));
        return 0;
    }
    if (action == u"unset") {
        auto removed = store.remove(rule->scope, rule->name);
        if (!removed)
            return failWith(removed.error().message);
        if (!*removed)
            return failWith(QStringLiteral("no policy for %1; nothing changed").arg(rule->scopeText()));
        (*services)->audit.record(QStringLiteral("policy_unset"), cliActor(),
                                  {{"scope", PolicyRule::scopeKind(rule->scope).toStdString()},
                                   {"name", rule->name.toStdString()}});
        auto n = reapply(**services);
        if (!n)
            return failWith(n.error().message);
        std::printf("removed the policy for %s; sessions of %d user(s) updated\n",
                    qPrintable(rule->scopeText()), *n);
        return 0;
    }
    PolicyRule next = *existing ? **existing : *rule;
    (void)applySettings(next, options); // checked above
    next.updatedAt = shared->clock().nowMs();
    if (next.isEmpty()) {
        auto removed = store.remove(next.scope, next.name);
        if (!removed)
            return failWith(removed.error().message);
    } else if (auto r = store.put(next); !r) {
        return failWith(r.error().message);
    }
    (*services)->audit.record(QStringLiteral("policy_set"), cliActor(),
                              {{"scope", PolicyRule::scopeKind(next.scope).toStdString()},
                               {"name", next.name.toStdString()},
                               {"rule", ruleLine(next).toStdString()}});
    auto n = reapply(**services);
    if (!n)
        return failWith(n.error().message);
    std::printf("%s\nsessions of %d user(s) updated\n", qPrintable(ruleLine(next)), *n);
    return 0;
}

int userGroups(const ServerConfig& config, const QString& email, const QString& groups)
{
    std::unique_ptr<SharedState> shared;
    auto services = openServices(shared, config);
    if (!services)
        return failWith(services.error().message);
    auto user = (*services)->users.findByEmail(email);
    if (!user)
        return failWith(user.error().message);
    if (!*user)
        return failWith(QStringLiteral("no user %1").arg(email));
    PolicyStore store(*(*services)->db);
    const QStringList list = groups.split(u',', Qt::SkipEmptyParts);
    if (auto r = store.setGroups((*user)->id, list, shared->clock().nowMs()); !r)
        return r.error().code == ErrorCode::InvalidRequest ? refuse(r.error().message)
                                                           : failWith(r.error().message);
    (*services)->audit.record(QStringLiteral("user_groups_set"), cliActor(),
                              {{"user", (*user)->id.toStdString()}, {"groups", groups.toStdString()}});
    auto n = reapply(**services);
    if (!n)
        return failWith(n.error().message);
    auto now = store.groupsOf((*user)->id);
    std::printf("groups of %s: %s\n", qPrintable((*user)->email),
                now && !now->isEmpty() ? qPrintable(now->join(u',')) : "(none)");
    return 0;
}

} // namespace ehrs::server::cli
