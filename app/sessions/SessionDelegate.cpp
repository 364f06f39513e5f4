// SPDX-License-Identifier: Apache-2.0
#include "SessionDelegate.h"

#include "SessionListModel.h"
#include "shell/DeviceIcons.h"
#include "shell/FocusRingStyle.h"
#include "shell/Theme.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

namespace ehrs::app {
namespace {
constexpr int kPadding = 12;
constexpr int kIconSize = 32;
constexpr int kLineGap = 3;
constexpr int kButtonGap = 8;
constexpr int kTextLeft = kPadding + 6 + kIconSize + kPadding + 4;
constexpr int kMinRowWidth = 480;

QFont titleFont(const QFont& base)
{
    QFont f = base;
    f.setBold(true);
    f.setPointSizeF(base.pointSizeF() * 1.08);
    return f;
}

QColor mix(const QColor& a, const QColor& b, qreal t)
{
    return QColor::fromRgbF(a.redF() * (1 - t) + b.redF() * t, a.greenF() * (1 - t) + b.greenF() * t,
                            a.blueF() * (1 - t) + b.blueF() * t);
}

QString buttonText(SessionDelegate::Button b)
{
    return b == SessionDelegate::Button::Revoke ? SessionDelegate::tr("Sign out")
                                                : SessionDelegate::tr("Rename");
}

QSize buttonSize(const QStyleOptionViewItem& option, SessionDelegate::Button b)
{
    const QFontMetrics fm(option.font);
    return {fm.horizontalAdvance(buttonText(b)) + 24, fm.height() + 12};
}
} // namespace

SessionDelegate::SessionDelegate(QObject* parent) : QStyledItemDelegate(parent)
{
    if (auto* view = qobject_cast<QAbstractItemView*>(parent))
        view->installEventFilter(this);
}

void SessionDelegate::setFocusButton(QAbstractItemView* view, Button button)
{
    m_focusButton = button;
    m_focusIndex = button == Button::None ? QModelIndex() : view->currentIndex();
    // Screen readers hear which button the keys now act on.
    const QString title = view->currentIndex().data(SessionListModel::TitleRole).toString();
    view->setAccessibleDescription(
        button == Button::Rename ? tr("Rename “%1” button: press Enter to rename it.").arg(title)
        : button == Button::Revoke
            ? tr("Sign out “%1” button: press Enter to sign it out.").arg(title)
            : tr("F2 renames the selected device, Delete signs it out, Tab reaches its "
                 "buttons."));
    view->viewport()->update();
}

bool SessionDelegate::eventFilter(QObject* watched, QEvent* event)
{
    // The view installs this delegate on its editors too: those events are the base class's.
    auto* view = qobject_cast<QAbstractItemView*>(watched);
    if (!view || watched != parent())
        return QStyledItemDelegate::eventFilter(watched, event);
    if (event->type() == QEvent::FocusOut && m_focusButton != Button::None) {
        setFocusButton(view, Button::None);
        return false;
    }
    if (event->type() != QEvent::KeyPress) // while renaming, the keys go to the editor, not here
        return false;
    const auto* key = static_cast<QKeyEvent*>(event);
    const QModelIndex current = view->currentIndex();
    if (m_focusButton != Button::None && m_focusIndex != current)
        setFocusButton(view, Button::None); // the current row changed under the focused button
    if (!current.isValid())
        return false;
    const bool hasRevoke = !current.data(SessionListModel::IsCurrentRole).toBool();
    const bool plain = (key->modifiers() & ~Qt::KeypadModifier) == Qt::NoModifier;
    switch (key->key()) {
    case Qt::Key_Tab:
        if (!plain)
            return false;
        if (m_focusButton == Button::None) {
            setFocusButton(view, Button::Rename);
            return true;
        }
        if (m_focusButton == Button::Rename && hasRevoke) {
            setFocusButton(view, Button::Revoke);
            return true;
        }
        setFocusButton(view, Button::None);
        return false; // on to the next control
    case Qt::Key_Backtab:
        if (m_focusButton == Button::Revoke) {
            setFocusButton(view, Button::Rename);
            return true;
        }
        if (m_focusButton == Button::Rename) {
            setFocusButton(view, Button::None);
            return true;
        }
        return false;
    case Qt::Key_Return:
    case Qt::Key_Enter:
    case Qt::Key_Space:
        if (m_focusButton == Button::None || !plain)
            return false;
        if (m_actionsEnabled) {
            if (m_focusButton == Button::Revoke)
                Q_EMIT revokeClicked(current);
            else
                Q_EMIT renameClicked(current);
        }
        return true;
    default:
        if (m_focusButton != Button::None && key->key() != Qt::Key_Shift)
            setFocusButton(view, Button::None); // arrows and the rest act on the row again
        return false;
    }
}

QSize SessionDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    const QFontMetrics title(titleFont(option.font));
    const QFontMetrics body(option.font);
    int h = kPadding * 2 + title.height() + 3 * (body.height() + kLineGap);
    if (isStacked(option, index))
        h += buttonSize(option, Button::Revoke).height() + kLineGap;
    return {kMinRowWidth, h};
}

