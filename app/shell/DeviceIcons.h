// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QColor>
#include <QPixmap>
#include <QString>

namespace ehrs::app {

/// The SVG device icons of resources/icons, rendered at the target's device pixel ratio (crisp
/// at 2x) and tinted with a palette colour so they follow light and dark themes.
class DeviceIcons
{
public:
    /// `type`: desktop, laptop, mobile, tablet; anything else gets the "unknown" icon.
    static QPixmap pixmap(const QString& type, int logicalSize, const QColor& color, qreal devicePixelRatio);
    /// The resource path used for `type` (tests check which icon a row gets).
    static QString resourcePath(const QString& type);
    /// The application icon.
    static QPixmap appIcon(int logicalSize, qreal devicePixelRatio);
};

} // namespace ehrs::app
