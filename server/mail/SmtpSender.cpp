// SPDX-License-Identifier: Apache-2.0
#include "SmtpSender.h"

#include "Crypto.h"

#include <QDateTime>
#include <QLocale>
#include <QUrl>
#include <curl/curl.h>
#include <memory>
#include <mutex>

namespace ehrs::server {
namespace {
struct Upload
{
    QByteArray data;
    qsizetype offset = 0;
};

size_t readChunk(char* buffer, size_t size, size_t count, void* user)
{
    auto* upload = static_cast<Upload*>(user);
    const qsizetype room = qsizetype(size * count);
    const qsizetype n = qMin(room, upload->data.size() - upload->offset);
    if (n <= 0)
        return 0;
    memcpy(buffer, upload->data.constData() + upload->offset, size_t(n));
    upload->offset += n;
    return size_t(n);
}

/// A header value: ASCII as it is, anything else as an RFC 2047 encoded word.
QByteArray headerText(const QString& text)
{
    QString flat = text;
    flat.replace(u'\r', u' ').replace(u'\n', u' ');
    bool ascii = true;
    for (QChar c : flat)
        ascii = ascii && c.unicode() < 0x7f && c.unicode() >= 0x20;
    if (ascii)
        return flat.toLatin1();
    return "=?UTF-8?B?" + flat.toUtf8().toBase64() + "?=";
}

QByteArray domainOf(const QString& address)
{
    const qsizetype at = address.lastIndexOf(u'@');
    return at < 0 ? QByteArray("localhost") : address.mid(at + 1).toLatin1();
}

void initCurlOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}
} // namespace

SmtpSender::SmtpSender(SmtpSettings settings) : m_settings(std::move(settings))
{
    initCurlOnce();
}

QByteArray SmtpSender::message(const QString& from, const OutgoingMail& mail, qint64 nowMs,
                               const QByteArray& messageId)
{
    const QString date = QLocale::c().toString(QDateTime::fromMSecsSinceEpoch(nowMs, Qt::UTC),
                                               QStringLiteral("ddd, dd MMM yyyy hh:mm:ss +0000"));
    QByteArray body = mail.body.toUtf8();
    body.replace("\r\n", "\n");
    body.replace('\n', "\r\n");
    QByteArray out;
    out += "From: " + headerText(from) + "\r\n";
    out += "To: " + headerText(mail.to) + "\r\n";
    out += "Subject: " + headerText(mail.subject) + "\r\n";
    out += "Date: " + date.toLatin1() + "\r\n";
    out += "Message-ID: <" + messageId + "@" + domainOf(from) + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += "Content-Transfer-Encoding: 8bit\r\n";
    out += "Auto-Submitted: auto-generated\r\n";
    out += "\r\n";
    out += body;
    if (!out.endsWith("\r\n"))
        out += "\r\n";
    return out;
}

Result<void> SmtpSender::send(const OutgoingMail& mail, qint64 nowMs) const
{
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl)
        return fail(ErrorCode::Internal, QStringLiteral("cannot start libcurl"));
    Upload upload{message(m_settings.from, mail, nowMs, crypto::base64UrlEncode(crypto::randomBytes(12)))};
    const QByteArray url = m_settings.url.toUtf8();
    const QByteArray from = "<" + m_settings.from.toUtf8() + ">";
    const QByteArray to = "<" + mail.to.toUtf8() + ">";
    const QByteArray user = m_settings.user.toUtf8();
    curl_slist* recipients = curl_slist_append(nullptr, to.constData());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> recipientsGuard(recipients,
                                                                                &curl_slist_free_all);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.constData());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (!user.isEmpty())
        curl_easy_setopt(c, CURLOPT_USERNAME, user.constData());
    if (!m_settings.password.isEmpty())
        curl_easy_setopt(c, CURLOPT_PASSWORD, m_settings.password.constData());
    // smtp://: STARTTLS whenever the server offers it (certificate verified).
    curl_easy_setopt(c, CURLOPT_USE_SSL, long(CURLUSESSL_TRY));
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.constData());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &readChunk);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, long(qMin(m_settings.timeoutSeconds, 10)));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, long(m_settings.timeoutSeconds));
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        long response = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
        // curl's messages name the failing step, never the credentials.
        return fail(ErrorCode::Unavailable,
                    QStringLiteral("SMTP: %1%2")
                        .arg(QString::fromLatin1(curl_easy_strerror(rc)),
                             response ? QStringLiteral(" (%1)").arg(response) : QString()));
    }
    return {};
}

} // namespace ehrs::server
