"""Issuing a permit: number it (gap-free, once per application), render and store its PDF.

Both are safe to retry. Numbering is one transaction keyed by registration number (a retry
returns the number taken before, a rollback takes none); rendering reads only the permit
row and is deterministic, and the file store is content-addressed, so a retry stores the
same bytes under the same hash.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from loket import permit_pdf
from loket.case.permit import IssuedPermit, NumberingRequest, PermitDocument
from loket.files import FileStore
from loket.store import permits

log = logging.getLogger(__name__)

NO_SIGNING_OFFICIAL = "NoSigningOfficial"  # non-retryable: the office must add one
PDF_MEDIA_TYPE = "application/pdf"


class PermitActivities:
    def __init__(self, pool: asyncpg.Pool, files: FileStore, public_base_url: str) -> None:
        self._pool = pool
        self._files = files
        self._base_url = public_base_url

    @activity.defn(name="number_permit")
    async def number_permit(self, request: NumberingRequest) -> PermitDocument:
        try:
            async with self._pool.acquire() as conn:
                document = await permits.number_permit(conn, request, self._base_url)
        except permits.NoSigningOfficial as exc:
            log.error(
                "no signing official for %s on %s",
                exc.position,
                exc.on,
                extra={"registration_number": request.registration_number},
            )
            raise ApplicationError(
                str(exc),
                {"position": exc.position, "date": exc.on.isoformat()},
                type=NO_SIGNING_OFFICIAL,
                non_retryable=True,
            ) from exc
        log.info(
            "permit %s numbered for %s",
            document.number,
            request.registration_number,
            extra={"registration_number": request.registration_number},
        )
        return document

    @activity.defn(name="render_permit")
    async def render_permit(self, document: PermitDocument) -> IssuedPermit:
        # Rendering is CPU work of a few milliseconds: off the event loop all the same.
        pdf = await asyncio.to_thread(permit_pdf.render, document)
        stored = await self._files.put_bytes(pdf, PDF_MEDIA_TYPE)
        log.info(
            "permit %s rendered: %s (%d bytes)",
            document.number,
            stored.sha256,
            stored.size,
            extra={"registration_number": document.registration_number},
        )
        return IssuedPermit(
            number=document.number,
            issued_on=document.issued_on,
            valid_until=document.valid_until,
            pdf_sha256=stored.sha256,
            pdf_size=stored.size,
        )
