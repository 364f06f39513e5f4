// SPDX-License-Identifier: Apache-2.0
#include "Theme.h"

#include "FocusRingStyle.h"

#include <QApplication>
#include <QStyleFactory>

namespace ehrs::app {

ThemeMode Theme::modeFromName(const QString& name)
{
    if (name.compare(u"light", Qt::CaseInsensitive) == 0)
        return ThemeMode::Light;
    if (name.compare(u"dark", Qt::CaseInsensitive) == 0)
        return ThemeMode::Dark;
    return ThemeMode::System;
}

QPalette Theme::palette(ThemeMode mode)
{
    QPalette p;
    const bool dark = mode == ThemeMode::Dark;
    const QColor window = dark ? QColor(0x1e, 0x22, 0x27) : QColor(0xf5, 0xf6, 0xf8);
    const QColor base = dark ? QColor(0x26, 0x2b, 0x31) : QColor(0xff, 0xff, 0xff);
    const QColor text = dark ? QColor(0xe6, 0xe8, 0xeb) : QColor(0x1f, 0x23, 0x28);
    const QColor muted = dark ? QColor(0x9a, 0xa3, 0xad) : QColor(0x5c, 0x64, 0x6e);
    const QColor accent = dark ? QColor(0x4c, 0x9a, 0xff) : QColor(0x1f, 0x6f, 0xeb);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, dark ? QColor(0x2c, 0x32, 0x39) : QColor(0xf0, 0xf3, 0xf7));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::PlaceholderText, muted);
    p.setColor(QPalette::Button, dark ? QColor(0x30, 0x36, 0x3d) : QColor(0xf0, 0xf1, 0xf3));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, accent);
    p.setColor(QPalette::HighlightedText, QColor(Qt::white));
    p.setColor(QPalette::Link, accent);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Mid, dark ? QColor(0x45, 0x4c, 0x55) : QColor(0xd0, 0xd5, 0xdb));
    p.setColor(QPalette::Midlight, dark ? QColor(0x3a, 0x40, 0x48) : QColor(0xe3, 0xe6, 0xea));
    p.setColor(QPalette::Dark, dark ? QColor(0x15, 0x18, 0x1c) : QColor(0xa0, 0xa6, 0xad));
    p.setColor(QPalette::Disabled, QPalette::Text, muted);
    p.setColor(QPalette::Disabled, QPalette::WindowText, muted);
    p.setColor(QPalette::Disabled, QPalette::ButtonText, muted);
    return p;
}

void Theme::apply(QApplication& app, ThemeMode mode)
{
    // Fusion everywhere, with a focus ring keyboard users can see (FocusRingStyle).
    app.setStyle(new FocusRingStyle(QStyleFactory::create(QStringLiteral("Fusion"))));
    if (mode == ThemeMode::System) {
        // Follow the desktop's lightness, with our accent and spacing.
        const bool systemDark = app.palette().color(QPalette::Window).lightness() < 128;
        app.setPalette(palette(systemDark ? ThemeMode::Dark : ThemeMode::Light));
        return;
    }
    app.setPalette(palette(mode));
}

bool Theme::isDark(const QPalette& p)
{
    return p.color(QPalette::Window).lightness() < 128;
}

QColor Theme::success(const QPalette& p)
{
    return isDark(p) ? QColor(0x56, 0xd3, 0x64) : QColor(0x1a, 0x7f, 0x37);
}

QColor Theme::danger(const QPalette& p)
{
    return isDark(p) ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
}

QColor Theme::warning(const QPalette& p)
{
    return isDark(p) ? QColor(0xe3, 0xb3, 0x41) : QColor(0x9a, 0x67, 0x00);
}

} // namespace ehrs::app
