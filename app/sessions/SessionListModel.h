// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "Clock.h"
#include "WireModels.h"

#include <QAbstractListModel>
#include <vector>

namespace ehrs::app {

/// The caller's sessions, one row each, the current one first and the rest as the server ordered
/// them (most recently active first). setSessions() diffs by session id so views keep their
/// selection and scroll position: rows that went away are removed, new ones inserted, moved ones
/// moved and changed ones reported with dataChanged().
class SessionListModel : public QAbstractListModel
{
    Q_OBJECT
public:
    enum Role {
        IdRole = Qt::UserRole + 1,
        TitleRole,       // the user's name for it, else device name, else "Browser on OS"
        DeviceLineRole,  // "Chrome 120 · Windows 10/11"
        NetworkLineRole, // "192.0.2.4 · Local network"
        TimeLineRole,    // "Signed in 3 days ago · active 5 minutes ago"
        DeviceTypeRole,  // desktop, laptop, mobile, tablet, unknown
        IsCurrentRole,
        CustomNameRole, // the user's name for the session, or empty
        CreatedAtRole,
        LastActivityRole,
    };
    Q_ENUM(Role)

    /// `clock` must outlive the model; null means the system clock.
    explicit SessionListModel(const Clock* clock = nullptr, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setSessions(std::vector<SessionDto> sessions);
    const std::vector<SessionDto>& sessions() const { return m_rows; }
    int rowOf(const QString& sessionId) const;
    /// Re-announces the relative times ("active 5 minutes ago") as the clock moves on.
    void refreshTimes();

Q_SIGNALS:
    /// The user edited a session's name in place; the row already shows it.
    void renameRequested(const QString& sessionId, const QString& name);

private:
    QString title(const SessionDto& s) const;
    /// The title without "This computer (…)": the user's name, the device's or "browser on OS".
    QString baseTitle(const SessionDto& s) const;
    QString timeLine(const SessionDto& s) const;

    SystemClock m_systemClock;
    const Clock* m_clock;
    std::vector<SessionDto> m_rows;
};

} // namespace ehrs::app
