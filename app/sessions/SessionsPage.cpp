// SPDX-License-Identifier: Apache-2.0
#include "SessionsPage.h"

#include "RelativeTime.h"
#include "SessionDelegate.h"
#include "SessionListModel.h"
#include "api/ServerApi.h"
#include "shell/PasswordDialog.h"
#include "shell/Theme.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace ehrs::app {
namespace {
constexpr int kReloadIntervalMs = 30'000;
constexpr int kMinFocusReloadMs = 5'000;
constexpr int kMaxContentWidth = 800;

QLabel* stateLabel(const QString& text, QWidget* parent)
{
    auto* label = new QLabel(text, parent);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    return label;
}
} // namespace

SessionsPage::SessionsPage(ServerApi* api, SessionListModel* model, QWidget* parent)
    : QWidget(parent), m_api(api), m_model(model)
{
    buildUi();
    m_timer.setInterval(kReloadIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        m_model->refreshTimes();
        if (!m_live) // otherwise the agent's events say when the list changed
            reload();
    });
    connect(m_model, &SessionListModel::renameRequested, this, &SessionsPage::renameSession);
}

void SessionsPage::buildUi()
{
    // On a wide window the content keeps a readable width, centred, so that the buttons stay near
    // the text they belong to.
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* content = new QWidget(this);
    content->setObjectName(QStringLiteral("sessionsContent"));
    content->setMaximumWidth(kMaxContentWidth);
    outer->addStretch(1);
    outer->addWidget(content, 1000);
    outer->addStretch(1);
    auto* layout = new QVBoxLayout(content);
    layout->setContentsMargins(24, 20, 24, 20);
    layout->setSpacing(12);

    auto* header = new QHBoxLayout;
    auto* titles = new QVBoxLayout;
    auto* title = new QLabel(tr("Active sessions"), this);
    QFont tf = title->font();
    tf.setPointSizeF(tf.pointSizeF() * 1.5);
    tf.setBold(true);
    title->setFont(tf);
    title->setAccessibleName(tr("Active sessions"));
    m_summary = new QLabel(tr("Devices signed in to your account. Sign out any you do not recognise."), this);
    m_summary->setWordWrap(true);
    titles->addWidget(title);
    titles->addWidget(m_summary);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("updatedStatus"));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setAccessibleName(tr("List status"));
    m_status->setVisible(false);
    titles->addWidget(m_status);
    header->addLayout(titles, 1);
    m_refresh = new QPushButton(tr("&Refresh"), this);
    m_refresh->setAccessibleName(tr("Refresh the list of sessions"));
    m_signOutOthers = new QPushButton(tr("Sign out &all other devices…"), this);
    m_signOutOthers->setAccessibleName(tr("Sign out all other devices"));
    header->addWidget(m_refresh, 0, Qt::AlignBottom);
    header->addWidget(m_signOutOthers, 0, Qt::AlignBottom);
    layout->addLayout(header);

    m_banner = new QLabel(this);
    m_banner->setTextFormat(Qt::PlainText); // carries device names, which whoever signed in chose
    m_banner->setWordWrap(true);
    m_banner->setVisible(false);
    m_banner->setAccessibleName(tr("Status"));
    m_banner->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    layout->addWidget(m_banner);

    m_stack = new QStackedWidget(this);
    m_stack->addWidget(stateLabel(tr("<p style='font-size:large'>Loading your sessions…</p>"), m_stack));

    auto* errorPage = new QWidget(m_stack);
    auto* errorLayout = new QVBoxLayout(errorPage);
    errorLayout->addStretch();
    m_errorText = stateLabel(QString(), errorPage);
    m_errorText->setAccessibleName(tr("Error"));
    errorLayout->addWidget(m_errorText);
    m_retry = new QPushButton(tr("Try a&gain"), errorPage);
    errorLayout->addWidget(m_retry, 0, Qt::AlignHCenter);
    errorLayout->addStretch();
    connect(m_retry, &QPushButton::clicked, this, &SessionsPage::reload);
    m_stack->addWidget(errorPage);

    auto* listPage = new QWidget(m_stack);
    auto* listLayout = new QVBoxLayout(listPage);
    listLayout->setContentsMargins(0, 0, 0, 0);
    m_view = new QListView(listPage);
    m_view->setModel(m_model);
    m_delegate = new SessionDelegate(m_view);
    m_view->setItemDelegate(m_delegate);
    m_view->setMouseTracking(true);
    m_view->setFrameShape(QFrame::NoFrame);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->setResizeMode(QListView::Adjust); // row heights follow the width (buttons under the text)
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::EditKeyPressed | QAbstractItemView::DoubleClicked);
    m_view->setAccessibleName(tr("Signed-in devices"));
    m_view->setAccessibleDescription(tr("F2 renames the selected device, Delete signs it out."));
    m_view->viewport()->setAutoFillBackground(false);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto* renameAction = new QAction(tr("Rename…"), m_view);
    renameAction->setShortcut(Qt::Key_F2);
    renameAction->setShortcutContext(Qt::WidgetShortcut);
    auto* revokeAction = new QAction(tr("Sign out this device…"), m_view);
    revokeAction->setShortcut(QKeySequence::Delete);
    revokeAction->setShortcutContext(Qt::WidgetShortcut);
    m_view->addAction(renameAction);
    m_view->addAction(revokeAction);
    connect(renameAction, &QAction::triggered, this, [this] {
        if (m_view->currentIndex().isValid())
            m_view->edit(m_view->currentIndex());
    });
    connect(revokeAction, &QAction::triggered, this, [this] {
        if (m_view->currentIndex().isValid())
            confirmRevoke(m_view->currentIndex().row());
    });
    connect(m_delegate, &SessionDelegate::revokeClicked, this, [this](const QModelIndex& index) {
        m_view->setCurrentIndex(index); // the row being acted on is the selected one
        confirmRevoke(index.row());
    });
    connect(m_delegate, &SessionDelegate::renameClicked, this, [this](const QModelIndex& index) {
        m_view->setCurrentIndex(index);
        m_view->edit(index);
    });
    listLayout->addWidget(m_view, 1);
    // The keyboard shortcuts, where people see them (the buttons' tooltips say them too).
    auto* hint = new QLabel(
        tr("Keyboard: arrow keys choose a device, F2 renames it, Delete signs it out, Tab reaches its "
           "buttons."),
        listPage);
    hint->setObjectName(QStringLiteral("keyboardHint"));
    hint->setWordWrap(true);
    QPalette hintPalette = hint->palette();
    hintPalette.setColor(QPalette::WindowText, hintPalette.color(QPalette::PlaceholderText));
    hint->setPalette(hintPalette);
    listLayout->addWidget(hint);
    m_onlyThis = new QLabel(tr("No other devices are signed in. When you sign in elsewhere, the device shows "
                               "up here and you can sign it out from this window."),
                            listPage);
    m_onlyThis->setWordWrap(true);
    m_onlyThis->setAlignment(Qt::AlignCenter);
    m_onlyThis->setContentsMargins(24, 8, 24, 24);
    listLayout->addWidget(m_onlyThis);
    m_stack->addWidget(listPage);
    layout->addWidget(m_stack, 1);

    connect(m_refresh, &QPushButton::clicked, this, [this] {
        m_manualReload = true;
        reload();
    });
    connect(m_signOutOthers, &QPushButton::clicked, this, &SessionsPage::confirmSignOutOthers);
    setTabOrder(m_refresh, m_signOutOthers);
    setTabOrder(m_signOutOthers, m_view);
}

