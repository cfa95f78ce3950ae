"""Activities that write the read model. All database I/O of the workflows goes here.

Errors are classified: data the store will never accept (a value out of a column's range,
a character its encoding refuses, a broken constraint) fails at once as ``StoreRefused``
(non-retryable), so the workflow undoes the change instead of retrying it forever; every
other fault (connection lost, server restarting, timeout) is transient and retried.
"""

from __future__ import annotations

import logging

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base
from opentelemetry import trace
from temporalio import activity
from temporalio.exceptions import ApplicationError

from loket import metrics
from loket.case.messages import RecordBatch
from loket.store.records import apply_batch

log = logging.getLogger(__name__)

STORE_REFUSED = "StoreRefused"
_TRACER = trace.get_tracer("loket.store")

# Refused for good, whatever the retry: SQLSTATE classes 22 (data) and 23 (constraints),
# and asyncpg's own encoding errors for a query argument (int64 range, surrogates...).
_PERMANENT: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
    asyncpg_base.DataError,
    UnicodeEncodeError,
    OverflowError,
)


class RecordActivities:
    """Holds the pool: no module-global clients."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn(name="record_transition")
    async def record_transition(self, batch: RecordBatch) -> bool:
        reg = batch.application.registration_number
        # The SQL's own span under the activity's: API request -> Update -> activity -> SQL.
        with _TRACER.start_as_current_span(
            "postgresql apply_batch",
            attributes={
                "db.system": "postgresql",
                "db.operation": "apply_batch",
                "loket.audit_events": len(batch.audit),
                "loket.tasks": len(batch.tasks),
            },
        ):
            try:
                written = await apply_batch(self._pool, batch)
            except _PERMANENT as exc:
                log.error(
                    "store refused the batch of %s for good: %s",
                    reg,
                    type(exc).__name__,
                    extra={"registration_number": reg},
                )
                raise ApplicationError(
                    f"{type(exc).__name__}: {exc}", type=STORE_REFUSED, non_retryable=True
                ) from exc
        if written:
            metrics.observe_batch(batch)  # once per batch: a retried one wrote nothing
        else:
            log.info(
                "batch for %s up to seq %s was already written",
                reg,
                batch.audit[-1].seq if batch.audit else "-",
            )
        return written
