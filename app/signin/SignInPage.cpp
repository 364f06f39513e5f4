// SPDX-License-Identifier: Apache-2.0
#include "SignInPage.h"

#include "ClientConfig.h"
#include "agent/AgentConnection.h"
#include "api/ServerApi.h"
#include "shell/DeviceIcons.h"
#include "shell/Theme.h"

#include <QCheckBox>
#include <QEvent>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStackedWidget>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

namespace ehrs::app {
namespace {
/// Keeps a centred widget (the sign-in card) at least as tall as its word-wrapped texts need at
/// its width: its layout's minimum assumes one line each, and the form's fields were squashed
/// when the reason above them took two.
class KeepHeightForWidth : public QObject
{
public:
    using QObject::QObject;
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        auto* w = qobject_cast<QWidget*>(watched);
        if (w && w->layout() && (event->type() == QEvent::Resize || event->type() == QEvent::LayoutRequest)) {
            const int need = w->layout()->totalHeightForWidth(w->width());
            if (need > 0 && w->minimumHeight() != need)
                w->setMinimumHeight(need);
        }
        return false;
    }
};
} // namespace

namespace {
const QString kServerKey = QStringLiteral("signIn/serverUrl");
const QString kEmailKey = QStringLiteral("signIn/email");

QString credentialsError(const Error& e, const QString& server)
{
    switch (e.code) {
    case ErrorCode::Unauthenticated:
        // The server counts down the last few attempts before it pauses sign-in (the same for
        // every email, so this says nothing about whether the account exists).
        if (e.attemptsLeft == 0)
            return SignInPage::tr("The email or password is not correct. That was the last attempt: sign-in "
                                  "is now paused for a while.");
        if (e.attemptsLeft == 1)
            return SignInPage::tr("The email or password is not correct. 1 attempt left before sign-in is "
                                  "paused for a while.");
        if (e.attemptsLeft > 1)
            return SignInPage::tr("The email or password is not correct. %1 attempts left before sign-in is "
                                  "paused for a while.")
                .arg(e.attemptsLeft);
        return SignInPage::tr("The email or password is not correct.");
    case ErrorCode::NetworkError:
        return SignInPage::tr("Cannot reach the server at %1. Check the address and your network connection.")
            .arg(server);
    case ErrorCode::InvalidRequest:
        return SignInPage::tr("Check the server address and email: %1").arg(e.message);
    case ErrorCode::Conflict:
        return SignInPage::tr("Another sign-in is in progress on this computer. Try again in a moment.");
    default:
        return describeError(e);
    }
}
} // namespace

SignInPage::SignInPage(AgentConnection* agent, QSettings* settings, QWidget* parent)
    : QWidget(parent), m_agent(agent), m_settings(settings)
{
    buildUi();
    // IT's preset address (client.conf) is used as is, and the field is not shown; otherwise the
    // last address used, with no built-in default (a development address helps nobody).
    m_presetServer = presetServerUrl();
    if (!m_presetServer.isEmpty()) {
        m_server->setText(m_presetServer.toString());
        m_form->setRowVisible(m_server, false);
    } else {
        m_server->setText(m_settings->value(kServerKey).toString());
    }
    m_email->setText(m_settings->value(kEmailKey).toString());
}

