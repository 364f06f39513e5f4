// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QWidget>
#include <vector>

namespace ehrs::app {

/// A QR code (libqrencode), drawn dark on white with the standard quiet zone whatever the
/// palette, scaled to whole device pixels so scanners read it at 1x and 2x.
class QrCodeWidget : public QWidget
{
    Q_OBJECT
public:
    explicit QrCodeWidget(QWidget* parent = nullptr);

    /// Encodes `text`; false (and an empty widget) when it cannot be encoded.
    bool setText(const QString& text);
    QString text() const { return m_text; }
    /// Modules per side, 0 when empty.
    int moduleCount() const { return m_size; }
    bool isDark(int x, int y) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_text;
    int m_size = 0;
    std::vector<bool> m_modules;
};

} // namespace ehrs::app
