"""The applicant's contact: kept with the submission, shown to nobody but the channels; the
deliveries shown to staff; and access-code recovery.

Recovery is audited in the security log, not the case's audit trail: it is an
authentication event, not a change of the case; it can be asked by anyone, for numbers
that do not exist too (those attempts must be logged as well, and a case audit has no
place for them); and writing the case's audit would take a workflow Update, carrying the
reset through Temporal's history for no gain.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

import asyncpg
import httpx
from pydantic import BaseModel, ConfigDict

from loket.notify.templates import RESET_KIND, NoticeTemplates, links_base, load_templates
from loket.notify.transports import GatewayConfig, SmtpConfig, send_email, send_gateway
from loket.services.context import Services, client_ip, utcnow
from loket.services.errors import TooMany
from loket.services.security import log_refused
from loket.services.submission import hash_access_code, new_access_code
from loket.store import contacts, ratelimit, security
from loket.store.contacts import Delivery

log = logging.getLogger(__name__)

RECOVER_ACTION = "recover_access_code"


@lru_cache(maxsize=4)
def _templates(definitions_dir: Path) -> NoticeTemplates:
    return load_templates(definitions_dir)


async def deliveries(services: Services, registration_number: str) -> list[Delivery]:
    """Each applicant notice and how each channel delivered it (staff application page)."""
    async with services.acquire() as conn:
        return await contacts.deliveries_of(conn, registration_number)


class RecoveryAnswer(BaseModel):
    """The same answer whether or not the number exists or has a contact."""

    model_config = ConfigDict(frozen=True)

    status: Literal["accepted"] = "accepted"


async def _brakes(services: Services, registration_number: str) -> None:
    s = services.settings
    now = utcnow()
    ip = client_ip.get() or "unknown"
    async with services.acquire() as conn:
        by_ip = await ratelimit.hit(
            conn, f"recover:ip:{ip}", limit=s.track_per_ip, window_s=s.rate_window_s, now=now
        )
        by_reg = await ratelimit.hit(
            conn,
            f"recover:reg:{registration_number}",
            limit=s.recover_per_application,
            window_s=s.rate_window_s,
            now=now,
        )
    for verdict in (by_ip, by_reg):
        if not verdict.allowed:
            await log_refused(
                services,
                action=RECOVER_ACTION,
                code="rate_limited",
                registration_number=registration_number,
                details={"retry_after": verdict.retry_after_s},
            )
            raise TooMany("rate_limited", retry_after=verdict.retry_after_s)


async def _audit(services: Services, registration_number: str, code: str, sent: int) -> None:
    try:
        async with services.acquire() as conn:
            await security.record(
                conn,
                at=utcnow(),
                action=RECOVER_ACTION,
                code=code,
                client_ip=client_ip.get(),
                registration_number=registration_number,
                details={"channels_sent": sent},
            )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        log.exception("security log not written: %s %s", RECOVER_ACTION, registration_number)


async def _first_of_key(services: Services, idempotency_key: str) -> bool:
    """A retried request (same Idempotency-Key, same window) sends no second code."""
    async with services.acquire() as conn:
        verdict = await ratelimit.hit(
            conn,
            f"recover:key:{idempotency_key}",
            limit=1,
            window_s=services.settings.rate_window_s,
            now=utcnow(),
        )
    return verdict.allowed


async def recover_access_code(
    services: Services, registration_number: str, *, idempotency_key: str
) -> RecoveryAnswer:
    """A new access code to the recorded contact; the old one stops working once the new
    one is on its way. Rate-limited per address and per number; the answer says nothing
    about whether the number exists (every request is in the security log)."""
    if not await _first_of_key(services, idempotency_key):
        return RecoveryAnswer()
    await _brakes(services, registration_number)
    async with services.acquire() as conn:
        contact = await contacts.contact_of(conn, registration_number)
    if contact is None:
        await _audit(services, registration_number, "no_contact", 0)
        return RecoveryAnswer()
    code = new_access_code()
    s = services.settings
    message = _templates(s.definitions_dir).render(
        RESET_KIND,
        contact.language,
        {"registration_number": registration_number, "access_code": code},
        links_base(s.public_url, s.api_host, s.api_port),
    )
    key = f"{registration_number}:{RESET_KIND}:{utcnow().isoformat()}"
    sent = 0
    if contact.email and s.smtp_host:
        smtp = SmtpConfig(
            host=s.smtp_host,
            port=s.smtp_port,
            sender=s.smtp_from,
            user=s.smtp_user,
            password=s.smtp_password.get_secret_value(),
            starttls=s.smtp_starttls,
        )
        sent += (await send_email(smtp, key, contact.email, message)).sent
    if contact.phone and s.gateway_url:
        gateway = GatewayConfig(url=s.gateway_url, token=s.gateway_token.get_secret_value())
        async with httpx.AsyncClient() as http:
            outcome = await send_gateway(
                gateway, http, key, contact.phone, contact.language, RESET_KIND, message
            )
        sent += outcome.sent
    if sent:
        # Only now: a code that reached nobody must not lock the applicant out.
        async with services.acquire() as conn:
            await contacts.replace_access_code(conn, registration_number, hash_access_code(code))
    await _audit(services, registration_number, "code_sent" if sent else "not_sent", sent)
    log.info("access code recovery for %s: %d channel(s)", registration_number, sent)
    return RecoveryAnswer()
