// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QDateTime>
#include <QGroupBox>

class QLabel;
class QLineEdit;
class QPushButton;

namespace ehrs::app {

class WorkstationAgent;

/// The Security page's "Shift PIN" box for a session on a shared workstation: sets or changes the
/// PIN (typed twice; the agent and the server check it), says until when it brings the session
/// back, and the server's refusals ("too easy") in words.
class ShiftPinBox : public QGroupBox
{
    Q_OBJECT
public:
    explicit ShiftPinBox(WorkstationAgent* agent, QWidget* parent = nullptr);

    /// What the agent says: whether a PIN is set and until when it works.
    void setPinState(bool pinSet, const QDateTime& validUntil);
    /// After a sign-in without a PIN (or a switch user without one): the box asks for one, with
    /// `why` (default: the sign-in's) and the focus in its first field.
    void offer(const QString& why = {});

    QLineEdit* pinField() const { return m_pin; }
    QLineEdit* repeatField() const { return m_repeat; }
    QPushButton* setButton() const { return m_set; }
    QLabel* stateLabel() const { return m_state; }
    QLabel* messageLabel() const { return m_message; }
    bool pinSet() const { return m_pinSet; }

Q_SIGNALS:
    /// The PIN was set; it works until `validUntil`.
    void pinChanged(const QDateTime& validUntil);

protected:
    /// Leaving the page forgets typed PINs (the next person at a shared workstation sees none).
    void hideEvent(QHideEvent* event) override;

private:
    void submit();
    void setMessage(const QString& text, bool error);

    WorkstationAgent* m_agent;
    QLabel* m_state = nullptr;
    QLineEdit* m_pin = nullptr;
    QLineEdit* m_repeat = nullptr;
    QPushButton* m_set = nullptr;
    QLabel* m_message = nullptr;
    bool m_pinSet = false;
    bool m_busy = false;
};

/// "today at 19:00", "on 3 Dec 2026 at 07:00": when a PIN stops working, in local time.
QString describeUntil(const QDateTime& when, const QDateTime& now = QDateTime::currentDateTime());

} // namespace ehrs::app
