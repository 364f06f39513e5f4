// SPDX-License-Identifier: Apache-2.0
#pragma once

// Checks the app's widget tests run on whatever is on screen: texts shown whole, fields not
// squashed, no keyboard mnemonic used twice in one window.

#include <QAbstractButton>
#include <QHash>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QStringList>
#include <QTabBar>
#include <QWidget>

namespace ehrs::app::test {

/// Visible texts in `root` that do not fit their widget: word-wrapped labels shorter than their
/// text needs, single-line labels and buttons narrower than their text, line edits squashed below
/// their minimum height or too narrow for their placeholder.
inline QStringList clippedTexts(QWidget* root)
{
    QStringList clipped;
    const auto describe = [](QWidget* w, const QString& text, const QString& what) {
        return QStringLiteral("%1 '%2' (%3): %4")
            .arg(QLatin1String(w->metaObject()->className()), text.left(40), w->objectName(), what);
    };
    for (QWidget* w : root->findChildren<QWidget*>()) {
        if (!w->isVisibleTo(root) || w->width() <= 0)
            continue;
        if (auto* label = qobject_cast<QLabel*>(w)) {
            if (label->text().isEmpty())
                continue;
            if (label->wordWrap()) {
                const int need = label->heightForWidth(label->width());
                if (need > label->height() + 1)
                    clipped << describe(
                        w, label->text(),
                        QStringLiteral("needs %1 px high, has %2").arg(need).arg(label->height()));
            } else if (label->minimumSizeHint().width() > label->width() + 1) {
                clipped << describe(w, label->text(),
                                    QStringLiteral("needs %1 px wide, has %2")
                                        .arg(label->minimumSizeHint().width())
                                        .arg(label->width()));
            }
        } else if (auto* edit = qobject_cast<QLineEdit*>(w)) {
            if (edit->height() + 1 < edit->minimumSizeHint().height())
                clipped << describe(w, edit->placeholderText(),
                                    QStringLiteral("squashed to %1 px high").arg(edit->height()));
            // The placeholder's width plus the frame and text margins Fusion draws.
            const int need = edit->fontMetrics().horizontalAdvance(edit->placeholderText()) + 12;
            if (!edit->placeholderText().isEmpty() && need > edit->width())
                clipped << describe(
                    w, edit->placeholderText(),
                    QStringLiteral("placeholder needs %1 px, has %2").arg(need).arg(edit->width()));
        } else if (auto* button = qobject_cast<QAbstractButton*>(w)) {
            const QSize need = button->minimumSizeHint();
            if (!button->text().isEmpty() &&
                (need.width() > button->width() + 1 || need.height() > button->height() + 1))
                clipped << describe(w, button->text(), QStringLiteral("button smaller than its text"));
        }
    }
    return clipped;
}

/// Keyboard mnemonics (Alt+letter) that more than one visible control of `window` claims: buttons,
/// labels with a buddy, and tabs.
inline QStringList duplicateMnemonics(QWidget* window)
{
    QHash<QString, QStringList> owners;
    const auto add = [&owners](const QString& text) {
        const QKeySequence key = QKeySequence::mnemonic(text);
        if (!key.isEmpty())
            owners[key.toString()] << text;
    };
    QList<QWidget*> widgets = window->findChildren<QWidget*>();
    widgets.prepend(window);
    for (QWidget* w : widgets) {
        if (!w->isVisibleTo(window))
            continue;
        if (auto* button = qobject_cast<QAbstractButton*>(w))
            add(button->text());
        else if (auto* label = qobject_cast<QLabel*>(w); label && label->buddy())
            add(label->text());
        else if (auto* bar = qobject_cast<QTabBar*>(w)) {
            for (int i = 0; i < bar->count(); ++i)
                add(bar->tabText(i));
        }
    }
    QStringList duplicates;
    for (auto it = owners.cbegin(); it != owners.cend(); ++it) {
        if (it.value().size() > 1)
            duplicates << QStringLiteral("%1: %2").arg(it.key(), it.value().join(QStringLiteral(" / ")));
    }
    duplicates.sort();
    return duplicates;
}

} // namespace ehrs::app::test
