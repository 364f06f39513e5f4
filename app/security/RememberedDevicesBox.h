// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <QGroupBox>
#include <QString>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace ehrs::app {

class ServerApi;

/// "Remembered devices" on the Security page: the devices that skip the second sign-in step
/// (remembered after a code), each with where and until when, and a Forget button for the
/// selected one. Its own widget, so the page only places it.
class RememberedDevicesBox : public QGroupBox
{
    Q_OBJECT
public:
    explicit RememberedDevicesBox(ServerApi* api, QWidget* parent = nullptr);

    void reload();
    /// Forgets the selected device (the Forget button).
    void forgetSelected();

    QTreeWidget* list() const { return m_list; }
    QPushButton* forgetButton() const { return m_forget; }
    QLabel* status() const { return m_status; }

Q_SIGNALS:
    /// The list was loaded (`count` devices) or failed (-1).
    void loaded(int count);
    void forgotten(const QString& id);

private:
    void showStatus(const QString& text, bool error);

    ServerApi* m_api;
    QTreeWidget* m_list = nullptr;
    QPushButton* m_forget = nullptr;
    QLabel* m_status = nullptr;
    QString m_forgottenNotice; // said after the reload that follows a Forget
};

} // namespace ehrs::app
