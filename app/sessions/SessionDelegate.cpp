// SPDX-License-Identifier: Apache-2.0
#include "SessionDelegate.h"

#include "SessionListModel.h"
#include "shell/DeviceIcons.h"
#include "shell/Theme.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

namespace ehrs::app {
namespace {
constexpr int kPadding = 12;
constexpr int kIconSize = 32;
constexpr int kLineGap = 3;
constexpr int kButtonGap = 8;

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

SessionDelegate::SessionDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QSize SessionDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const
{
    const QFontMetrics title(titleFont(option.font));
    const QFontMetrics body(option.font);
    const int h = kPadding * 2 + title.height() + 3 * (body.height() + kLineGap);
    return {480, h};
}

QRect SessionDelegate::buttonRect(const QStyleOptionViewItem& option, const QModelIndex& index,
                                  Button button) const
{
    const bool current = index.data(SessionListModel::IsCurrentRole).toBool();
    const QSize revoke = buttonSize(option, Button::Revoke);
    const QSize rename = buttonSize(option, Button::Rename);
    const int y = option.rect.center().y() - revoke.height() / 2;
    const QRect revokeRect(option.rect.right() - kPadding - revoke.width(), y, revoke.width(),
                           revoke.height());
    if (button == Button::Revoke)
        return current ? QRect() : revokeRect;
    if (button == Button::Rename) {
        const int right = current ? revokeRect.right() : revokeRect.left() - kButtonGap;
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
                                  const QString& text, bool hovered, bool pressed) const
{
    QStyleOptionButton b;
    b.rect = rect;
    b.text = text;
    b.palette = option.palette;
    b.fontMetrics = option.fontMetrics;
    b.state = QStyle::State_Enabled | (option.state & QStyle::State_Active);
    if (hovered)
        b.state |= QStyle::State_MouseOver;
    b.state |= pressed ? QStyle::State_Sunken : QStyle::State_Raised;
    const QWidget* widget = option.widget;
    QStyle* style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_PushButton, &b, painter, widget);
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
    const QRect iconRect(option.rect.left() + kPadding + 6, option.rect.center().y() - kIconSize / 2,
                         kIconSize, kIconSize);
    painter->drawPixmap(iconRect.topLeft(),
                        DeviceIcons::pixmap(type, kIconSize, current ? accent : textColor, dpr));

    const int textLeft = iconRect.right() + kPadding + 4;
    const QRect revoke = buttonRect(option, index, Button::Revoke);
    const QRect rename = buttonRect(option, index, Button::Rename);
    const int textRight = rename.left() - kPadding;
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
    paintButton(painter, option, rename, buttonText(Button::Rename),
                hoverRow && m_hoverButton == Button::Rename, hoverRow && m_pressedButton == Button::Rename);
    if (!revoke.isNull()) {
        paintButton(painter, option, revoke, buttonText(Button::Revoke),
                    hoverRow && m_hoverButton == Button::Revoke,
                    hoverRow && m_pressedButton == Button::Revoke);
    }
    if (option.state & QStyle::State_HasFocus) {
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
        if (buttonAt(option, index, me->position().toPoint()) == pressed) {
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

QWidget* SessionDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem&, const QModelIndex&) const
{
    auto* edit = new QLineEdit(parent);
    edit->setMaxLength(100);
    edit->setPlaceholderText(tr("Name this device (empty: automatic name)"));
    edit->setAccessibleName(tr("Session name"));
    return edit;
}

void SessionDelegate::updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                                           const QModelIndex& index) const
{
    const QFontMetrics tfm(titleFont(option.font));
    const int left = option.rect.left() + kPadding + 6 + kIconSize + kPadding + 4;
    const int right = buttonRect(option, index, Button::Rename).left() - kPadding;
    const int h = std::max(tfm.height() + 8, editor->sizeHint().height());
    editor->setGeometry(left - 4, option.rect.top() + kPadding - 4, right - left + 4, h);
}

} // namespace ehrs::app
