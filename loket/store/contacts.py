"""Applicant contacts and per-channel deliveries of applicant notices (009_contacts.sql).

A delivery is claimed before anything is sent (state 'sending', a lease until
``claimed_until``) and finished after: sent, failed for good, skipped (no contact on that
channel), recorded (no provider configured), or retrying. The primary key (key, channel)
makes one row per event and channel; a claim is only taken from 'retrying' or from a lease
that ran out, so two live attempts never send the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from loket.contact import ContactIn
from loket.store.db import Conn

DeliveryState = Literal["sending", "retrying", "sent", "failed", "skipped", "recorded"]
FINAL: tuple[DeliveryState, ...] = ("sent", "failed", "skipped", "recorded")


@dataclass(frozen=True)
class Contact:
    registration_number: str
    phone: str | None
    email: str | None
    language: Literal["id", "en"]
    consent_at: datetime
    consent_version: str


@dataclass(frozen=True)
class Claim:
    """``attempts`` is set when this attempt holds the claim; else ``state`` says why not."""

    attempts: int | None
    state: DeliveryState


@dataclass(frozen=True)
class Delivery:
    key: str
    kind: str
    created_at: datetime
    channel: str
    state: str  # a DeliveryState, or 'pending' before the channel's first attempt
    attempts: int
    last_error: str | None
    claimed_until: datetime | None
    sent_at: datetime | None
    updated_at: datetime


async def save_contact(
    conn: Conn,
    registration_number: str,
    *,
    phone: str | None,
    email: str | None,
    language: str,
    consent_at: datetime,
    consent_version: str,
) -> None:
    """The first submission's contact stays: a retried submission changes nothing."""
    await conn.execute(
        """
        INSERT INTO applicant_contacts (registration_number, phone, email, language,
            consent_at, consent_version)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (registration_number) DO NOTHING
        """,
        registration_number,
        phone,
        email,
        language,
        consent_at,
        consent_version,
    )


async def record_contact(
    conn: Conn, registration_number: str, contact: ContactIn | None, now: datetime
) -> None:
    """Called in the submission's transaction: a contact is kept only when consented."""
    if contact is None or not contact.given:
        return
    await save_contact(
        conn,
        registration_number,
        phone=contact.phone,
        email=contact.email,
        language=contact.language,
        consent_at=now,
        consent_version=contact.consent_version,
    )


async def contact_of(conn: Conn, registration_number: str) -> Contact | None:
    row = await conn.fetchrow(
        "SELECT registration_number, phone, email, language, consent_at, consent_version"
        " FROM applicant_contacts WHERE registration_number = $1",
        registration_number,
    )
    return Contact(**dict(row)) if row is not None else None


async def claim(
    conn: Conn, key: str, channel: str, *, lease_s: float, template_version: str
) -> Claim:
    """Take the delivery of ``key`` on ``channel`` for ``lease_s`` seconds, or say who has it."""
    attempts = await conn.fetchval(
        """
        INSERT INTO notification_deliveries AS d (key, channel, state, attempts, claimed_until,
            template_version)
        VALUES ($1, $2, 'sending', 1, now() + make_interval(secs => $3), $4)
        ON CONFLICT (key, channel) DO UPDATE
            SET state = 'sending', attempts = d.attempts + 1,
                claimed_until = now() + make_interval(secs => $3),
                template_version = $4, updated_at = now()
            WHERE d.state = 'retrying' OR (d.state = 'sending' AND d.claimed_until < now())
        RETURNING attempts
        """,
        key,
        channel,
        float(lease_s),
        template_version,
    )
    if attempts is not None:
        return Claim(int(attempts), "sending")
    state = await conn.fetchval(
        "SELECT state FROM notification_deliveries WHERE key = $1 AND channel = $2", key, channel
    )
    return Claim(None, state)


async def settle(
    conn: Conn,
    key: str,
    channel: str,
    state: DeliveryState,
    *,
    error: str | None = None,
    provider_ref: str | None = None,
    channels: int = 2,
) -> None:
    """Record how the attempt ended; once every channel is final, the outbox row is done."""
    async with conn.transaction():
        # The channels settle concurrently: lock the outbox row first, so the last of them
        # sees the others' committed rows and marks it delivered.
        await conn.execute("SELECT 1 FROM notification_outbox WHERE key = $1 FOR UPDATE", key)
        await conn.execute(
            """
            INSERT INTO notification_deliveries AS d (key, channel, state, last_error,
                provider_ref, sent_at)
            VALUES ($1, $2, $3, $4, $5, CASE WHEN $3 = 'sent' THEN now() END)
            ON CONFLICT (key, channel) DO UPDATE
                SET state = $3, last_error = $4, provider_ref = COALESCE($5, d.provider_ref),
                    sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE d.sent_at END,
                    claimed_until = NULL, updated_at = now()
            """,
            key,
            channel,
            state,
            error[:1000] if error else None,
            provider_ref[:200] if provider_ref else None,
        )
        await _done_when_final(conn, key, channels)


async def skip_without_contact(
    conn: Conn, key: str, channels: tuple[str, ...], reason: str
) -> bool:
    """Every channel of ``key`` 'skipped' and the outbox row done, in one transaction: the
    file has no consented contact (contacts are never removed). False if a channel had
    already started some other way (then each channel goes the normal path)."""
    async with conn.transaction():
        await conn.execute(
            """
            INSERT INTO notification_deliveries (key, channel, state, last_error)
            SELECT $1, c, 'skipped', $2 FROM unnest($3::text[]) AS c(channel)
            ON CONFLICT (key, channel) DO NOTHING
            """,
            key,
            reason,
            list(channels),
        )
        return await _done_when_final(conn, key, len(channels))


async def _done_when_final(conn: Conn, key: str, channels: int) -> bool:
    """The outbox row is done once ``channels`` of its deliveries are final; True if this
    call marked it."""
    done = await conn.execute(
        """
        UPDATE notification_outbox SET delivered_at = now(),
            attempts = (SELECT sum(attempts) FROM notification_deliveries WHERE key = $1)
        WHERE key = $1 AND delivered_at IS NULL
          AND (SELECT count(*) FROM notification_deliveries
               WHERE key = $1 AND state = ANY($2::text[])) >= $3
        """,
        key,
        list(FINAL),
        channels,
    )
    return bool(done.endswith(" 1"))


async def deliveries_of(conn: Conn, registration_number: str) -> list[Delivery]:
    """Every applicant notice of the file with each channel's delivery, oldest first; a
    channel not tried yet shows as 'pending'."""
    rows = await conn.fetch(
        """
        SELECT o.key, o.kind, o.created_at, c.channel,
               COALESCE(d.state, 'pending') AS state, COALESCE(d.attempts, 0) AS attempts,
               d.last_error, d.claimed_until, d.sent_at, COALESCE(d.updated_at, o.created_at)
               AS updated_at
        FROM notification_outbox o
        CROSS JOIN unnest(ARRAY['email', 'phone']) AS c(channel)
        LEFT JOIN notification_deliveries d ON d.key = o.key AND d.channel = c.channel
        WHERE o.registration_number = $1 AND o.recipient = 'applicant'
        ORDER BY o.created_at, o.key, c.channel
        """,
        registration_number,
    )
    return [Delivery(**dict(r)) for r in rows]


async def replace_access_code(conn: Conn, registration_number: str, access_code_hash: str) -> bool:
    """The old code stops working; False when the number names no submission."""
    done = await conn.execute(
        "UPDATE submissions SET access_code_hash = $2 WHERE registration_number = $1",
        registration_number,
        access_code_hash,
    )
    return bool(done.endswith(" 1"))
