// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QWidget>

class QLabel;

namespace ehrs::app {

/// What the window shows while the desktop session is locked (the agent's `locked` status or its
/// `workstation_locked` answer): a notice and whose session waits, and no session data.
class LockPage : public QWidget
{
    Q_OBJECT
public:
    explicit LockPage(QWidget* parent = nullptr);

    /// Whose session waits behind the lock (name or email; empty: not said).
    void setClinician(const QString& who);

    QLabel* messageLabel() const { return m_message; }
    QLabel* clinicianLabel() const { return m_clinician; }

private:
    QLabel* m_message = nullptr;
    QLabel* m_clinician = nullptr;
};

} // namespace ehrs::app
