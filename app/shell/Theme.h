// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QPalette>
#include <QString>

class QApplication;

namespace ehrs::app {

enum class ThemeMode { System, Light, Dark };

/// Light and dark palettes on the Fusion style, so the app looks the same on every desktop and
/// the delegate's colours (taken from the palette) work in both.
class Theme
{
public:
    /// "light", "dark" or anything else for the system's.
    static ThemeMode modeFromName(const QString& name);
    static QPalette palette(ThemeMode mode);
    static void apply(QApplication& app, ThemeMode mode);
    /// Colours the palette lacks: success/warning/danger text, tuned for the palette's lightness.
    static QColor success(const QPalette& p);
    static QColor danger(const QPalette& p);
    static QColor warning(const QPalette& p);
    static bool isDark(const QPalette& p);
};

} // namespace ehrs::app
