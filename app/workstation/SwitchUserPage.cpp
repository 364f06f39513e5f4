// SPDX-License-Identifier: Apache-2.0
#include "SwitchUserPage.h"

#include "ClientErrors.h"
#include "WorkstationAgent.h"
#include "shell/DeviceIcons.h"
#include "shell/Theme.h"

#include <QCompleter>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QStringListModel>
#include <QVBoxLayout>

namespace ehrs::app {
namespace {
constexpr int kMaxPinLength = 8; // the server's rule: 4 to 8 digits
} // namespace

SwitchUserPage::SwitchUserPage(WorkstationAgent* agent, QWidget* parent) : QWidget(parent), m_agent(agent)
{
    auto* host = new QVBoxLayout(this);
    host->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setAccessibleName(tr("Switch user"));
    host->addWidget(scroll);
    auto* page = new QWidget(scroll);
    scroll->setWidget(page);
    auto* outer = new QVBoxLayout(page);
    outer->setSizeConstraint(QLayout::SetMinimumSize);
    outer->addStretch(1);
    auto* card = new QWidget(page);
    card->setMaximumWidth(440);
    card->setMinimumWidth(360);
    auto* layout = new QVBoxLayout(card);
    layout->setSpacing(10);

    auto* logo = new QLabel(card);
    logo->setPixmap(DeviceIcons::appIcon(48, devicePixelRatioF()));
    logo->setAlignment(Qt::AlignCenter);
    logo->setAccessibleName(tr("EHR Sessions"));
    layout->addWidget(logo);
    auto* title = new QLabel(tr("Who is using this workstation?"), card);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.4);
    tf.setBold(true);
    title->setFont(tf);
    title->setAlignment(Qt::AlignCenter);
    title->setWordWrap(true);
    layout->addWidget(title);

    m_reason = new QLabel(card);
    m_reason->setTextFormat(Qt::PlainText);
    m_reason->setWordWrap(true);
    m_reason->setAlignment(Qt::AlignCenter);
    m_reason->setVisible(false);
    layout->addWidget(m_reason);

    auto* listTitle = new QLabel(tr("Paused on this workstation (choose yours, then type your PIN):"), card);
    listTitle->setWordWrap(true);
    layout->addWidget(listTitle);
    m_list = new QListWidget(card);
    m_list->setAccessibleName(tr("Clinicians paused on this workstation"));
    m_list->setMinimumHeight(m_list->fontMetrics().height() * 3 + 12);
    m_list->setMaximumHeight(m_list->fontMetrics().height() * 6 + 16);
    layout->addWidget(m_list);

    auto* form = new QFormLayout;
    form->setContentsMargins(0, 0, 0, 0);
    m_name = new QLineEdit(card);
    m_name->setAccessibleName(tr("Name or email"));
    m_name->setPlaceholderText(tr("name@hospital.example"));
    m_completer = new QCompleter(new QStringListModel(this), this);
    m_completer->setCaseSensitivity(Qt::CaseInsensitive);
    m_completer->setFilterMode(Qt::MatchContains);
    m_name->setCompleter(m_completer);
    m_pin = new QLineEdit(card);
    m_pin->setAccessibleName(tr("Shift PIN"));
    m_pin->setEchoMode(QLineEdit::Password);
    m_pin->setMaxLength(kMaxPinLength);
    m_pin->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]*")), m_pin));
    m_pin->setInputMethodHints(Qt::ImhDigitsOnly | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    m_pin->setMaximumWidth(160);
    form->addRow(tr("&Name or email:"), m_name);
    form->addRow(tr("&PIN:"), m_pin);
    layout->addLayout(form);

    m_error = new QLabel(card);
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setVisible(false);
    m_error->setAccessibleName(tr("Switch-user error"));
    QPalette pal = m_error->palette();
    pal.setColor(QPalette::WindowText, Theme::danger(palette()));
    m_error->setPalette(pal);
    layout->addWidget(m_error);

    auto* buttons = new QHBoxLayout;
    m_password = new QPushButton(tr("Sign in with pass&word"), card);
    m_password->setFlat(true);
    m_password->setToolTip(tr("For someone not in the list, or who has no shift PIN yet"));
    m_continue = new QPushButton(tr("&Continue"), card);
    m_continue->setDefault(true);
    m_continue->setAutoDefault(true);
    buttons->addWidget(m_password);
    buttons->addStretch();
    buttons->addWidget(m_continue);
    layout->addLayout(buttons);

    outer->addWidget(card, 0, Qt::AlignHCenter);
    outer->addStretch(2);

    connect(m_list, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        m_name->setText(item->data(Qt::UserRole).toString());
        m_pin->clear();
        m_pin->setFocus();
    });
    connect(m_list, &QListWidget::itemClicked, m_list, &QListWidget::itemActivated);
    // Choosing a completion moves on to the PIN: name, PIN, Enter.
    connect(m_completer, qOverload<const QString&>(&QCompleter::activated), this,
            [this](const QString& email) {
                m_name->setText(email);
                m_pin->setFocus();
            });
    connect(m_name, &QLineEdit::returnPressed, this, [this] {
        if (m_pin->text().isEmpty() && !resolve(m_name->text()).isEmpty()) {
            m_name->setText(resolve(m_name->text()));
            m_pin->setFocus();
        } else {
            submit();
        }
    });
    // The list shows who the typed name stands for (nobody highlighted while it is unclear).
    connect(m_name, &QLineEdit::textChanged, this, [this](const QString& text) {
        const QString email = resolve(text);
        for (int i = 0; i < m_list->count(); ++i) {
            if (m_list->item(i)->data(Qt::UserRole).toString() == email) {
                m_list->setCurrentRow(i);
                return;
            }
        }
        m_list->clearSelection();
    });
    connect(m_pin, &QLineEdit::returnPressed, this, &SwitchUserPage::submit);
    connect(m_continue, &QPushButton::clicked, this, &SwitchUserPage::submit);
    connect(m_password, &QPushButton::clicked, this, [this] {
        const QString email = resolve(m_name->text());
        Q_EMIT passwordSignInWanted(
            email.isEmpty() && m_name->text().contains(u'@') ? m_name->text().trimmed() : email, QString());
    });
    setTabOrder(m_list, m_name);
    setTabOrder(m_name, m_pin);
    setTabOrder(m_pin, m_continue);
    setTabOrder(m_continue, m_password);
}