int SessionDelegate::rowWidth(const QStyleOptionViewItem& option)
{
    if (option.rect.width() > 0)
        return option.rect.width();
    const auto* view = qobject_cast<const QAbstractItemView*>(option.widget);
    return view ? view->viewport()->width() : kMinRowWidth;
}

int SessionDelegate::neededTextWidth(const QStyleOptionViewItem& option, const QModelIndex& index)
{
    const QFontMetrics tfm(titleFont(option.font));
    const QFontMetrics fm(option.font);
    int need = tfm.horizontalAdvance(index.data(SessionListModel::TitleRole).toString());
    if (index.data(SessionListModel::IsCurrentRole).toBool())
        need += fm.horizontalAdvance(tr("This device")) + 24;
    for (int role : {SessionListModel::DeviceLineRole, SessionListModel::NetworkLineRole,
                     SessionListModel::TimeLineRole})
        need = std::max(need, fm.horizontalAdvance(index.data(role).toString()));
    // The title and device name may be long and are elided by design; the time and network lines
    // are what must stay whole, so a long title alone does not move the buttons.
    return std::min(need,
                    std::max(fm.horizontalAdvance(index.data(SessionListModel::TimeLineRole).toString()),
                             fm.horizontalAdvance(index.data(SessionListModel::NetworkLineRole).toString())));
}

bool SessionDelegate::isStacked(const QStyleOptionViewItem& option, const QModelIndex& index)
{
    // Side by side the text gets what the icon and the two buttons leave; when that would cut a
    // line ("active 1 minut…" at the minimum window size), the buttons go under the text.
    const int buttons = buttonSize(option, Button::Revoke).width() + kButtonGap +
                        buttonSize(option, Button::Rename).width() + kPadding * 2;
    const int available = rowWidth(option) - kTextLeft - buttons;
    return available < neededTextWidth(option, index) + 2;
}

int SessionDelegate::textWidth(const QStyleOptionViewItem& option, const QModelIndex& index) const
{
    const int left = option.rect.left() + kTextLeft;
    const int right = isStacked(option, index) ? option.rect.right() - kPadding
                                               : buttonRect(option, index, Button::Rename).left() - kPadding;
    return right - left;
}

QRect SessionDelegate::buttonRect(const QStyleOptionViewItem& option, const QModelIndex& index,
                                  Button button) const
{
    const bool current = index.data(SessionListModel::IsCurrentRole).toBool();
    const QSize revoke = buttonSize(option, Button::Revoke);
    const QSize rename = buttonSize(option, Button::Rename);
    const int y = isStacked(option, index) ? option.rect.bottom() - kPadding - revoke.height() + 1
                                           : option.rect.center().y() - revoke.height() / 2;
    const QRect revokeRect(option.rect.right() - kPadding - revoke.width(), y, revoke.width(),
                           revoke.height());
    if (button == Button::Revoke)
        return current ? QRect() : revokeRect;
    if (button == Button::Rename) {
        // Every row's Rename in one column; on this device's row the Sign out column stays empty.
        const int right = revokeRect.left() - kButtonGap;
        return {right - rename.width() + 1, y, rename.width(), rename.height()};
    }
    return {};
}

SessionDelegate::Button SessionDelegate::buttonAt(const QStyleOptionViewItem& option,
                                                  const QModelIndex& index, const QPoint& pos) const
{
    for (Button b : {Button::Revoke, Button::Rename}) {
        if (buttonRect(option, index, b).contains(pos))
            return b;
    }
    return Button::None;
}

