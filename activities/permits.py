"""Issuing a permit: number it (gap-free, once per application), render and store its PDF,
in one activity (``issue_permit``; the two older ones remain for histories that use them).

Each part is safe to retry. Numbering is one transaction keyed by registration number (a
retry returns the number taken before, a rollback takes none); rendering reads only the
permit row and is deterministic, and the file store is content-addressed, so a retry stores
the same bytes under the same hash.

Rendering is ~3 ms of pure-Python CPU (fpdf2): in a thread of the worker's process it holds
the GIL that workflow tasks and the event loop need (bench/README.md "pdf.py").
``render_processes`` moves it to spawned processes instead.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

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
    def __init__(
        self,
        pool: asyncpg.Pool,
        files: FileStore,
        public_base_url: str,
        *,
        render_processes: int = 0,
    ) -> None:
        """``render_processes``: 0 renders in a thread of this process; 1 or 2 render in
        that many processes, started at the first render and stopped by :meth:`close`."""
        self._pool = pool
        self._files = files
        self._base_url = public_base_url
        self._render_processes = render_processes
        self._renderer: ProcessPoolExecutor | None = None

    def close(self) -> None:
        """Stop the render processes (if any were started); the next render starts anew."""
        renderer, self._renderer = self._renderer, None
        if renderer is not None:
            renderer.shutdown(wait=True, cancel_futures=True)

    async def _render(self, document: PermitDocument) -> bytes:
        if not self._render_processes:
            return await asyncio.to_thread(permit_pdf.render, document)
        if self._renderer is None:
            # spawn, not fork: this process runs the Temporal core's threads.
            self._renderer = ProcessPoolExecutor(
                self._render_processes, mp_context=multiprocessing.get_context("spawn")
            )
        renderer = self._renderer
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(renderer, permit_pdf.render, document)
        except BrokenProcessPool:
            # A render process died (killed, out of memory): this attempt fails and is
            # retried, the next one starts fresh processes.
            log.warning("permit render process died", extra={"number": document.number})
            if self._renderer is renderer:
                self._renderer = None
            renderer.shutdown(wait=False, cancel_futures=True)
            raise

    @activity.defn(name="issue_permit")
    async def issue_permit(self, request: NumberingRequest) -> IssuedPermit:
        """Number, render and store in one activity (one task and one workflow task fewer
        per permit than the two below). A retry finds the number taken before and renders
        the same bytes, so the whole is as safe to retry as each part."""
        return await self._render_and_store(await self._number(request))

    # Histories from before the patch ``issue-in-one-v1`` schedule these two: kept while
    # such applications may still be open.
    @activity.defn(name="number_permit")
    async def number_permit(self, request: NumberingRequest) -> PermitDocument:
        return await self._number(request)

    @activity.defn(name="render_permit")
    async def render_permit(self, document: PermitDocument) -> IssuedPermit:
        return await self._render_and_store(document)

    async def _number(self, request: NumberingRequest) -> PermitDocument:
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

    async def _render_and_store(self, document: PermitDocument) -> IssuedPermit:
        # CPU work of a few ms: off the event loop, and off the GIL with render_processes.
        pdf = await self._render(document)
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