void SwitchUserPage::showParked(std::vector<ParkedAccount> parked, const QString& reason)
{
    std::sort(parked.begin(), parked.end(),
              [](const ParkedAccount& a, const ParkedAccount& b) { return a.parkedAt > b.parkedAt; });
    m_parked = std::move(parked);
    m_list->clear();
    QStringList emails;
    const QDate today = QDate::currentDate();
    for (const ParkedAccount& p : m_parked) {
        const QDateTime local = p.parkedAt.toLocalTime();
        const QString when =
            !local.isValid() ? QString()
            : local.date() == today
                ? tr("paused at %1").arg(QLocale().toString(local.time(), QStringLiteral("HH:mm")))
                : tr("paused %1").arg(QLocale().toString(local, QStringLiteral("d MMM, HH:mm")));
        auto* item = new QListWidgetItem(when.isEmpty() ? p.email : tr("%1 — %2").arg(p.email, when), m_list);
        item->setData(Qt::UserRole, p.email);
        item->setData(Qt::AccessibleTextRole, item->text());
        emails << p.email;
    }
    static_cast<QStringListModel*>(m_completer->model())->setStringList(emails);
    m_reason->setText(reason);
    m_reason->setVisible(!reason.isEmpty());
    m_name->clear();
    m_pin->clear();
    m_error->clear();
    m_error->setVisible(false);
    setBusy(false);
    focusStart();
}

void SwitchUserPage::setReason(const QString& reason)
{
    m_reason->setText(reason);
    m_reason->setVisible(!reason.isEmpty());
}

void SwitchUserPage::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    focusStart();
}

void SwitchUserPage::focusStart()
{
    // The name field first (type or pick); once a name is there, the PIN.
    (m_name->text().trimmed().isEmpty() ? m_name : m_pin)->setFocus();
}

QString SwitchUserPage::resolve(const QString& typed) const
{
    const QString t = typed.trimmed();
    if (t.isEmpty())
        return {};
    QStringList starts;
    for (const ParkedAccount& p : m_parked) {
        if (p.email.compare(t, Qt::CaseInsensitive) == 0 ||
            p.email.section(u'@', 0, 0).compare(t, Qt::CaseInsensitive) == 0)
            return p.email;
        if (p.email.startsWith(t, Qt::CaseInsensitive))
            starts << p.email;
    }
    return starts.size() == 1 ? starts.first() : QString();
}

void SwitchUserPage::submit()
{
    if (m_busy)
        return;
    const QString typed = m_name->text().trimmed();
    if (typed.isEmpty())
        return showError(tr("Type your name or email, or choose it in the list."), m_name);
    const QString email = resolve(typed);
    if (email.isEmpty()) {
        // Nobody by that name is paused here: the server is not asked (it keeps no "who is paused
        // here" lookup); the password sign-in is the way in.
        if (typed.contains(u'@'))
            return Q_EMIT passwordSignInWanted(
                typed,
                tr("%1 has no paused session on this workstation. Sign in with your password.").arg(typed));
        return showError(tr("Nobody called “%1” is paused on this workstation. Choose a name in the list, or "
                            "sign in with your "
                            "password.")
                             .arg(typed),
                         m_name);
    }
    m_name->setText(email);
    const QString pin = m_pin->text();
    if (pin.isEmpty())
        return showError(tr("Type your shift PIN."), m_pin);
    m_pin->clear(); // never kept on screen longer than needed
    setBusy(true);
    m_error->setVisible(false);
    m_agent->resume(email, pin).then(this, [this, email](const Result<ipc::LoginReply>& r) {
        setBusy(false);
        if (r) {
            m_name->clear();
            Q_EMIT resumed(*r);
            return;
        }
        const Error& e = r.error();
        if (ipc::isInvalidPin(e)) {
            QString text = tr("That PIN is not correct.");
            if (e.attemptsLeft == 1)
                text += u' ' + tr("1 attempt left; after that you sign in with your password.");
            else if (e.attemptsLeft > 1)
                text +=
                    u' ' +
                    tr("%1 attempts left; after that you sign in with your password.").arg(e.attemptsLeft);
            return showError(text, m_pin);
        }
        if (ipc::isFullSignInRequired(e))
            return Q_EMIT passwordSignInWanted(email, tr("Your shift PIN can no longer be used here (too "
                                                         "many wrong PINs, the shift is over, or the "
                                                         "session ended). Sign in with your password."));
        showError(describeError(e), m_pin);
    });
}

void SwitchUserPage::setBusy(bool busy)
{
    m_busy = busy;
    for (QWidget* w : std::initializer_list<QWidget*>{m_list, m_name, m_pin, m_continue, m_password})
        w->setEnabled(!busy);
}

void SwitchUserPage::showError(const QString& text, QWidget* focus)
{
    m_error->setText(text);
    m_error->setVisible(true);
    focus->setFocus();
}

} // namespace ehrs::app
