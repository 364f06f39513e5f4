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
    void updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const override;

    enum class Button { None, Rename, Revoke };
    /// Where a row's button is drawn (tests click it).
    QRect buttonRect(const QStyleOptionViewItem& option, const QModelIndex& index, Button button) const;

Q_SIGNALS:
    void revokeClicked(const QModelIndex& index);
    void renameClicked(const QModelIndex& index);

protected:
    bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                     const QModelIndex& index) override;

private:
    Button buttonAt(const QStyleOptionViewItem& option, const QModelIndex& index, const QPoint& pos) const;
    void paintButton(QPainter* painter, const QStyleOptionViewItem& option, const QRect& rect,
                     const QString& text, bool hovered, bool pressed) const;

    QPersistentModelIndex m_hoverIndex;
    Button m_hoverButton = Button::None;
    Button m_pressedButton = Button::None;
};

} // namespace ehrs::app
