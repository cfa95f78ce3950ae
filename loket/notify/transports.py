"""The two ways a message leaves Loket: e-mail over SMTP and a WhatsApp/SMS gateway over
HTTP (the JSON shape in docs/notifications.md).

Each send says what happened as a :class:`Outcome`: sent (with the provider's reference),
or failed, transient (worth retrying) or permanent (a mailbox that does not exist, a
number the gateway refuses). Used by the delivery activities and by access-code recovery;
an empty host or URL means "record only", like the webhook. Nothing here logs an address.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import httpx

from loket.notify.templates import Rendered


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 25
    sender: str = "loket@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout_s: float = 10.0


@dataclass(frozen=True)
class GatewayConfig:
    url: str = ""
    token: str = ""
    timeout_s: float = 10.0


@dataclass(frozen=True)
class Outcome:
    sent: bool
    permanent: bool = False
    error: str | None = None
    provider_ref: str | None = None


def message_id(key: str, sender: str) -> str:
    """Stable per event: a resend after a lost answer carries the same Message-ID, so a
    mail client or a deduplicating relay shows it once."""
    domain = sender.rpartition("@")[2] or "loket"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def email_message(config: SmtpConfig, key: str, to: str, message: Rendered) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(key, config.sender)
    mail["X-Loket-Key"] = key
    mail.set_content(message.text)
    return mail


def _smtp_send(config: SmtpConfig, mail: EmailMessage) -> None:
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.user:
            smtp.login(config.user, config.password)
        smtp.send_message(mail)


async def send_email(config: SmtpConfig, key: str, to: str, message: Rendered) -> Outcome:
    mail = email_message(config, key, to, message)
    try:
        await asyncio.to_thread(_smtp_send, config, mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return Outcome(False, permanent=all(c >= 500 for c in codes), error=f"refused {codes}")
    except smtplib.SMTPResponseException as exc:
        # 5xx: the server will never take it; 4xx: try again later.
        return Outcome(False, permanent=exc.smtp_code >= 500, error=f"SMTP {exc.smtp_code}")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:300])
    return Outcome(True, provider_ref=mail["Message-ID"])


async def send_gateway(
    config: GatewayConfig,
    http: httpx.AsyncClient,
    key: str,
    to: str,
    language: str,
    kind: str,
    message: Rendered,
) -> Outcome:
    body = {"idempotency_key": key, "to": to, "language": language, "kind": kind}
    body["text"] = message.short
    headers = {"Idempotency-Key": key}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    try:
        response = await http.post(config.url, json=body, headers=headers, timeout=config.timeout_s)
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"{type(exc).__name__}")
    status = response.status_code
    if status < 300 or status == 409:  # 409: the gateway has this key already
        ref = None
        try:
            data = response.json()
            ref = str(data.get("id")) if isinstance(data, dict) and data.get("id") else None
        except ValueError:
            pass
        return Outcome(True, provider_ref=ref)
    transient = status >= 500 or status in (408, 425, 429)
    return Outcome(False, permanent=not transient, error=f"HTTP {status}")
