// SPDX-License-Identifier: Apache-2.0
#include "SessionPolicy.h"

#include <QRegularExpression>

namespace ehrs::server {
namespace {
template <typename T> void keepSmallest(std::optional<T>& best, const std::optional<T>& candidate)
{
    if (candidate && (!best || *candidate < *best))
        best = candidate;
}
} // namespace

bool deviceclass::isKnown(const QString& name)
{
    return name == personal || name == shared;
}

bool PolicyRule::isEmpty() const
{
    return !idleTimeoutSeconds && !absoluteLifetimeSeconds && !endOnLock && !maxSessions && !onLimit &&
           !mfaRequired && !shiftWindowSeconds && !pinMaxFailures;
}

QString PolicyRule::scopeKind(Scope scope)
{
    return scope == Scope::Group ? QStringLiteral("group") : QStringLiteral("device_class");
}

QString PolicyRule::scopeText() const
{
    return (scope == Scope::Group ? QStringLiteral("group ") : QStringLiteral("device class ")) + name;
}

bool PolicyRule::isValidGroup(const QString& name)
{
    static const QRegularExpression re(QStringLiteral("^[a-z0-9._-]{1,64}$"));
    return re.match(name).hasMatch();
}

nlohmann::json SessionPolicy::toStoredJson() const
{
    nlohmann::json j = toJson();
    j["onLimit"] = onLimit == OnSessionLimit::Refuse ? "refuse" : "end_oldest";
    return j;
}

std::optional<SessionPolicy> SessionPolicy::fromJson(const nlohmann::json& j)
{
    const auto wire = SessionPolicyInfo::fromJson(j);
    if (!wire)
        return std::nullopt;
    SessionPolicy p;
    static_cast<SessionPolicyInfo&>(p) = *wire;
    // A row stored before the shift settings existed (migration 0012) keeps their defaults.
    const SessionPolicy defaults;
    if (!j.contains("shiftWindowSeconds"))
        p.shiftWindowSeconds = defaults.shiftWindowSeconds;
    if (!j.contains("pinMaxFailures"))
        p.pinMaxFailures = defaults.pinMaxFailures;
    if (p.deviceClass.isEmpty())
        p.deviceClass = deviceclass::personal;
    const auto onLimit = j.find("onLimit");
    p.onLimit = onLimit != j.end() && onLimit->is_string() && onLimit->get<std::string>() == "refuse"
                    ? OnSessionLimit::Refuse
                    : OnSessionLimit::EndOldest;
    return p;
}

bool PolicyResolver::applies(const PolicyRule& rule, const QStringList& groups, const QString& deviceClass)
{
    return rule.scope == PolicyRule::Scope::Group ? groups.contains(rule.name) : rule.name == deviceClass;
}

SessionPolicy PolicyResolver::resolve(const Defaults& defaults, const std::vector<PolicyRule>& rules,
                                      const QStringList& groups, const QString& deviceClass)
{
    std::optional<int> idle, lifetime, limit, shift, pinFailures;
    bool endOnLock = false, mfa = false, refuse = false;
    for (const PolicyRule& r : rules) {
        if (!applies(r, groups, deviceClass))
            continue;
        keepSmallest(idle, r.idleTimeoutSeconds);
        keepSmallest(lifetime, r.absoluteLifetimeSeconds);
        keepSmallest(shift, r.shiftWindowSeconds);
        keepSmallest(pinFailures, r.pinMaxFailures);
        endOnLock = endOnLock || r.endOnLock.value_or(false);
        mfa = mfa || r.mfaRequired.value_or(false);
        // 0 is "no limit": never stricter than a number.
        if (r.maxSessions && *r.maxSessions > 0)
            keepSmallest(limit, r.maxSessions);
    }
    if (limit) {
        // The action of the rules that set the winning limit; `refuse` wins a tie.
        for (const PolicyRule& r : rules) {
            if (applies(r, groups, deviceClass) && r.maxSessions == limit &&
                r.onLimit.value_or(OnSessionLimit::EndOldest) == OnSessionLimit::Refuse)
                refuse = true;
        }
    }
    SessionPolicy p;
    p.idleTimeoutSeconds = idle.value_or(defaults.idleTimeoutSeconds);
    p.absoluteLifetimeSeconds =
        qMin(lifetime.value_or(defaults.absoluteLifetimeSeconds), defaults.absoluteLifetimeSeconds);
    p.endOnLock = endOnLock;
    p.shiftWindowSeconds = qMin(shift.value_or(defaults.shiftWindowSeconds), p.absoluteLifetimeSeconds);
    p.pinMaxFailures = pinFailures.value_or(defaults.pinMaxFailures);
    p.maxSessions = limit.value_or(0);
    p.onLimit = refuse ? OnSessionLimit::Refuse : OnSessionLimit::EndOldest;
    p.mfaRequired = mfa;
    p.deviceClass = deviceClass;
    p.groups = groups;
    p.groups.sort();
    return p;
}

Result<QList<QPair<QHostAddress, int>>> PolicyResolver::parseNetworks(const QString& text)
{
    QList<QPair<QHostAddress, int>> out;
    static const QRegularExpression separators(QStringLiteral("[,;\\s]+"));
    for (const QString& t : text.split(separators, Qt::SkipEmptyParts)) {
        const qsizetype slash = t.indexOf(u'/');
        const QString addressText = slash < 0 ? t : t.left(slash);
        QHostAddress address;
        // A full address (QHostAddress::parseSubnet also takes abbreviations like "10.0").
        const bool addressOk =
            address.setAddress(addressText) &&
            (address.protocol() == QAbstractSocket::IPv6Protocol || addressText.count(u'.') == 3);
        const int maxPrefix = address.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32;
        bool prefixOk = true;
        const int prefix = slash < 0 ? maxPrefix : t.mid(slash + 1).toInt(&prefixOk);
        if (!addressOk || !prefixOk || prefix < 0 || prefix > maxPrefix)
            return fail(ErrorCode::InvalidRequest,
                        QStringLiteral("SHARED_WORKSTATION_NETWORKS: '%1' is not an address or CIDR").arg(t));
        out.append({address, prefix});
    }
    return out;
}

Result<QString> PolicyResolver::deviceClassOf(const QString& claimed, const QString& ipAddress,
                                              const QList<QPair<QHostAddress, int>>& sharedNetworks)
{
    const QString c = claimed.isEmpty() ? deviceclass::personal : claimed;
    if (!deviceclass::isKnown(c))
        return fail(ErrorCode::InvalidRequest,
                    QStringLiteral("deviceClass must be \"personal\" or \"shared_workstation\""));
    if (c == deviceclass::shared)
        return c;
    QHostAddress address(ipAddress);
    // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped);
    if (mapped)
        address = QHostAddress(v4);
    for (const auto& net : sharedNetworks) {
        if (address.isInSubnet(net.first, net.second))
            return deviceclass::shared;
    }
    return c;
}

} // namespace ehrs::server
