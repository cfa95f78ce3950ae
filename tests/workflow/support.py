"""What the workflow tests share: staff of each PBG counter, the open steps of a file, and
an application submitted and registered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio.client import Client

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.services.submission import Submitted, submit_application
from tests.support import PBG_FORM, SIP_FORM, eventually
from workflows.messages import Actor


def staff(username: str, *counters: str, role: str = "staff", agency: str | None = None) -> Actor:
    return Actor(username=username, role=role, counters=counters, agency=agency)  # type: ignore[arg-type]


FRONT = staff("rina", "dpmptsp/front_office")
SECRETARIAT = staff("budi", "dpupr/pbg_secretariat")
TPA = staff("agus", "dpupr/tpa")
DLH = staff("dewi", "dlh/environmental_review")
RETRIBUTION = staff("eko", "dpupr/retribution")
TELLER = staff("fajar", "bank/payment")
ISSUANCE = staff("gita", "dpmptsp/issuance")


async def open_tasks(pool: asyncpg.Pool, reg: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT step_id FROM tasks WHERE registration_number = $1 AND state IN ('open','returned') "
        "ORDER BY step_id",
        reg,
    )
    return [r["step_id"] for r in rows]


async def submit_pbg(
    client: Client,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar: CalendarSnapshot,
    task_queue: str,
    *,
    now: datetime | None = None,
    form: dict[str, Any] = PBG_FORM,
    escalation_spread_s: int = 0,
) -> Submitted:
    """A PBG application, returned once its first task row is written (by the workflow's
    first activity, shortly after the start)."""
    submitted = await submit_application(
        client=client,
        pool=pool,
        permit=catalog.permit("PBG"),
        calendar=calendar,
        form=form,
        task_queue=task_queue,
        now=now or datetime.now(UTC),
        escalation_spread_s=escalation_spread_s,
    )
    await eventually(
        lambda: open_tasks(pool, submitted.registration_number), lambda s: s == ["registration"]
    )
    return submitted


async def submit_sips(
    client: Client,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar: CalendarSnapshot,
    task_queue: str,
    count: int,
    *,
    key_prefix: str | None = None,
) -> list[str]:
    """``count`` SIP applications (keyed ``{key_prefix}-{i}`` when given); their numbers."""
    regs = []
    for i in range(count):
        submitted = await submit_application(
            client=client,
            pool=pool,
            permit=catalog.permit("SIP"),
            calendar=calendar,
            form=SIP_FORM,
            task_queue=task_queue,
            now=datetime.now(UTC),
            idempotency_key=f"{key_prefix}-{i}" if key_prefix else None,
            access_code_secret=b"test-secret" if key_prefix else None,
        )
        regs.append(submitted.registration_number)
    return regs
