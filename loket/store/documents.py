"""Documents in the read model: versions and verdicts (written by the record activity, in
the batch's transaction), the download log, and the reads the pages and the API need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from loket.case.messages import RecordBatch
from loket.store.db import Conn


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionRow(_Row):
    slot: str
    version: int
    sha256: str
    size: int
    media_type: str
    uploaded_at: datetime
    uploaded_by_role: str


class VerdictRow(_Row):
    slot: str
    version: int | None
    step_id: str
    attempt: int
    verdict: str
    note: str
    decided_by: str
    decided_at: datetime


class DownloadRow(_Row):
    slot: str
    version: int
    sha256: str
    who: str
    role: str
    at: datetime


_INSERT_VERSION = """
INSERT INTO document_versions (registration_number, slot, version, sha256, size, media_type,
    uploaded_at, uploaded_by, uploaded_by_role, audit_seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT DO NOTHING
"""

_INSERT_VERDICT = """
INSERT INTO document_verdicts (registration_number, audit_seq, slot, version, step_id, attempt,
    verdict, note, decided_by, decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT DO NOTHING
"""


async def record_documents(conn: Conn, registration_number: str, batch: RecordBatch) -> None:
    """The batch's uploads and verdicts, inside ``apply_batch``'s transaction."""
    reg = registration_number
    await conn.executemany(
        _INSERT_VERSION,
        [
            (
                reg,
                d.slot,
                d.version,
                d.file.sha256,
                d.file.size,
                d.file.media_type,
                d.uploaded_at,
                d.uploaded_by,
                d.uploaded_by_role,
                d.audit_seq,
            )
            for d in batch.documents
        ],
    )
    await conn.executemany(
        _INSERT_VERDICT,
        [
            (
                reg,
                v.audit_seq,
                v.slot,
                v.version,
                v.step_id,
                v.attempt,
                v.verdict,
                v.note,
                v.decided_by,
                v.decided_at,
            )
            for v in batch.verdicts
        ],
    )


async def versions(conn: Conn, registration_number: str) -> list[VersionRow]:
    rows = await conn.fetch(
        """SELECT slot, version, sha256, size, media_type, uploaded_at, uploaded_by_role
           FROM document_versions WHERE registration_number = $1 ORDER BY slot, version""",
        registration_number,
    )
    return [VersionRow(**dict(r)) for r in rows]


async def verdicts(conn: Conn, registration_number: str) -> list[VerdictRow]:
    rows = await conn.fetch(
        """SELECT slot, version, step_id, attempt, verdict, note, decided_by, decided_at
           FROM document_verdicts WHERE registration_number = $1 ORDER BY audit_seq""",
        registration_number,
    )
    return [VerdictRow(**dict(r)) for r in rows]


async def version(
    conn: Conn, registration_number: str, slot: str, number: int
) -> VersionRow | None:
    row = await conn.fetchrow(
        """SELECT slot, version, sha256, size, media_type, uploaded_at, uploaded_by_role
           FROM document_versions
           WHERE registration_number = $1 AND slot = $2 AND version = $3""",
        registration_number,
        slot,
        number,
    )
    return VersionRow(**dict(row)) if row else None


async def is_referenced(conn: Conn, sha256: str) -> bool:
    """Whether anything holds this content: an application's document or an issued permit's
    PDF (the file store is shared and content-addressed). A refused upload's file may go
    only when neither does."""
    found = await conn.fetchval(
        "SELECT 1 FROM document_versions WHERE sha256 = $1"
        " UNION ALL SELECT 1 FROM permits WHERE pdf_sha256 = $1 LIMIT 1",
        sha256,
    )
    return found is not None


async def visits_counters(
    conn: Conn, registration_number: str, counters: Sequence[str], agency: str | None
) -> bool:
    """Whether any step of the application, past or present, is at one of ``counters``
    (``agency/counter`` keys) or, for a supervisor, in ``agency``."""
    found = await conn.fetchval(
        """SELECT 1 FROM tasks WHERE registration_number = $1
           AND (agency || '/' || counter = ANY($2::text[]) OR agency = $3) LIMIT 1""",
        registration_number,
        list(counters),
        agency,
    )
    return found is not None


async def log_download(
    conn: Conn, registration_number: str, row: VersionRow, who: str, role: str
) -> None:
    await conn.execute(
        """INSERT INTO document_downloads (registration_number, slot, version, sha256, who, role)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        registration_number,
        row.slot,
        row.version,
        row.sha256,
        who,
        role,
    )


async def downloads(conn: Conn, registration_number: str) -> list[DownloadRow]:
    rows = await conn.fetch(
        """SELECT slot, version, sha256, who, role, at FROM document_downloads
           WHERE registration_number = $1 ORDER BY id""",
        registration_number,
    )
    return [DownloadRow(**dict(r)) for r in rows]
