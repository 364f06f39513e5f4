// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QPersistentModelIndex>
#include <QStyledItemDelegate>

namespace ehrs::app {

/// Paints one session row: device icon, title with a "This device" badge, device, network and
/// time lines, and Rename / Sign out buttons (Sign out only on other devices). Editing the row
/// (F2, double click, the Rename button) edits the session's name in place.
class SessionDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    explicit SessionDelegate(QObject* parent = nullptr);

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const override;

    /// Off while the server cannot be reached: the buttons show disabled, say why, and do nothing.
    void setActionsEnabled(bool enabled) { m_actionsEnabled = enabled; }
    bool actionsEnabled() const { return m_actionsEnabled; }
    bool helpEvent(QHelpEvent* event, QAbstractItemView* view, const QStyleOptionViewItem& option,
                   const QModelIndex& index) override;

    enum class Button { None, Rename, Revoke };
    /// Where a row's button is drawn (tests click it).
    QRect buttonRect(const QStyleOptionViewItem& option, const QModelIndex& index, Button button) const;
    /// The width the text lines get in `option.rect`.
    int textWidth(const QStyleOptionViewItem& option, const QModelIndex& index) const;
    /// The width the time and network lines need to show whole.
    static int neededTextWidth(const QStyleOptionViewItem& option, const QModelIndex& index);
    /// True when the buttons sit under the text (narrow rows), rather than beside it.
    static bool isStacked(const QStyleOptionViewItem& option, const QModelIndex& index);

    /// The current row's button that has the keyboard focus: Tab in the list moves to the row's
    /// Rename, then its Sign out, then out of the list (Shift+Tab back); Enter or Space presses it.
    /// None while the row itself has the focus.
    Button focusedButton() const { return m_focusButton; }

Q_SIGNALS:
    void revokeClicked(const QModelIndex& index);
    void renameClicked(const QModelIndex& index);

protected:
    /// Tab, Shift+Tab, Enter and Space in the view (the keyboard's way to the row's buttons).
    bool eventFilter(QObject* watched, QEvent* event) override;
    bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                     const QModelIndex& index) override;

private:
    static int rowWidth(const QStyleOptionViewItem& option);
    Button buttonAt(const QStyleOptionViewItem& option, const QModelIndex& index, const QPoint& pos) const;
    void paintButton(QPainter* painter, const QStyleOptionViewItem& option, const QRect& rect,
                     const QString& text, bool hovered, bool pressed, bool focused) const;

    bool m_actionsEnabled = true;
    QPersistentModelIndex m_hoverIndex;
    Button m_hoverButton = Button::None;
    Button m_pressedButton = Button::None;
    Button m_focusButton = Button::None;
    QPersistentModelIndex m_focusIndex; // the row m_focusButton belongs to

    void setFocusButton(QAbstractItemView* view, Button button);
};

} // namespace ehrs::app
