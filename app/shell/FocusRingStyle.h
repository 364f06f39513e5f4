// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QProxyStyle>

namespace ehrs::app {

/// Fusion with a focus ring nobody misses: the control that has the keyboard focus (a button,
/// check box, tab, or a button the session list paints) gets a 2 px ring in the palette's accent
/// colour, instead of Fusion's faint one-pixel outline.
class FocusRingStyle : public QProxyStyle
{
    Q_OBJECT
public:
    /// Takes ownership of `base` (Fusion when null).
    explicit FocusRingStyle(QStyle* base = nullptr);

    static constexpr int kRingWidth = 2;

    void drawControl(ControlElement element, const QStyleOption* option, QPainter* painter,
                     const QWidget* widget = nullptr) const override;
    void drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                       const QWidget* widget = nullptr) const override;

    /// Draws the ring inside `rect` (what the style does for a focused control).
    static void drawRing(QPainter* painter, const QRect& rect, const QPalette& palette);
};

} // namespace ehrs::app
