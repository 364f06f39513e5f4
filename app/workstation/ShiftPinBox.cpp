// SPDX-License-Identifier: Apache-2.0
#include "ShiftPinBox.h"

#include "ClientErrors.h"
#include "WorkstationAgent.h"
#include "shell/Theme.h"

#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QVBoxLayout>

namespace ehrs::app {
namespace {
constexpr int kMinPin = 4; // the server's rule (WorkstationService::checkPin): 4 to 8 digits
constexpr int kMaxPin = 8;

QLineEdit* pinEdit(const QString& name, QWidget* parent)
{
    auto* e = new QLineEdit(parent);
    e->setAccessibleName(name);
    e->setEchoMode(QLineEdit::Password);
    e->setMaxLength(kMaxPin);
    e->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]*")), e));
    e->setInputMethodHints(Qt::ImhDigitsOnly | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    e->setMaximumWidth(160);
    return e;
}
} // namespace

QString describeUntil(const QDateTime& when, const QDateTime& now)
{
    const QDateTime local = when.toLocalTime();
    const QString time = QLocale().toString(local.time(), QStringLiteral("HH:mm"));
    if (local.date() == now.toLocalTime().date())
        return ShiftPinBox::tr("today at %1").arg(time);
    if (local.date() == now.toLocalTime().date().addDays(1))
        return ShiftPinBox::tr("tomorrow at %1").arg(time);
    return ShiftPinBox::tr("on %1 at %2")
        .arg(QLocale().toString(local.date(), QStringLiteral("d MMM yyyy")), time);
}

ShiftPinBox::ShiftPinBox(WorkstationAgent* agent, QWidget* parent)
    : QGroupBox(tr("Shift PIN"), parent), m_agent(agent)
{
    auto* layout = new QVBoxLayout(this);
    m_state = new QLabel(this);
    m_state->setWordWrap(true);
    m_state->setTextFormat(Qt::PlainText);
    layout->addWidget(m_state);
    auto* form = new QFormLayout;
    m_pin = pinEdit(tr("New shift PIN"), this);
    m_repeat = pinEdit(tr("Repeat the shift PIN"), this);
    form->addRow(tr("New P&IN (4–8 digits):"), m_pin);
    form->addRow(tr("Confir&m PIN:"), m_repeat);
    layout->addLayout(form);
    m_set = new QPushButton(tr("Set s&hift PIN"), this);
    layout->addWidget(m_set, 0, Qt::AlignLeft);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);
    m_message->setVisible(false);
    layout->addWidget(m_message);
    connect(m_set, &QPushButton::clicked, this, &ShiftPinBox::submit);
    connect(m_pin, &QLineEdit::returnPressed, m_repeat, qOverload<>(&QWidget::setFocus));
    connect(m_repeat, &QLineEdit::returnPressed, this, &ShiftPinBox::submit);
    setPinState(false, {});
}

void ShiftPinBox::setPinState(bool pinSet, const QDateTime& validUntil)
{
    m_pinSet = pinSet;
    if (pinSet && validUntil.isValid())
        m_state->setText(tr("Your PIN brings your session back on this workstation until %1 (the end of your "
                            "shift). Then sign in with your password again.")
                             .arg(describeUntil(validUntil)));
    else if (pinSet)
        m_state->setText(tr("Your PIN brings your session back on this workstation during this shift."));
    else
        m_state->setText(
            tr("No PIN yet. With a shift PIN you can let a colleague use this workstation and come "
               "back in seconds: choose “Switch user”, then type your PIN."));
    m_set->setText(pinSet ? tr("Change s&hift PIN") : tr("Set s&hift PIN"));
}

void ShiftPinBox::offer(const QString& why)
{
    setMessage(why.isEmpty() ? tr("You signed in on a shared workstation. Set a shift PIN now to switch back "
                                  "quickly later.")
                             : why,
               false);
    m_pin->setFocus();
}

void ShiftPinBox::submit()
{
    if (m_busy)
        return;
    const QString pin = m_pin->text();
    if (pin.size() < kMinPin) {
        setMessage(tr("A shift PIN has 4 to 8 digits."), true);
        m_pin->setFocus();
        return;
    }
    if (m_repeat->text() != pin) {
        setMessage(tr("The two PINs are not the same. Type it again in both fields."), true);
        m_pin->clear();
        m_repeat->clear();
        m_pin->setFocus();
        return;
    }
    m_pin->clear();
    m_repeat->clear();
    m_busy = true;
    m_set->setEnabled(false);
    m_agent->setPin(pin).then(this, [this](const Result<ipc::SetPinReply>& reply) {
        const Result<QDateTime> r =
            reply ? Result<QDateTime>(reply->validUntil) : Result<QDateTime>(fail(reply.error()));
        m_busy = false;
        m_set->setEnabled(true);
        if (!r) {
            // The server's reason ("The PIN must not be a sequence") as a sentence.
            setMessage(r.error().code == ErrorCode::InvalidRequest && !r.error().message.isEmpty()
                           ? tr("That PIN cannot be used. %1").arg(asSentence(r.error().message))
                           : describeError(r.error()),
                       true);
            m_pin->setFocus();
            return;
        }
        setPinState(true, *r);
        setMessage(r->isValid() ? tr("PIN set. It works until %1.").arg(describeUntil(*r)) : tr("PIN set."),
                   false);
        Q_EMIT pinChanged(*r);
    });
}

void ShiftPinBox::hideEvent(QHideEvent* event)
{
    QGroupBox::hideEvent(event);
    m_pin->clear();
    m_repeat->clear();
}

void ShiftPinBox::setMessage(const QString& text, bool error)
{
    m_message->setText(text);
    m_message->setVisible(!text.isEmpty());
    QPalette pal = m_message->palette();
    pal.setColor(QPalette::WindowText, error ? Theme::danger(palette()) : Theme::success(palette()));
    m_message->setPalette(pal);
}

} // namespace ehrs::app
