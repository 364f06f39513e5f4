// SPDX-License-Identifier: Apache-2.0
#include "DeviceIcons.h"

#include "DeviceInfo.h"

#include <QPainter>
#include <QPixmapCache>
#include <QSvgRenderer>

// The resources live in this static library: Q_INIT_RESOURCE must run outside any namespace.
static void initAppResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(resources);
        return true;
    }();
    Q_UNUSED(done);
}

namespace ehrs::app {
namespace {
QPixmap render(const QString& path, int logicalSize, qreal dpr)
{
    initAppResources();
    const int px = qRound(logicalSize * dpr);
    QPixmap pm(px, px);
    pm.fill(Qt::transparent);
    QSvgRenderer renderer(path);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    renderer.render(&p, QRectF(0, 0, px, px));
    p.end();
    pm.setDevicePixelRatio(dpr);
    return pm;
}
} // namespace

QString DeviceIcons::resourcePath(const QString& type)
{
    const QString known = DeviceInfo::isKnownType(type) ? type : QStringLiteral("unknown");
    return QStringLiteral(":/icons/device-%1.svg").arg(known);
}

QPixmap DeviceIcons::pixmap(const QString& type, int logicalSize, const QColor& color, qreal devicePixelRatio)
{
    const QString path = resourcePath(type);
    const QString key =
        QStringLiteral("ehrs-%1-%2-%3-%4").arg(path).arg(logicalSize).arg(color.rgba()).arg(devicePixelRatio);
    QPixmap cached;
    if (QPixmapCache::find(key, &cached))
        return cached;
    QPixmap pm = render(path, logicalSize, devicePixelRatio);
    QPainter p(&pm);
    p.setCompositionMode(QPainter::CompositionMode_SourceIn);
    p.fillRect(QRectF(QPointF(0, 0), pm.deviceIndependentSize()), color);
    p.end();
    QPixmapCache::insert(key, pm);
    return pm;
}

QPixmap DeviceIcons::appIcon(int logicalSize, qreal devicePixelRatio)
{
    return render(QStringLiteral(":/icons/ehr-sessions.svg"), logicalSize, devicePixelRatio);
}

} // namespace ehrs::app
