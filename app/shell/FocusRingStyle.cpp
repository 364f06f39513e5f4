// SPDX-License-Identifier: Apache-2.0
#include "FocusRingStyle.h"

#include <QPainter>
#include <QStyleFactory>
#include <QStyleOption>

namespace ehrs::app {

FocusRingStyle::FocusRingStyle(QStyle* base)
    : QProxyStyle(base ? base : QStyleFactory::create(QStringLiteral("Fusion")))
{
}

void FocusRingStyle::drawRing(QPainter* painter, const QRect& rect, const QPalette& palette)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing, false);
    painter->setBrush(Qt::NoBrush);
    const QColor accent = palette.color(QPalette::Active, QPalette::Highlight);
    // Two one-pixel rectangles: crisp at 1x and 2x, whatever the pen's rounding.
    painter->setPen(QPen(accent, 1));
    for (int i = 0; i < kRingWidth; ++i)
        painter->drawRect(rect.adjusted(i, i, -1 - i, -1 - i));
    painter->restore();
}

void FocusRingStyle::drawControl(ControlElement element, const QStyleOption* option, QPainter* painter,
                                 const QWidget* widget) const
{
    QProxyStyle::drawControl(element, option, painter, widget);
    if (element == CE_PushButton && (option->state & State_HasFocus) && (option->state & State_Enabled))
        drawRing(painter, option->rect, option->palette);
}

void FocusRingStyle::drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                                   const QWidget* widget) const
{
    if (element == PE_FrameFocusRect) {
        // Check boxes, radio buttons, tabs, item views: the same ring as buttons.
        drawRing(painter, option->rect, option->palette);
        return;
    }
    QProxyStyle::drawPrimitive(element, option, painter, widget);
}

} // namespace ehrs::app
