// SPDX-License-Identifier: Apache-2.0
#include "QrCodeWidget.h"

#include <QPainter>
#include <qrencode.h>

namespace ehrs::app {
namespace {
constexpr int kQuietZone = 4; // modules, as the standard asks
}

QrCodeWidget::QrCodeWidget(QWidget* parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    setFocusPolicy(Qt::NoFocus);
}

bool QrCodeWidget::setText(const QString& text)
{
    m_text = text;
    m_size = 0;
    m_modules.clear();
    if (!text.isEmpty()) {
        const QByteArray utf8 = text.toUtf8();
        if (QRcode* code = QRcode_encodeString(utf8.constData(), 0, QR_ECLEVEL_M, QR_MODE_8, 1)) {
            m_size = code->width;
            m_modules.resize(size_t(m_size) * size_t(m_size));
            for (size_t i = 0; i < m_modules.size(); ++i)
                m_modules[i] = code->data[i] & 1;
            QRcode_free(code);
        }
    }
    updateGeometry();
    update();
    return m_size > 0 || text.isEmpty();
}

bool QrCodeWidget::isDark(int x, int y) const
{
    if (x < 0 || y < 0 || x >= m_size || y >= m_size)
        return false;
    return m_modules[size_t(y) * size_t(m_size) + size_t(x)];
}

QSize QrCodeWidget::sizeHint() const
{
    const int modules = std::max(m_size, 21) + 2 * kQuietZone;
    return {modules * 4, modules * 4};
}

QSize QrCodeWidget::minimumSizeHint() const
{
    return sizeHint();
}

void QrCodeWidget::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    if (m_size == 0)
        return;
    // Whole device pixels per module: no blurred edges, at any device pixel ratio.
    const qreal dpr = devicePixelRatioF();
    const int total = m_size + 2 * kQuietZone;
    const int devicePx = int(std::min(width(), height()) * dpr);
    const int module = std::max(1, devicePx / total);
    const qreal step = module / dpr;
    const qreal origin = (std::min(width(), height()) - step * total) / 2.0;
    p.setPen(Qt::NoPen);
    p.setBrush(Qt::black);
    for (int y = 0; y < m_size; ++y) {
        for (int x = 0; x < m_size; ++x) {
            if (isDark(x, y))
                p.drawRect(
                    QRectF(origin + (x + kQuietZone) * step, origin + (y + kQuietZone) * step, step, step));
        }
    }
}

} // namespace ehrs::app
