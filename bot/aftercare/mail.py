"""Sending email through SMTP with aiosmtplib, configured by SMTP_URL and MAIL_FROM.

SMTP_URL: smtp://[user:password@]host[:port] (STARTTLS when the server offers it) or
smtps://... (TLS from the start). Each message gets a Message-ID derived from what it
carries, so a receiving system can recognise a repeat.
"""

from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Dict
from urllib.parse import unquote, urlparse

import aiosmtplib

SEND_TIMEOUT = 30


class MailError(Exception):
    """The message was not accepted by the SMTP server."""


def smtp_options(url: str) -> Dict:
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
    return {
        "hostname": parsed.hostname,
        "port": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "username": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "use_tls": parsed.scheme == "smtps",
        "timeout": SEND_TIMEOUT,
    }


class Mailer:
    def __init__(self, smtp_url: str, mail_from: str) -> None:
        self.options = smtp_options(smtp_url)
        if "@" not in parseaddr(mail_from)[1]:
            raise ValueError("MAIL_FROM must be an address, e.g. Mộc Home <help@shop.example>")
        self.mail_from = mail_from

    def compose(self, to: str, subject: str, body: str, language: str, key: str) -> EmailMessage:
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2]
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{key}@{domain}>"
        message.set_content(body)  # clears any Content-* header set before it
        message["Content-Language"] = language
        return message

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(message, **self.options)
        except (aiosmtplib.SMTPException, OSError) as error:
            raise MailError(str(error) or type(error).__name__) from error