void SessionDelegate::paintButton(QPainter* painter, const QStyleOptionViewItem& option, const QRect& rect,
                                  const QString& text, bool hovered, bool pressed, bool focused) const
{
    QStyleOptionButton b;
    b.rect = rect;
    b.text = text;
    b.palette = option.palette;
    b.fontMetrics = option.fontMetrics;
    b.state = (m_actionsEnabled ? QStyle::State_Enabled : QStyle::State_None) |
              (option.state & QStyle::State_Active);
    if (hovered)
        b.state |= QStyle::State_MouseOver;
    if (focused)
        b.state |= QStyle::State_HasFocus | QStyle::State_KeyboardFocusChange;
    b.state |= pressed ? QStyle::State_Sunken : QStyle::State_Raised;
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_PushButton, &b, painter, widget);
    if (focused && m_actionsEnabled && !qobject_cast<const FocusRingStyle*>(style))
        FocusRingStyle::drawRing(painter, rect, option.palette); // the same ring under any style
}

void SessionDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                            const QModelIndex& index) const
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QPalette& pal = option.palette;
    const bool current = index.data(SessionListModel::IsCurrentRole).toBool();
    const bool selected = option.state & QStyle::State_Selected;
    const QColor accent = pal.color(QPalette::Highlight);
    const QColor base = pal.color(QPalette::Base);

    // Card background: the current device tinted with the accent, the selected row more so.
    const QRectF card = QRectF(option.rect).adjusted(4, 3, -4, -3);
    QColor fill = current ? mix(base, accent, 0.10) : base;
    if (selected)
        fill = mix(fill, accent, 0.14);
    QPainterPath path;
    path.addRoundedRect(card, 8, 8);
    painter->fillPath(path, fill);
    painter->setPen(QPen(selected ? accent : pal.color(QPalette::Mid), selected ? 1.5 : 1.0));
    painter->drawPath(path);
    if (current) {
        QPainterPath bar;
        bar.addRoundedRect(QRectF(card.left(), card.top(), 4, card.height()), 2, 2);
        painter->fillPath(bar, accent);
    }

    const qreal dpr = painter->device() ? painter->device()->devicePixelRatioF() : 1.0;
    const QColor textColor = pal.color(QPalette::Text);
    const QColor muted = pal.color(QPalette::PlaceholderText);
    const QString type = index.data(SessionListModel::DeviceTypeRole).toString();
    const QRect iconRect(option.rect.left() + kPadding + 6, option.rect.top() + kPadding + 4, kIconSize,
                         kIconSize);
    painter->drawPixmap(iconRect.topLeft(),
                        DeviceIcons::pixmap(type, kIconSize, current ? accent : textColor, dpr));

    const int textLeft = option.rect.left() + kTextLeft;
    const QRect revoke = buttonRect(option, index, Button::Revoke);
    const QRect rename = buttonRect(option, index, Button::Rename);
    const int textRight = textLeft + textWidth(option, index);
    int y = option.rect.top() + kPadding;

    const QFont tf = titleFont(option.font);
    const QFontMetrics tfm(tf);
    painter->setFont(tf);
    painter->setPen(textColor);
    QString title = index.data(SessionListModel::TitleRole).toString();
    const QString badge = tr("This device");
    const int badgeWidth = current ? QFontMetrics(option.font).horizontalAdvance(badge) + 16 : 0;
    title = tfm.elidedText(title, Qt::ElideRight, std::max(40, textRight - textLeft - badgeWidth - 8));
    const QRect titleRect(textLeft, y, tfm.horizontalAdvance(title), tfm.height());
    painter->drawText(titleRect, Qt::AlignLeft | Qt::AlignVCenter, title);
    if (current) {
        const QFontMetrics bfm(option.font);
        const QRectF pill(titleRect.right() + 8, y + (tfm.height() - bfm.height() - 4) / 2.0, badgeWidth,
                          bfm.height() + 4);
        QPainterPath p;
        p.addRoundedRect(pill, pill.height() / 2, pill.height() / 2);
        painter->fillPath(p, accent);
        painter->setFont(option.font);
        painter->setPen(pal.color(QPalette::HighlightedText));
        painter->drawText(pill, Qt::AlignCenter, badge);
    }
    y += tfm.height() + kLineGap;

    painter->setFont(option.font);
    const QFontMetrics fm(option.font);
    const int width = textRight - textLeft;
    for (int role : {SessionListModel::DeviceLineRole, SessionListModel::NetworkLineRole,
                     SessionListModel::TimeLineRole}) {
        QString line = index.data(role).toString();
        if (line.isEmpty() && role == SessionListModel::NetworkLineRole)
            line = tr("Unknown address");
        painter->setPen(role == SessionListModel::DeviceLineRole ? textColor : muted);
        painter->drawText(QRect(textLeft, y, width, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                          fm.elidedText(line, Qt::ElideRight, width));
        y += fm.height() + kLineGap;
    }

    const bool hoverRow = m_hoverIndex == index;
    const bool focusRow = m_focusButton != Button::None && m_focusIndex == index;
    paintButton(painter, option, rename, buttonText(Button::Rename),
                hoverRow && m_hoverButton == Button::Rename, hoverRow && m_pressedButton == Button::Rename,
                focusRow && m_focusButton == Button::Rename);
    if (!revoke.isNull()) {
        paintButton(
            painter, option, revoke, buttonText(Button::Revoke), hoverRow && m_hoverButton == Button::Revoke,
            hoverRow && m_pressedButton == Button::Revoke, focusRow && m_focusButton == Button::Revoke);
    }
    if ((option.state & QStyle::State_HasFocus) && !focusRow) {
        painter->setPen(QPen(accent, 2));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(card.adjusted(1, 1, -1, -1), 7, 7);
    }
    painter->restore();
}