void SignInPage::buildUi()
{
    // In a scroll area: on a short window (or with a two-line reason and an error) the form
    // scrolls instead of squashing its fields.
    auto* host = new QVBoxLayout(this);
    host->setContentsMargins(0, 0, 0, 0);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setAccessibleName(tr("Sign in"));
    host->addWidget(scroll);
    auto* page = new QWidget(scroll);
    page->setObjectName(QStringLiteral("signInContent"));
    scroll->setWidget(page);
    auto* outer = new QVBoxLayout(page);
    // The page is never smaller than its form needs: the scroll area scrolls it instead.
    outer->setSizeConstraint(QLayout::SetMinimumSize);
    outer->addStretch(1);
    auto* card = new QWidget(page);
    card->setMaximumWidth(420);
    card->setMinimumWidth(340);
    auto* layout = new QVBoxLayout(card);
    layout->setSpacing(10);

    auto* logo = new QLabel(card);
    logo->setPixmap(DeviceIcons::appIcon(56, devicePixelRatioF()));
    logo->setAlignment(Qt::AlignCenter);
    logo->setAccessibleName(tr("EHR Sessions"));
    layout->addWidget(logo);
    auto* title = new QLabel(tr("Sign in to EHR Sessions"), card);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.5);
    tf.setBold(true);
    title->setFont(tf);
    title->setAlignment(Qt::AlignCenter);
    layout->addWidget(title);

    m_reason = new QLabel(card);
    m_reason->setTextFormat(Qt::PlainText); // the agent's and server's words
    m_reason->setWordWrap(true);
    m_reason->setAlignment(Qt::AlignCenter);
    m_reason->setVisible(false);
    m_reason->setAccessibleName(tr("Why you are signed out"));
    layout->addWidget(m_reason);

    m_steps = new QStackedWidget(card);
    auto* credentials = new QWidget(m_steps);
    auto* form = new QFormLayout(credentials);
    m_form = form;
    form->setContentsMargins(0, 0, 0, 0);
    m_server = new QLineEdit(credentials);
    m_server->setAccessibleName(tr("Server address"));
    m_server->setPlaceholderText(QStringLiteral("https://sessions.hospital.example"));
    m_email = new QLineEdit(credentials);
    m_email->setAccessibleName(tr("Email"));
    m_email->setPlaceholderText(tr("name@hospital.example"));
    m_password = new QLineEdit(credentials);
    m_password->setAccessibleName(tr("Password"));
    m_password->setEchoMode(QLineEdit::Password);
    form->addRow(tr("&Server:"), m_server);
    form->addRow(tr("&Email:"), m_email);
    form->addRow(tr("&Password:"), m_password);
    m_signIn = new QPushButton(tr("Sign in"), credentials);
    m_signIn->setDefault(true);
    m_signIn->setAutoDefault(true);
    m_switchUser = new QPushButton(tr("Back to s&witch user"), credentials);
    m_switchUser->setToolTip(tr("Come back with your shift PIN if you are paused on this workstation"));
    m_switchUser->setVisible(false);
    auto* credentialButtons = new QHBoxLayout; // Sign in keeps the whole width when alone
    credentialButtons->addWidget(m_switchUser);
    credentialButtons->addWidget(m_signIn, 1);
    form->addRow(QString(), credentialButtons);
    m_steps->addWidget(credentials);

    auto* codeStep = new QWidget(m_steps);
    auto* codeLayout = new QVBoxLayout(codeStep);
    codeLayout->setContentsMargins(0, 0, 0, 0);
    m_codeHint = new QLabel(
        tr("Enter the 6-digit code from your authenticator app, or one of your backup codes."), codeStep);
    m_codeHint->setWordWrap(true);
    codeLayout->addWidget(m_codeHint);
    m_code = new QLineEdit(codeStep);
    m_code->setAccessibleName(tr("Authentication code"));
    m_code->setPlaceholderText(tr("123456"));
    m_code->setMaxLength(64);
    m_code->setInputMethodHints(Qt::ImhPreferNumbers | Qt::ImhSensitiveData | Qt::ImhNoPredictiveText);
    codeLayout->addWidget(m_code);
    // The server does not tell clients how long it remembers a device (REMEMBER_DEVICE_DAYS), so
    // the box names no number of days.
    m_remember = new QCheckBox(tr("&Remember me on this device"), codeStep);
    m_remember->setToolTip(tr("Your next sign-ins on this computer skip the code for as long as your "
                              "organisation allows, unless one looks unusual. Leave it off on a computer "
                              "that others use."));
    m_remember->setAccessibleDescription(m_remember->toolTip());
    codeLayout->addWidget(m_remember);
    auto* codeButtons = new QHBoxLayout;
    m_back = new QPushButton(tr("&Back"), codeStep);
    m_verify = new QPushButton(tr("&Verify"), codeStep);
    m_verify->setAutoDefault(true);
    codeButtons->addWidget(m_back);
    codeButtons->addStretch();
    codeButtons->addWidget(m_verify);
    codeLayout->addLayout(codeButtons);
    m_steps->addWidget(codeStep);
    layout->addWidget(m_steps);

    m_error = new QLabel(card);
    m_error->setTextFormat(Qt::PlainText);
    m_error->setWordWrap(true);
    m_error->setVisible(false);
    m_error->setAccessibleName(tr("Sign-in error"));
    QPalette pal = m_error->palette();
    pal.setColor(QPalette::WindowText, Theme::danger(palette()));
    m_error->setPalette(pal);
    layout->addWidget(m_error);

    outer->addWidget(card, 0, Qt::AlignHCenter);
    card->installEventFilter(new KeepHeightForWidth(card));
    outer->addStretch(2);

    connect(m_signIn, &QPushButton::clicked, this, &SignInPage::submitCredentials);
    connect(m_password, &QLineEdit::returnPressed, this, &SignInPage::submitCredentials);
    connect(m_verify, &QPushButton::clicked, this, &SignInPage::submitCode);
    connect(m_code, &QLineEdit::returnPressed, this, &SignInPage::submitCode);
    connect(m_back, &QPushButton::clicked, this, [this] { reset({}); });
    connect(m_switchUser, &QPushButton::clicked, this, &SignInPage::switchUserWanted);
    setTabOrder(m_server, m_email);
    setTabOrder(m_email, m_password);
    setTabOrder(m_password, m_signIn);
    setTabOrder(m_signIn, m_switchUser);
    setTabOrder(m_code, m_remember);
    setTabOrder(m_remember, m_back);
    setTabOrder(m_back, m_verify);

    m_holdOffTick = new QTimer(this);
    m_holdOffTick->setInterval(1000);
    connect(m_holdOffTick, &QTimer::timeout, this, &SignInPage::updateHoldOff);
}

