"""Issued permits (issue 10 §2): public verification by number, the check that a PDF is
the one issued, the applicant's download, and revocation by an administrator.

Verification needs no account: it shows what a third party (a bank, a notary, an
inspector) needs, with the NIK masked, never the application's other personal data. A
checked PDF is hashed while it streams in, bounded by ``verify_max_bytes``, and never
stored.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.files import file_store
from loket.route.issuance import NUMBER_PATTERN
from loket.services.context import Services, client_ip, utcnow
from loket.services.errors import Conflict, Invalid, NotFound, TooMany, Unavailable
from loket.services.public import check_access
from loket.services.rows import User
from loket.services.security import log_refused
from loket.store import permits, ratelimit
from loket.text import Text

log = logging.getLogger(__name__)

PDF_MEDIA_TYPE = "application/pdf"
PermitState = Literal["valid", "expired", "revoked"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SignerOut(_Out):
    name: str
    nip: str
    title: str
    acting: Literal["definitive", "plt", "plh"]


class PermitVerification(_Out):
    number: str
    state: PermitState = Field(description="valid, expired (past its validity) or revoked")
    permit_type: str
    permit_name: str
    title: str
    holder_name: str
    holder_id_masked: str | None = Field(description="the NIK, partly hidden")
    object: list[tuple[str, str]] = Field(description="(label, value) as printed")
    issued_on: date
    valid_until: date | None
    issuing_office: str
    signer: SignerOut
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    pdf_sha256: str = Field(description="SHA-256 of the issued PDF")
    verify_path: str


class PdfCheck(_Out):
    number: str
    matches: bool = Field(description="true: the file is exactly the PDF issued")
    sha256: str = Field(description="SHA-256 of the file checked")
    size: int
    state: PermitState


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=2000)


def pdf_filename(number: str) -> str:
    """The download's file name: the number without its slashes."""
    return number.replace("/", "-") + ".pdf"


def issued_permit_not_found(number: str) -> NotFound:
    return NotFound("issued_permit_not_found", number=number)


def _state(row: permits.PermitRow, today: date) -> PermitState:
    if row.status == "revoked":
        return "revoked"
    if row.valid_until is not None and row.valid_until < today:
        return "expired"
    return "valid"


def _verification(services: Services, row: permits.PermitRow) -> PermitVerification:
    doc = row.document
    today = utcnow().astimezone(services.calendar.tz).date()
    assert row.pdf_sha256 is not None  # an issued or revoked permit has its PDF
    return PermitVerification(
        number=row.number,
        state=_state(row, today),
        permit_type=row.permit_type,
        permit_name=doc.permit_name,
        title=doc.title,
        holder_name=doc.holder_name,
        holder_id_masked=doc.holder_id_masked,
        object=[(label, value) for label, value in doc.object],
        issued_on=doc.issued_on,
        valid_until=doc.valid_until,
        issuing_office=doc.issuing_office,
        signer=SignerOut(
            name=doc.signer.name,
            nip=doc.signer.nip,
            title=doc.signer.title,
            acting=doc.signer.acting,
        ),
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
        pdf_sha256=row.pdf_sha256,
        verify_path=f"/verify/{row.number}",
    )


async def _brake(services: Services, number: str) -> None:
    s = services.settings
    ip = client_ip.get() or "unknown"
    async with services.acquire() as conn:
        verdict = await ratelimit.hit(
            conn, f"verify:ip:{ip}", limit=s.verify_per_ip, window_s=s.rate_window_s, now=utcnow()
        )
    if not verdict.allowed:
        await log_refused(
            services,
            action="verify_permit",
            code="rate_limited",
            details={"number": number, "retry_after": verdict.retry_after_s},
        )
        raise TooMany("rate_limited", retry_after=verdict.retry_after_s)


async def _issued(services: Services, number: str) -> permits.PermitRow:
    await _brake(services, number)
    if not re.fullmatch(NUMBER_PATTERN, number):
        raise issued_permit_not_found(number)
    async with services.acquire() as conn:
        row = await permits.permit_by_number(conn, number)
    # A number taken by a decision that was not recorded (yet) is not an issued permit.
    if row is None or row.status == "numbered":
        raise issued_permit_not_found(number)
    return row


async def verify(services: Services, number: str) -> PermitVerification:
    return _verification(services, await _issued(services, number))


async def check_pdf(services: Services, number: str, chunks: AsyncIterable[bytes]) -> PdfCheck:
    """Whether the streamed file is the issued PDF: SHA-256 while it arrives, refused past
    the limit (a file that large is not ours), nothing kept."""
    row = await _issued(services, number)
    limit = services.settings.verify_max_bytes
    digest = hashlib.sha256()
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise Invalid(
                "permit_file_too_large",
                errors=[{"field": "file", "code": "too_large", "message": f"over {limit} bytes"}],
                limit=limit,
            )
        digest.update(chunk)
    sha = digest.hexdigest()
    matches = sha == row.pdf_sha256
    log.info("permit %s checked against a file: %s", number, "match" if matches else "no match")
    today = utcnow().astimezone(services.calendar.tz).date()
    return PdfCheck(number=number, matches=matches, sha256=sha, size=size, state=_state(row, today))


async def applicant_pdf(
    services: Services, registration_number: str, code: str
) -> tuple[str, AsyncIterator[bytes]]:
    """The applicant's issued PDF (the access code is the key): its number and content."""
    await check_access(services, "permit_download", registration_number, code)
    async with services.acquire() as conn:
        row = await permits.permit_of(conn, registration_number)
    if row is None or row.status == "numbered" or row.pdf_sha256 is None:
        # The code was right: the applicant may know that nothing is issued yet.
        raise Conflict("permit_not_issued", registration_number=registration_number)
    store = file_store(services.settings)
    if not await store.exists(row.pdf_sha256):
        # Checked before the answer starts: a missing file is a fault to fix, not half a PDF.
        log.error(
            "permit %s: its PDF %s is missing from the file store", row.number, row.pdf_sha256
        )
        raise Unavailable("service_unavailable")
    log.info(
        "permit %s downloaded by its applicant",
        row.number,
        extra={"registration_number": registration_number},
    )
    return row.number, store.open(row.pdf_sha256)


async def revoke(services: Services, number: str, reason: str, user: User) -> PermitVerification:
    async with services.acquire() as conn:
        row = await permits.revoke(conn, number, reason, user.username)
    if row is None:
        raise issued_permit_not_found(number)
    log.info("permit %s revoked by %s", number, user.username)
    return _verification(services, row)
