// SPDX-License-Identifier: Apache-2.0
#include "LockPage.h"

#include "shell/DeviceIcons.h"

#include <QLabel>
#include <QVBoxLayout>

namespace ehrs::app {

LockPage::LockPage(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->addStretch();
    auto* logo = new QLabel(this);
    logo->setPixmap(DeviceIcons::appIcon(64, devicePixelRatioF()));
    logo->setAlignment(Qt::AlignCenter);
    logo->setAccessibleName(tr("EHR Sessions"));
    layout->addWidget(logo);
    m_message = new QLabel(tr("This workstation is locked. Unlock the desktop to continue."), this);
    QFont f = m_message->font();
    f.setPointSizeF(f.pointSizeF() * 1.3);
    f.setBold(true);
    m_message->setFont(f);
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setAccessibleName(tr("Status"));
    layout->addWidget(m_message);
    m_clinician = new QLabel(this);
    m_clinician->setTextFormat(Qt::PlainText);
    m_clinician->setAlignment(Qt::AlignCenter);
    m_clinician->setWordWrap(true);
    m_clinician->setVisible(false);
    layout->addWidget(m_clinician);
    layout->addStretch();
}

void LockPage::setClinician(const QString& who)
{
    m_clinician->setText(who.isEmpty() ? QString() : tr("Signed in: %1").arg(who));
    m_clinician->setVisible(!who.isEmpty());
}

} // namespace ehrs::app