SessionsPage::State SessionsPage::state() const
{
    return static_cast<State>(m_stack->currentIndex());
}

void SessionsPage::setLiveUpdates(bool live)
{
    m_live = live;
    if (m_updatedAt.isValid() && !m_statusIsError)
        showUpdated();
}

void SessionsPage::showUpdated()
{
    // "Updated" is when the list was last fetched. While the agent's event stream is live, every
    // change reloads it at once, so the list is current even when that time is old: say so.
    const QString time = QLocale().toString(m_updatedAt.time(), QStringLiteral("HH:mm"));
    m_status->setText(m_live ? tr("Live · updated %1").arg(time) : tr("Updated %1").arg(time));
    m_status->setToolTip(m_live ? tr("Changes to your sessions show here as they happen.")
                                : tr("The list is checked every 30 seconds."));
    m_status->setPalette(palette());
    m_status->setVisible(true);
}

void SessionsPage::setActive(bool active)
{
    if (active) {
        m_timer.start();
        reload();
    } else {
        m_timer.stop();
        m_loadedOnce = false;
        m_model->setSessions({});
        m_stack->setCurrentIndex(int(State::Loading));
        hideBanner();
        m_status->setVisible(false);
        m_updatedAt = {};
        setOffline(false, {});
    }
}

void SessionsPage::reloadIfStale()
{
    if (!m_sinceReload.isValid() || m_sinceReload.elapsed() > kMinFocusReloadMs)
        reload();
}

