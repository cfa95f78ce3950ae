"""Check readmodel.py's shortcut: an application's batches folded into one (``merge``) write
the same rows as the batches written one by one, as the record activity writes them.

Two databases in one embedded PostgreSQL; every application is played once, its permit
numbered in both, then written merged into one and batch by batch into the other; every
table the generation writes is compared (all columns but the ``now()``-stamped ones).

    .venv/bin/python bench/readmodel_check.py --applications 60      # ~15 s; exit 1 if any differ

It also times ``apply_batch`` batch by batch (what the record activity pays per change),
and with ``--baseline`` first does all of it once without the SLA summary's upkeep
(``sla.record_closings`` a no-op, so both databases leave the summary empty) to print the
two beside each other.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import _readmodel_gen as gen
import asyncpg
from _readmodel_write import PUBLIC_BASE_URL, _player

from loket.case.messages import RecordBatch
from loket.embedded import embedded_postgres
from loket.settings import PROJECT_ROOT
from loket.store import permits, sla
from loket.store.db import create_pool
from loket.store.dev_seed import seed_from_definitions
from loket.store.migrate import migrate
from loket.store.records import apply_batch

COLUMNS = {
    "applications": "registration_number, permit_type, status, data, submitted_at,"
    " service_due_at, current_steps, current_agencies, waiting_for_applicant, fees, fee_total,"
    " finished_at, last_seq, last_hash",
    "tasks": "registration_number, step_id, attempt, name, agency, counter, state, clock,"
    " opened_at, due_at, claimed_by, outcome, note, decided_by, closed_at, escalation_level,"
    " used_working_s",
    "audit_events": "registration_number, seq, event, at, actor, actor_role, step_id, attempt,"
    " from_state, to_state, details, prev_hash, hash",
    "escalations": "registration_number, step_id, attempt, rule_index, action, recipient, level,"
    " due_at, fired_at",
    "notification_outbox": "key, registration_number, kind, recipient, payload, created_at",
    "bills": "billing_code, registration_number, bill_index, step_id, attempt, amount, currency,"
    " billed_at, pay_by, status, closed_at",
    "payments": "billing_code, registration_number, channel, bank, transaction_id,"
    " receipt_number, amount, paid_at, recorded_by",
    "permits": "number, registration_number, status, pdf_sha256",
    # The SLA summary (migration 015): the fold must leave the same one as the batches.
    "sla_closed": "registration_number, step_id, attempt, permit_type, agency, counter, name,"
    " closed_at, due_at, used_working_s, escalation_level, bucket",
    "sla_daily": "permit_type, agency, counter, step_id, day, bucket, closed, on_time, late,"
    " timed, max_escalation_level, min_name",
}
DATABASES = ("batch_by_batch", "merged")


async def _rows(pool: asyncpg.Pool, table: str) -> list[tuple[str, ...]]:
    records = await pool.fetch(f"SELECT {COLUMNS[table]} FROM {table}")
    return sorted(tuple(map(str, r.values())) for r in records)


async def check(applications: int, timed: list[float]) -> bool:
    folded: list[list[RecordBatch]] = []
    merge = gen.merge

    def keep(batches: list[RecordBatch]) -> RecordBatch:
        folded.append(list(batches))
        return merge(batches)

    gen.merge = keep  # the player folds through the module's function: keep its input
    with tempfile.TemporaryDirectory(prefix="loket-readmodel-check-") as folder:
        async with embedded_postgres(Path(folder) / "postgresql") as dsn:
            admin = await asyncpg.connect(dsn)
            for name in DATABASES:
                await admin.execute(f"CREATE DATABASE {name}")
            await admin.close()
            pools: dict[str, asyncpg.Pool] = {}
            for name in DATABASES:
                db_dsn = dsn.replace("/postgres?", f"/{name}?")
                await migrate(db_dsn)
                await seed_from_definitions(db_dsn, PROJECT_ROOT / "definitions")
                pools[name] = await create_pool(db_dsn)
            try:
                player = _player(seed=13)
                for index in range(applications):
                    folded.clear()
                    steps = player.play(index)
                    try:
                        request = next(steps)
                        while True:
                            for pool in pools.values():
                                async with pool.acquire() as conn:
                                    document = await permits.number_permit(
                                        conn, request, PUBLIC_BASE_URL
                                    )
                            request = steps.send(document)
                    except StopIteration as stop:
                        played: gen.Played = stop.value
                    await apply_batch(pools["merged"], played.batch)
                    for batch in folded[0]:
                        started = time.perf_counter()
                        await apply_batch(pools["batch_by_batch"], batch)
                        timed.append(time.perf_counter() - started)
                same = True
                for table in COLUMNS:
                    one = await _rows(pools["batch_by_batch"], table)
                    merged = await _rows(pools["merged"], table)
                    verdict = "same" if one == merged else "DIFFERENT"
                    print(f"{table:20} {len(one):6} {len(merged):6}  {verdict}")
                    same = same and one == merged
                return same
            finally:
                for pool in pools.values():
                    await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--applications", type=int, default=60)
    parser.add_argument("--baseline", action="store_true", help="first without the summary")
    args = parser.parse_args()
    same = True
    runs = [("without the SLA summary", True)] if args.baseline else []
    for label, off in [*runs, ("as it is", False)]:
        upkeep = sla.record_closings
        if off:
            sla.record_closings = _no_summary
        timed: list[float] = []
        try:
            same = asyncio.run(check(args.applications, timed)) and same
        finally:
            sla.record_closings = upkeep
        mean_ms = sum(timed) / len(timed) * 1000 if timed else 0.0
        print(f"apply_batch {label}: {len(timed)} batches, {mean_ms:.2f} ms per batch (mean)")
    return 0 if same else 1


async def _no_summary(conn: object, registration_number: str, steps: object) -> None:
    del conn, registration_number, steps


if __name__ == "__main__":
    sys.exit(main())
