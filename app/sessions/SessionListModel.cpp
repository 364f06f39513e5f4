// SPDX-License-Identifier: Apache-2.0
#include "SessionListModel.h"

#include "DeviceModels.h"
#include "RelativeTime.h"

#include <QTextDocument>
#include <QTimeZone>
#include <algorithm>

namespace ehrs::app {
namespace {
bool sameContent(const SessionDto& a, const SessionDto& b)
{
    return a.name == b.name && a.createdAt == b.createdAt && a.lastActivityAt == b.lastActivityAt &&
           a.expiresAt == b.expiresAt && a.ipAddress == b.ipAddress && a.location == b.location &&
           a.userAgent == b.userAgent && a.deviceInfo == b.deviceInfo && a.isActive == b.isActive &&
           a.isCurrent == b.isCurrent;
}

QString kindOf(const QString& type)
{
    if (type == u"desktop")
        return SessionListModel::tr("Desktop computer");
    if (type == u"laptop")
        return SessionListModel::tr("Laptop");
    if (type == u"mobile")
        return SessionListModel::tr("Mobile phone");
    if (type == u"tablet")
        return SessionListModel::tr("Tablet");
    return SessionListModel::tr("Unknown kind of device");
}

QString joinNonEmpty(const QStringList& parts)
{
    QStringList kept;
    for (const QString& p : parts) {
        if (!p.trimmed().isEmpty())
            kept << p.trimmed();
    }
    return kept.join(QStringLiteral(" · "));
}
} // namespace

SessionListModel::SessionListModel(const Clock* clock, QObject* parent)
    : QAbstractListModel(parent), m_clock(clock ? clock : &m_systemClock)
{
}

int SessionListModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QString SessionListModel::title(const SessionDto& s) const
{
    const QString base = baseTitle(s);
    // The computer the app runs on is named as such; its host name ("vm") alone says little.
    const bool computer = s.deviceInfo.type == u"desktop" || s.deviceInfo.type == u"laptop";
    return s.isCurrent && computer ? tr("This computer (%1)").arg(base) : base;
}

QString SessionListModel::baseTitle(const SessionDto& s) const
{
    if (!s.name.isEmpty())
        return s.name;
    const DeviceInfo& d = s.deviceInfo;
    if (!d.name.isEmpty()) {
        const QString marketing = deviceMarketingName(d.name);
        return marketing.isEmpty() ? d.name : marketing;
    }
    if (!d.browser.isEmpty() && !d.os.isEmpty())
        return tr("%1 on %2").arg(d.browser, d.os);
    if (!d.browser.isEmpty() || !d.os.isEmpty())
        return d.browser.isEmpty() ? d.os : d.browser;
    return tr("Unknown device");
}

QString SessionListModel::timeLine(const SessionDto& s) const
{
    const QDateTime now = QDateTime::fromMSecsSinceEpoch(m_clock->nowMs(), Qt::UTC);
    return tr("Signed in %1 · active %2")
        .arg(relativeTime(s.createdAt, now), relativeTime(s.lastActivityAt, now));
}

QVariant SessionListModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SessionDto& s = m_rows[static_cast<size_t>(index.row())];
    const DeviceInfo& d = s.deviceInfo;
    switch (role) {
    case Qt::DisplayRole:
    case TitleRole:
        return title(s);
    case Qt::EditRole: // what the rename editor starts from: the name shown, without "This computer"
        return baseTitle(s);
    case CustomNameRole:
        return s.name;
    case Qt::ToolTipRole:
        // Tooltips guess rich text (Qt::mightBeRichText) and the User-Agent is whatever the
        // signing-in client sent: hand over an escaped paragraph so it shows as typed.
        return s.userAgent.isEmpty() ? QVariant() : QVariant(Qt::convertFromPlainText(s.userAgent));
    case Qt::AccessibleTextRole:
        return joinNonEmpty({title(s), s.isCurrent ? tr("this device") : QString(),
                             data(index, DeviceLineRole).toString(), data(index, NetworkLineRole).toString(),
                             timeLine(s)});
    case Qt::AccessibleDescriptionRole: // what the keys do on this row
        return s.isCurrent ? tr("F2 or the Rename button renames this device.")
                           : tr("F2 or the Rename button renames this device; Delete or the Sign out button "
                                "signs it out.");
    case IdRole:
        return s.id;
    case DeviceLineRole: {
        // Our own agent is no browser the person chose: its name and version say nothing to them.
        const QString browser =
            d.browser.startsWith(QLatin1String("EHR Sessions Agent")) ? QString() : d.browser;
        QStringList parts{browser, d.os};
        if (!s.name.isEmpty())
            parts.prepend(d.name);
        const QString line = joinNonEmpty(parts);
        // With no name, the title already is "browser on OS": say what kind of device it is.
        return line.isEmpty() || line == title(s) || title(s) == tr("%1 on %2").arg(browser, d.os)
                   ? kindOf(d.type)
                   : line;
    }
    case NetworkLineRole:
        return joinNonEmpty({s.ipAddress, s.location});
    case TimeLineRole:
        return timeLine(s);
    case DeviceTypeRole:
        return DeviceInfo::isKnownType(d.type) ? d.type : QStringLiteral("unknown");
    case IsCurrentRole:
        return s.isCurrent;
    case CreatedAtRole:
        return s.createdAt;
    case LastActivityRole:
        return s.lastActivityAt;
    default:
        return {};
    }
}