void SessionsPage::reload()
{
    if (m_loading) {
        // Something changed while a load was on its way (an agent event, a revocation): its
        // answer may predate the change, so load once more afterwards.
        m_reloadAgain = true;
        return;
    }
    m_loading = true;
    const quint64 seq = ++m_loadSeq;
    const bool manual = std::exchange(m_manualReload, false);
    m_sinceReload.start();
    if (!m_loadedOnce)
        m_stack->setCurrentIndex(int(State::Loading));
    m_api->listSessions().then(this, [this, seq, manual](const Result<std::vector<SessionDto>>& r) {
        m_loading = false;
        if (std::exchange(m_reloadAgain, false))
            QTimer::singleShot(0, this, &SessionsPage::reload);
        if (!r) {
            const bool unreachable =
                r.error().code == ErrorCode::NetworkError || r.error().code == ErrorCode::Unavailable;
            setOffline(unreachable, describeError(r.error()));
            Q_EMIT sessionsUnavailable();
            // A list already on screen stays, under a notice that says how old it is; only the
            // first load turns into the error state.
            if (m_loadedOnce) {
                const QString when =
                    QLocale().toString(m_updatedAt.toLocalTime().time(), QStringLiteral("HH:mm"));
                m_status->setText(
                    unreachable
                        ? tr("Offline: %1 The list below is from %2.").arg(describeError(r.error()), when)
                        : tr("Could not refresh the list: %1 The list below is from %2.")
                              .arg(describeError(r.error()), when));
                m_statusIsError = true;
                QPalette pal = m_status->palette();
                pal.setColor(QPalette::WindowText, Theme::danger(palette()));
                m_status->setPalette(pal);
                m_status->setVisible(true);
            } else {
                m_errorText->setText(
                    tr("<p style='font-size:large'><b>Could not load your sessions</b></p><p>%1</p>")
                        .arg(describeError(r.error()).toHtmlEscaped()));
                m_stack->setCurrentIndex(int(State::Error));
            }
            return;
        }
        m_loadedOnce = true;
        setOffline(false, {});
        m_updatedAt = QDateTime::currentDateTime();
        m_statusIsError = false;
        showUpdated();
        m_model->setSessions(*r);
        // A row is current from the start, so the focused list shows where the keys will act.
        if (!m_view->currentIndex().isValid() && m_model->rowCount() > 0)
            m_view->setCurrentIndex(m_model->index(0));
        // The last action's message belongs to the list it changed: it goes when the list changes
        // again, or when the person asks for a fresh list.
        if (m_banner->isVisible()) {
            if (seq <= m_bannerKeepSeq)
                m_bannerIds = currentIds();
            else if (manual || currentIds() != m_bannerIds)
                hideBanner();
        }
        const int count = m_model->rowCount();
        int oldestDays = 0;
        for (const SessionDto& s : *r)
            oldestDays = std::max(oldestDays, int(s.createdAt.daysTo(QDateTime::currentDateTimeUtc())));
        m_onlyThis->setVisible(count <= 1);
        m_signOutOthers->setEnabled(count > 1);
        m_summary->setText(count == 1
                               ? tr("Only this device is signed in to your account.")
                               : tr("%1 devices are signed in to your account. Sign out any you do not "
                                    "recognise.")
                                     .arg(count));
        m_stack->setCurrentIndex(int(State::List));
        Q_EMIT sessionsSeen(count, oldestDays);
        Q_EMIT reloaded(count);
    });
}

QStringList SessionsPage::currentIds() const
{
    QStringList ids;
    for (const SessionDto& s : m_model->sessions())
        ids << s.id;
    ids.sort();
    return ids;
}

void SessionsPage::setOffline(bool offline, const QString& reason)
{
    m_offline = offline;
    m_delegate->setActionsEnabled(!offline);
    const QString why =
        offline ? tr("Not available while the server cannot be reached: %1").arg(reason) : QString();
    m_signOutOthers->setEnabled(!offline && m_model->rowCount() > 1);
    m_signOutOthers->setToolTip(why);
    m_view->viewport()->update();
}

void SessionsPage::hideBanner()
{
    m_banner->clear();
    m_banner->setVisible(false);
    m_bannerIds.clear();
}

void SessionsPage::showBanner(const QString& text, bool error, bool reloadFollows)
{
    QPalette pal = m_banner->palette();
    pal.setColor(QPalette::WindowText, error ? Theme::danger(palette()) : Theme::success(palette()));
    m_banner->setPalette(pal);
    m_banner->setText(text);
    m_banner->setVisible(!text.isEmpty());
    m_bannerIds = currentIds();
    // Kept through the reload the caller starts next (or queues behind the running one).
    m_bannerKeepSeq = reloadFollows ? m_loadSeq + 1 : m_loadSeq;
}

