"""Issued permits, their gap-free numbers, the officials who sign them, revocation.

Numbering is one transaction: the permit row keyed by registration number is looked up
first (a retried activity finds it and takes no number), otherwise the (type, year) counter
row is incremented with ``UPDATE ... RETURNING`` (its row lock serializes concurrent
issuances) and the permit row inserted. A rollback takes no number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from loket.case.messages import RecordBatch
from loket.case.permit import NumberingRequest, PermitDocument, Signer, issued_from_audit
from loket.officials import OfficialIn
from loket.route.issuance import render_number, valid_until
from loket.store.db import Conn

VERIFY_PATH = "/verify/{number}"


class NoSigningOfficial(Exception):
    def __init__(self, position: str, on: date) -> None:
        super().__init__(f"nobody holds {position} on {on.isoformat()}")
        self.position = position
        self.on = on


@dataclass(frozen=True)
class PermitRow:
    registration_number: str
    number: str
    permit_type: str
    status: str
    issued_at: datetime
    valid_until: date | None
    document: PermitDocument
    pdf_sha256: str | None
    pdf_size: int | None
    revoked_at: datetime | None
    revoked_reason: str | None


@dataclass(frozen=True)
class Official:
    id: int
    position: str
    title: str
    name: str
    nip: str
    valid_from: date
    valid_to: date | None
    acting: str


_PERMIT_COLUMNS = (
    "registration_number, number, permit_type, status, issued_at, valid_until, document,"
    " pdf_sha256, pdf_size, revoked_at, revoked_reason"
)


def _permit(row: Any) -> PermitRow:
    values = dict(row)
    values["document"] = PermitDocument.model_validate(values["document"])
    return PermitRow(**values)


# --- officials ---------------------------------------------------------------------------


async def signer_on(conn: Conn, position: str, on: date) -> Signer:
    """Who signs for ``position`` on ``on``: an acting official (Plt/Plh) whose dates cover
    the day stands in for the holder; among equals the latest appointment."""
    row = await conn.fetchrow(
        """
        SELECT position, title, name, nip, acting FROM officials
        WHERE position = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)
        ORDER BY (acting <> 'definitive') DESC, valid_from DESC, id DESC
        LIMIT 1
        """,
        position,
        on,
    )
    if row is None:
        raise NoSigningOfficial(position, on)
    return Signer(**dict(row))


async def add_official(
    conn: Conn,
    *,
    position: str,
    title: str,
    name: str,
    nip: str,
    valid_from: date,
    valid_to: date | None,
    acting: str,
    created_by: str = "loket",
) -> int:
    value: int = await conn.fetchval(
        """
        INSERT INTO officials (position, title, name, nip, valid_from, valid_to, acting,
                               created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
        """,
        position,
        title,
        name,
        nip,
        valid_from,
        valid_to,
        acting,
        created_by,
    )
    return value


async def officials(conn: Conn, position: str | None = None) -> list[Official]:
    rows = await conn.fetch(
        "SELECT id, position, title, name, nip, valid_from, valid_to, acting FROM officials"
        " WHERE $1::text IS NULL OR position = $1 ORDER BY position, valid_from, id",
        position,
    )
    return [Official(**dict(r)) for r in rows]


# --- numbering ---------------------------------------------------------------------------


async def number_permit(conn: Conn, request: NumberingRequest, base_url: str) -> PermitDocument:
    """The permit of ``request.registration_number``: the one numbered before, else a new
    one with the next number of its (type, year) counter. One transaction."""
    reg = request.registration_number
    async with conn.transaction():
        # Same-application numberings (a retry next to a double decision) queue here.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('permit:' || $1))", reg)
        row = await conn.fetchrow(
            "SELECT document FROM permits WHERE registration_number = $1", reg
        )
        if row is not None:
            return PermitDocument.model_validate(row["document"])
        local = request.issued_at.astimezone(timezone(timedelta(hours=request.utc_offset_hours)))
        issued_on = local.date()
        signer = await signer_on(conn, request.spec.signer_position, issued_on)
        seq: int = await conn.fetchval(
            """
            INSERT INTO permit_counters AS c (permit_type, year, last_value) VALUES ($1, $2, 1)
            ON CONFLICT (permit_type, year) DO UPDATE SET last_value = c.last_value + 1
            RETURNING last_value
            """,
            request.permit_type,
            local.year,
        )
        number = render_number(request.spec.number.format, seq, local.year, local.month)
        document = PermitDocument(
            number=number,
            registration_number=reg,
            permit_type=request.permit_type,
            permit_name=request.permit_name,
            title=request.spec.title,
            template=request.spec.template,
            issued_on=issued_on,
            valid_until=valid_until(request.spec, issued_on),
            issuing_office=request.spec.issuing_office,
            holder_name=request.holder_name,
            holder_id_masked=request.holder_id_masked,
            object=request.object,
            legal_basis=request.legal_basis,
            signer=signer,
            verify_url=base_url.rstrip("/") + VERIFY_PATH.format(number=number),
        )
        await conn.execute(
            """
            INSERT INTO permits (registration_number, number, permit_type, year, seq, status,
                                 issued_at, valid_until, document)
            VALUES ($1, $2, $3, $4, $5, 'numbered', $6, $7, $8)
            """,
            reg,
            number,
            request.permit_type,
            local.year,
            seq,
            request.issued_at,
            document.valid_until,
            document.model_dump(mode="json"),
        )
        await _event(conn, number, "permit_numbered", "loket", {"seq": seq})
        return document


async def _event(conn: Conn, number: str, event: str, actor: str, details: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO permit_events (number, event, actor, details) VALUES ($1, $2, $3, $4)",
        number,
        event,
        actor,
        details,
    )


async def record_issued(conn: Conn, batch: RecordBatch, last_seq: int) -> None:
    """In the record activity's transaction: a batch whose ``permit_issued`` entry is new
    marks the permit issued with its PDF's hash (the audit entry is the one source)."""
    for entry in batch.audit:
        issued = issued_from_audit(entry.event, entry.details) if entry.seq > last_seq else None
        if issued is None:
            continue
        number, sha256, size = issued
        await conn.execute(
            "UPDATE permits SET status = 'issued', pdf_sha256 = $2, pdf_size = $3,"
            " updated_at = now() WHERE number = $1 AND status = 'numbered'",
            number,
            sha256,
            size,
        )
        await _event(conn, number, "permit_issued", entry.actor, {"pdf_sha256": sha256})


# --- reading and revoking ----------------------------------------------------------------


async def permit_by_number(conn: Conn, number: str) -> PermitRow | None:
    row = await conn.fetchrow(f"SELECT {_PERMIT_COLUMNS} FROM permits WHERE number = $1", number)
    return _permit(row) if row else None


async def permit_of(conn: Conn, registration_number: str) -> PermitRow | None:
    row = await conn.fetchrow(
        f"SELECT {_PERMIT_COLUMNS} FROM permits WHERE registration_number = $1",
        registration_number,
    )
    return _permit(row) if row else None


async def permits(conn: Conn, limit: int = 100) -> list[PermitRow]:
    rows = await conn.fetch(
        f"SELECT {_PERMIT_COLUMNS} FROM permits ORDER BY issued_at DESC, number LIMIT $1", limit
    )
    return [_permit(r) for r in rows]


async def revoke(conn: Conn, number: str, reason: str, actor: str) -> PermitRow | None:
    """Revoke an issued permit (audited); a revoked one is left as it is. None: no such
    issued permit."""
    async with conn.transaction():
        row = await conn.fetchrow("SELECT status FROM permits WHERE number = $1 FOR UPDATE", number)
        if row is None or row["status"] == "numbered":
            return None
        if row["status"] == "issued":
            await conn.execute(
                "UPDATE permits SET status = 'revoked', revoked_at = $2, revoked_by = $3,"
                " revoked_reason = $4, updated_at = now() WHERE number = $1",
                number,
                datetime.now(UTC),
                actor,
                reason,
            )
            await _event(conn, number, "permit_revoked", actor, {"reason": reason})
        return await permit_by_number(conn, number)


async def events(conn: Conn, number: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT event, at, actor, details FROM permit_events WHERE number = $1 ORDER BY id",
        number,
    )
    return [json.loads(json.dumps(dict(r), default=str)) for r in rows]


async def seed_officials(conn: Conn, entries: Sequence[OfficialIn]) -> int:
    """Fill an empty officials table (development and tests); a kept table is left alone."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE officials IN EXCLUSIVE MODE")
        if await conn.fetchval("SELECT count(*) FROM officials"):
            return 0
        for o in entries:
            await add_official(conn, **o.model_dump(), created_by="seed")
        return len(entries)