bool SessionListModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole ||
        !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    const QString name = value.toString().trimmed().left(100);
    SessionDto& s = m_rows[static_cast<size_t>(index.row())];
    // The editor opens with the name shown: left as it was, nothing changes.
    if (name == s.name || (s.name.isEmpty() && (name == title(s) || name == baseTitle(s))))
        return false;
    s.name = name;
    Q_EMIT dataChanged(index, index);
    Q_EMIT renameRequested(s.id, name);
    return true;
}

Qt::ItemFlags SessionListModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsEditable | Qt::ItemNeverHasChildren;
}

QHash<int, QByteArray> SessionListModel::roleNames() const
{
    auto names = QAbstractListModel::roleNames();
    names.insert({{IdRole, "id"},
                  {TitleRole, "title"},
                  {DeviceLineRole, "deviceLine"},
                  {NetworkLineRole, "networkLine"},
                  {TimeLineRole, "timeLine"},
                  {DeviceTypeRole, "deviceType"},
                  {IsCurrentRole, "isCurrent"},
                  {CustomNameRole, "customName"},
                  {CreatedAtRole, "createdAt"},
                  {LastActivityRole, "lastActivityAt"}});
    return names;
}

int SessionListModel::rowOf(const QString& sessionId) const
{
    auto it =
        std::find_if(m_rows.begin(), m_rows.end(), [&](const SessionDto& s) { return s.id == sessionId; });
    return it == m_rows.end() ? -1 : static_cast<int>(it - m_rows.begin());
}

void SessionListModel::setSessions(std::vector<SessionDto> sessions)
{
    std::stable_partition(sessions.begin(), sessions.end(), [](const SessionDto& s) { return s.isCurrent; });

    // 1. Rows whose session is gone, bottom-up so indexes stay valid.
    for (int row = rowCount() - 1; row >= 0; --row) {
        const QString& id = m_rows[static_cast<size_t>(row)].id;
        const bool kept =
            std::any_of(sessions.begin(), sessions.end(), [&](const SessionDto& s) { return s.id == id; });
        if (!kept) {
            beginRemoveRows({}, row, row);
            m_rows.erase(m_rows.begin() + row);
            endRemoveRows();
        }
    }
    // 2. Walk the new order: keep, move up, or insert each row, then report changed content.
    for (size_t i = 0; i < sessions.size(); ++i) {
        const int row = static_cast<int>(i);
        SessionDto& next = sessions[i];
        if (i >= m_rows.size() || m_rows[i].id != next.id) {
            const int from = rowOf(next.id);
            if (from < 0) {
                beginInsertRows({}, row, row);
                m_rows.insert(m_rows.begin() + row, next);
                endInsertRows();
                continue;
            }
            // `from` > row: everything above `row` is already in its final place.
            beginMoveRows({}, from, from, {}, row);
            auto moved = m_rows[static_cast<size_t>(from)];
            m_rows.erase(m_rows.begin() + from);
            m_rows.insert(m_rows.begin() + row, std::move(moved));
            endMoveRows();
        }
        if (!sameContent(m_rows[i], next)) {
            m_rows[i] = std::move(next);
            Q_EMIT dataChanged(index(row), index(row));
        }
    }
}

void SessionListModel::refreshTimes()
{
    if (m_rows.empty())
        return;
    Q_EMIT dataChanged(index(0), index(rowCount() - 1), {TimeLineRole, Qt::AccessibleTextRole});
}

} // namespace ehrs::app