void SessionsPage::confirmRevoke(int row)
{
    const QModelIndex index = m_model->index(row);
    if (!index.isValid())
        return;
    if (index.data(SessionListModel::IsCurrentRole).toBool()) {
        showBanner(tr("This is the device you are using. To end this session, use “%1” at the top right of "
                      "the window.")
                       .arg(m_signOutName),
                   true, false);
        return;
    }
    const QString id = index.data(SessionListModel::IdRole).toString();
    const QString title = index.data(SessionListModel::TitleRole).toString();
    if (m_offline) {
        showBanner(tr("Cannot sign out “%1” now: the server cannot be reached. Try again when the connection "
                      "is back.")
                       .arg(title),
                   true, false);
        return;
    }
    auto* box = new QMessageBox(QMessageBox::Question, tr("Sign out device"), tr("Sign out “%1”?").arg(title),
                                QMessageBox::Cancel, this);
    // The device name comes from whoever signed in: text, never markup (no <img>, no links).
    box->setTextFormat(Qt::PlainText);
    // Enough to decide: when and where the device was last used.
    const QString network = index.data(SessionListModel::NetworkLineRole).toString();
    const QString lastActive = relativeTime(index.data(SessionListModel::LastActivityRole).toDateTime(),
                                            QDateTime::currentDateTimeUtc());
    box->setInformativeText((network.isEmpty() ? tr("Last active %1.").arg(lastActive)
                                               : tr("Last active %1 at %2.").arg(lastActive, network)) +
                            QLatin1Char('\n') + tr("Whoever uses that device will have to sign in again."));
    QPushButton* yes = box->addButton(tr("Sign out"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setObjectName(QStringLiteral("confirmRevoke"));
    connect(box, &QMessageBox::buttonClicked, this, [this, yes, id, title](QAbstractButton* clicked) {
        if (clicked != yes)
            return;
        m_api->revokeSession(id).then(this, [this, title](const Result<void>& r) {
            if (r)
                showBanner(tr("Signed out “%1”.").arg(title), false);
            else
                showBanner(tr("Could not sign out “%1”. %2").arg(title, describeError(r.error())), true);
            reload();
        });
    });
    box->open();
}

void SessionsPage::confirmSignOutOthers()
{
    // Name the devices that will be signed out (the first few, and how many more).
    constexpr int kNamed = 5;
    QStringList names;
    int others = 0;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const QModelIndex index = m_model->index(row);
        if (index.data(SessionListModel::IsCurrentRole).toBool())
            continue;
        if (++others <= kNamed)
            names << index.data(SessionListModel::TitleRole).toString();
    }
    if (others > kNamed)
        names << tr("%n more", nullptr, others - kNamed);
    const QString which =
        others == 1 ? tr("1 other device will be signed out: %1.").arg(names.join(QStringLiteral(", ")))
        : others > 1
            ? tr("%1 other devices will be signed out: %2.").arg(others).arg(names.join(QStringLiteral(", ")))
            : tr("Every device except this one will be signed out.");
    auto* dialog = new PasswordDialog(tr("Sign out all other devices"),
                                      which + QLatin1Char(' ') + tr("Enter your password to confirm."),
                                      tr("Sign out others"), false, this);
    dialog->setObjectName(QStringLiteral("confirmSignOutOthers"));
    connect(dialog, &PasswordDialog::submitted, this,
            [this, dialog](const QString& password, const QString&) {
                m_api->revokeOtherSessions(password).then(dialog, [this, dialog](const Result<int>& r) {
                    if (!r) {
                        dialog->showError(describeError(r.error()));
                        return;
                    }
                    showBanner(*r == 0 ? tr("No other devices were signed in.")
                                       : (*r == 1 ? tr("Signed out 1 other device.")
                                                  : tr("Signed out %1 other devices.").arg(*r)),
                               false);
                    dialog->accept();
                    reload();
                });
            });
    dialog->open();
}

void SessionsPage::renameSession(const QString& id, const QString& name)
{
    m_api->renameSession(id, name).then(this, [this, id, name](const Result<void>& r) {
        if (!r) {
            showBanner(tr("Could not rename the device. %1").arg(describeError(r.error())), true);
        } else {
            const int row = m_model->rowOf(id);
            const QString shown =
                row < 0 ? name : m_model->index(row).data(SessionListModel::TitleRole).toString();
            showBanner(name.isEmpty() ? tr("Name removed: the device shows as “%1” again.").arg(shown)
                                      : tr("Renamed to “%1”.").arg(name),
                       false);
        }
        reload();
    });
}

} // namespace ehrs::app