void SignInPage::setSwitchUserOffered(bool offered)
{
    m_switchUser->setVisible(offered);
}

void SignInPage::reset(const QString& reason)
{
    // The challenge lives in the agent for this connection; a new login replaces it.
    m_steps->setCurrentIndex(0);
    m_password->clear();
    m_code->clear();
    m_remember->setChecked(false);
    m_error->setVisible(false);
    m_reason->setText(reason);
    m_reason->setVisible(!reason.isEmpty());
    setBusy(false);
    if (isHoldingOff())
        updateHoldOff();
    (m_email->text().isEmpty() ? m_email : m_password)->setFocus();
}

bool SignInPage::isAskingForCode() const
{
    return m_steps->currentIndex() == 1;
}

bool SignInPage::isHoldingOff() const
{
    return m_holdOffTick->isActive();
}

void SignInPage::holdOff(int seconds, const QString& help)
{
    m_holdOffHelp = asSentence(help);
    m_holdOffUntil = QDeadlineTimer(std::chrono::seconds(seconds));
    m_holdOffTick->start();
    updateHoldOff();
}

void SignInPage::updateHoldOff()
{
    const qint64 left = (m_holdOffUntil.remainingTime() + 999) / 1000;
    if (left <= 0)
        m_holdOffTick->stop();
    setBusy(false); // keeps the buttons off while the wait holds
    QString text = left <= 0 ? tr("You can try again now.")
                             : tr("Too many attempts. Try again in %1.").arg(describeWait(int(left)));
    if (left > 0 && !m_holdOffHelp.isEmpty())
        text += QLatin1Char(' ') + m_holdOffHelp;
    showError(text);
}

void SignInPage::setBusy(bool busy)
{
    for (QWidget* w : std::initializer_list<QWidget*>{m_server, m_email, m_password, m_signIn, m_code,
                                                      m_remember, m_verify, m_back})
        w->setEnabled(!busy);
    if (isHoldingOff()) {
        m_signIn->setEnabled(false);
        m_verify->setEnabled(false);
    }
    m_signIn->setText(busy && !isAskingForCode() ? tr("Signing in…") : tr("Sign in"));
    m_verify->setText(busy && isAskingForCode() ? tr("Verifying…") : tr("&Verify"));
}

void SignInPage::showError(const QString& text)
{
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

void SignInPage::submitCredentials()
{
    if (isHoldingOff())
        return; // Return in the password field while the server's wait holds
    QString server = m_server->text().trimmed();
    const QString email = m_email->text().trimmed();
    const QString password = m_password->text();
    if (!server.contains(u"://"))
        server.prepend(QStringLiteral("https://"));
    const QUrl url(server, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty() || (url.scheme() != u"https" && url.scheme() != u"http")) {
        showError(tr("Enter the server address, for example https://sessions.hospital.example"));
        m_server->setFocus();
        return;
    }
    if (email.isEmpty() || password.isEmpty()) {
        showError(tr("Enter your email and password."));
        (email.isEmpty() ? m_email : m_password)->setFocus();
        return;
    }
    m_password->clear();
    showError({});
    m_reason->setVisible(false);
    setBusy(true);
    if (!serverIsPreset())
        m_settings->setValue(kServerKey, server);
    m_settings->setValue(kEmailKey, email);
    m_agent->login(server, email, password).then(this, [this, server](const Result<ipc::LoginReply>& r) {
        setBusy(false);
        if (!r) {
            if (r.error().code == ErrorCode::RateLimited && r.error().retryAfterSeconds > 0)
                holdOff(r.error().retryAfterSeconds, r.error().helpText);
            else
                showError(credentialsError(r.error(), server));
            m_password->setFocus();
            return;
        }
        if (r->requiresMfa) {
            m_steps->setCurrentIndex(1);
            const bool backup = r->methods.contains(u"backup_code");
            m_codeHint->setText(backup
                                    ? tr("Enter the 6-digit code from your authenticator app, or one of your "
                                         "backup codes.")
                                    : tr("Enter the 6-digit code from your authenticator app."));
            m_code->setFocus();
            return;
        }
        Q_EMIT signedIn();
    });
}

void SignInPage::submitCode()
{
    if (isHoldingOff())
        return;
    const QString code = m_code->text().simplified().remove(u' ');
    if (code.isEmpty()) {
        showError(tr("Enter the code."));
        return;
    }
    m_code->clear();
    showError({});
    setBusy(true);
    m_agent->verifyMfa(code, m_remember->isChecked()).then(this, [this](const Result<ipc::LoginReply>& r) {
        setBusy(false);
        if (!r) {
            if (r.error().code == ErrorCode::Unauthenticated)
                showError(tr("That code is not correct, or it has expired. Try the current code."));
            else if (r.error().code == ErrorCode::RateLimited && r.error().retryAfterSeconds > 0)
                holdOff(r.error().retryAfterSeconds);
            else
                showError(describeError(r.error()));
            m_code->setFocus();
            return;
        }
        Q_EMIT signedIn();
    });
}

} // namespace ehrs::app
