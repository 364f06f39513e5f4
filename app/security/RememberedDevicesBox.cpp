// SPDX-License-Identifier: Apache-2.0
#include "RememberedDevicesBox.h"

#include "ClientErrors.h"
#include "api/ServerApi.h"
#include "shell/Theme.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <utility>

namespace ehrs::app {
namespace {
constexpr int kIdRole = Qt::UserRole + 1;
}

RememberedDevicesBox::RememberedDevicesBox(ServerApi* api, QWidget* parent)
    : QGroupBox(tr("Remembered devices"), parent), m_api(api)
{
    setObjectName(QStringLiteral("rememberedDevicesBox"));
    auto* layout = new QVBoxLayout(this);
    auto* intro =
        new QLabel(tr("Devices where you chose \"Remember this device\" after entering a code. They "
                      "skip the code until the date shown, unless a sign-in looks unusual. Forget "
                      "any you no longer use; changing your password forgets them all."),
                   this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("rememberedDevices"));
    m_list->setAccessibleName(tr("Remembered devices"));
    m_list->setHeaderLabels({tr("Device"), tr("Where"), tr("Remembered until")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_list->setMinimumHeight(m_list->fontMetrics().height() * 5);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_list->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    layout->addWidget(m_list);
    auto* row = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("rememberedDevicesStatus"));
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    row->addWidget(m_status, 1);
    m_forget = new QPushButton(tr("Forg&et device"), this);
    m_forget->setObjectName(QStringLiteral("forgetDevice"));
    m_forget->setAccessibleName(tr("Forget the selected remembered device"));
    m_forget->setEnabled(false);
    row->addWidget(m_forget, 0, Qt::AlignTop);
    layout->addLayout(row);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this,
            [this] { m_forget->setEnabled(!m_list->selectedItems().isEmpty()); });
    connect(m_forget, &QPushButton::clicked, this, &RememberedDevicesBox::forgetSelected);
}

void RememberedDevicesBox::showStatus(const QString& text, bool error)
{
    QPalette pal = m_status->palette();
    pal.setColor(QPalette::WindowText,
                 error ? Theme::danger(palette()) : palette().color(QPalette::WindowText));
    m_status->setPalette(pal);
    m_status->setText(text);
}

void RememberedDevicesBox::reload()
{
    m_api->rememberedDevices().then(this, [this](const Result<std::vector<RememberedDeviceDto>>& r) {
        if (!r) {
            showStatus(tr("Could not load the remembered devices: %1").arg(describeError(r.error())), true);
            Q_EMIT loaded(-1);
            return;
        }
        m_list->clear();
        const QLocale locale;
        for (const RememberedDeviceDto& d : *r) {
            const QString where = d.location.isEmpty() ? d.ipAddress : d.location;
            auto* item = new QTreeWidgetItem(
                m_list,
                {d.label, where, locale.toString(d.until.toLocalTime().date(), QLocale::ShortFormat)});
            item->setData(0, kIdRole, d.id);
            item->setToolTip(0, tr("Remembered %1, last used %2")
                                    .arg(locale.toString(d.rememberedAt.toLocalTime(), QLocale::ShortFormat),
                                         locale.toString(d.lastUsedAt.toLocalTime(), QLocale::ShortFormat)));
        }
        // What Forget did stays said through the reload it starts (it used to be replaced at once
        // by "No remembered devices.").
        QString text = std::exchange(m_forgottenNotice, QString());
        if (r->empty())
            text = text.isEmpty() ? tr("No remembered devices.")
                                  : text + QLatin1Char(' ') + tr("No remembered devices left.");
        showStatus(text, false);
        m_forget->setEnabled(!m_list->selectedItems().isEmpty());
        Q_EMIT loaded(int(r->size()));
    });
}

void RememberedDevicesBox::forgetSelected()
{
    const auto selected = m_list->selectedItems();
    if (selected.isEmpty())
        return;
    const QString id = selected.front()->data(0, kIdRole).toString();
    const QString label = selected.front()->text(0);
    m_forget->setEnabled(false);
    m_api->forgetDevice(id).then(this, [this, id, label](const Result<void>& r) {
        if (!r) {
            showStatus(tr("Could not forget %1: %2").arg(label, describeError(r.error())), true);
            m_forget->setEnabled(!m_list->selectedItems().isEmpty());
            return;
        }
        m_forgottenNotice = tr("%1 was forgotten: it will ask for a code at its next sign-in.").arg(label);
        showStatus(m_forgottenNotice, false);
        Q_EMIT forgotten(id);
        reload();
    });
}

} // namespace ehrs::app
