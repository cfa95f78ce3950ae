"""Activities that write the read model. All database I/O of the workflows goes here."""

from __future__ import annotations

import logging

import asyncpg
from temporalio import activity

from loket.store.records import apply_batch
from workflows.messages import RecordBatch

log = logging.getLogger(__name__)


class RecordActivities:
    """Holds the pool: no module-global clients."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name="record_transition")
    async def record_transition(self, batch: RecordBatch) -> bool:
        written = await apply_batch(self._pool, batch)
        if not written:
            log.info(
                "batch for %s up to seq %s was already written",
                batch.application.registration_number,
                batch.audit[-1].seq if batch.audit else "-",
            )
        return written
