"""E-mail over SMTP: the key facts as text, the annotated evidence image attached.

The idempotency key is the Message-ID (and X-Clearway-Idempotency-Key), which mail systems and people can
use to recognise a message sent twice after a crash.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from service.delivery.channels.base import Message, PermanentError, RetryableError
from service.delivery.config import EmailChannel
from service.delivery.digest_messages import digest_text, digest_title, is_digest
from service.delivery.messages import plain_text, title
from service.delivery.report_messages import is_report, report_text, report_title


def build_email(channel: EmailChannel, message: Message) -> EmailMessage:
    if is_report(message.event):
        return _report_email(channel, message)
    if is_digest(message.event):  # a cooldown digest: the list as text, no image
        mail = _headers(channel, message, digest_title(message.event))
        mail.set_content(digest_text(message.event, message.idempotency_key))
        return mail
    event = message.event
    mail = _headers(channel, message, title(event))
    mail["X-Clearway-Hazard"] = str(event["hazard"]["id"])
    mail.set_content(plain_text(event, message.idempotency_key))
    if channel.attach_image and any(e["kind"] == "annotated" for e in event["evidence"]):
        found = message.image("annotated")
        if found is not None:
            data, media_type = found
            maintype, _, subtype = media_type.partition("/")
            name = f"hazard-{event['hazard']['id']}-annotated.{'png' if subtype == 'png' else 'jpg'}"
            mail.add_attachment(data, maintype=maintype, subtype=subtype or "jpeg", filename=name)
    return mail


def _headers(channel: EmailChannel, message: Message, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message.idempotency_key}@clearway>"
    mail["X-Clearway-Idempotency-Key"] = message.idempotency_key
    mail["X-Clearway-Event"] = message.event["event"]
    return mail


def _report_email(channel: EmailChannel, message: Message) -> EmailMessage:
    """A campaign report: the summary and key figures as text, the PDF and the XLSX attached."""
    event = message.event
    mail = _headers(channel, message, report_title(event))
    mail["X-Clearway-Report"] = str(event["report"]["id"])
    mail.set_content(report_text(event, message.idempotency_key))
    for kind in ("pdf", "xlsx"):
        found = message.image(kind)
        if found is not None:
            data, media_type = found
            maintype, _, subtype = media_type.partition("/")
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=event["report"]["files"][kind])
    return mail


def _connect(channel: EmailChannel) -> smtplib.SMTP:
    if channel.security == "ssl":
        return smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout_s)
    smtp = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout_s)
    if channel.security == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp


class EmailSender:
    def send(self, channel: EmailChannel, message: Message) -> None:
        mail = build_email(channel, message)
        try:
            with _connect(channel) as smtp:
                if channel.username:
                    smtp.login(channel.username, channel.resolved_password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classify(exc.recipients) from None
        except smtplib.SMTPResponseException as exc:
            detail = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPServerDisconnected):
                raise PermanentError(detail) from None
            raise RetryableError(detail) from None
        except (OSError, smtplib.SMTPException) as exc:  # refused connection, timeout, disconnect
            raise RetryableError(f"{type(exc).__name__}: {exc}") from None
        if refused:  # the others got it: retrying would send them a duplicate, so an admin decides
            raise PermanentError("partly delivered; " + str(_classify(refused)))

    def close(self) -> None:
        pass


def _classify(refused: dict) -> Exception:
    detail = "SMTP refused " + ", ".join(f"{addr} ({code} {text!r})" for addr, (code, text) in refused.items())
    if all(500 <= code < 600 for code, _ in refused.values()):
        return PermanentError(detail)
    return RetryableError(detail)