bool SessionDelegate::editorEvent(QEvent* event, QAbstractItemModel* model,
                                  const QStyleOptionViewItem& option, const QModelIndex& index)
{
    auto* view = qobject_cast<QAbstractItemView*>(parent());
    switch (event->type()) {
    case QEvent::MouseMove: {
        const Button b = buttonAt(option, index, static_cast<QMouseEvent*>(event)->position().toPoint());
        if (m_hoverIndex != index || m_hoverButton != b) {
            m_hoverIndex = index;
            m_hoverButton = b;
            if (view)
                view->viewport()->update();
        }
        break;
    }
    case QEvent::MouseButtonPress: {
        const auto* me = static_cast<QMouseEvent*>(event);
        m_pressedButton =
            me->button() == Qt::LeftButton ? buttonAt(option, index, me->position().toPoint()) : Button::None;
        m_hoverIndex = index;
        if (m_pressedButton != Button::None) {
            if (view)
                view->viewport()->update();
            return true;
        }
        break;
    }
    case QEvent::MouseButtonRelease: {
        const auto* me = static_cast<QMouseEvent*>(event);
        const Button pressed = std::exchange(m_pressedButton, Button::None);
        if (pressed == Button::None)
            break;
        if (view)
            view->viewport()->update();
        if (m_actionsEnabled && buttonAt(option, index, me->position().toPoint()) == pressed) {
            if (pressed == Button::Revoke)
                Q_EMIT revokeClicked(index);
            else
                Q_EMIT renameClicked(index);
        }
        return true;
    }
    case QEvent::MouseButtonDblClick:
        if (buttonAt(option, index, static_cast<QMouseEvent*>(event)->position().toPoint()) != Button::None)
            return true; // a fast double click on a button is two clicks, not an edit
        break;
    default:
        break;
    }
    return QStyledItemDelegate::editorEvent(event, model, option, index);
}

bool SessionDelegate::helpEvent(QHelpEvent* event, QAbstractItemView* view,
                                const QStyleOptionViewItem& option, const QModelIndex& index)
{
    if (event->type() == QEvent::ToolTip && index.isValid()) {
        const Button b = buttonAt(option, index, event->pos());
        if (b != Button::None) {
            const QString tip = !m_actionsEnabled ? tr("Not available while the server cannot be reached.")
                                : b == Button::Revoke ? tr("Sign out this device (Delete)")
                                                      : tr("Rename this device (F2)");
            QToolTip::showText(event->globalPos(), tip, view);
            return true;
        }
    }
    return QStyledItemDelegate::helpEvent(event, view, option, index);
}

QWidget* SessionDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem&, const QModelIndex&) const
{
    auto* edit = new QLineEdit(parent);
    edit->setMaxLength(100);
    edit->setPlaceholderText(tr("Name this device (empty: automatic name)"));
    edit->setAccessibleName(tr("Session name"));
    return edit;
}

void SessionDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const
{
    // Start from the name the row shows, selected: typing replaces it, arrows amend it.
    if (auto* edit = qobject_cast<QLineEdit*>(editor)) {
        edit->setText(index.data(Qt::EditRole).toString());
        edit->selectAll();
    }
}

void SessionDelegate::updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                                           const QModelIndex& index) const
{
    const QFontMetrics tfm(titleFont(option.font));
    const int left = option.rect.left() + kTextLeft;
    const int right = left + textWidth(option, index);
    const int h = std::max(tfm.height() + 8, editor->sizeHint().height());
    editor->setGeometry(left - 4, option.rect.top() + kPadding - 4, right - left + 4, h);
}

} // namespace ehrs::app
