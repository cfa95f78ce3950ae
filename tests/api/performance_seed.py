"""A read model with known performance figures, written by plain SQL over the app's pool
(JSON columns as dicts) as the record activity would leave it: applications, their
service-clock events, returns, bills, payments and closed steps, and the submissions rows
that hold their access codes.

Times are chosen on whole working days of the calendar, so every application's working
days are known in advance: finished = ``calendar.add(submitted, N days)`` with pauses of
whole days, both instants at 10:00 WIB on a Monday-Thursday (equal office hours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from loket.calendar import WorkCalendar, WorkDuration
from loket.services.submission import hash_access_code
from loket.store.db import Conn


@dataclass(frozen=True)
class Seeded:
    registration_number: str
    access_code: str
    permit_type: str
    working_days: float | None  # None: not finished


@dataclass
class Seeder:
    conn: Conn
    calendar: WorkCalendar
    seeded: list[Seeded] = field(default_factory=list)
    _seq: dict[str, int] = field(default_factory=dict)

    async def _event(self, reg: str, event: str, at: datetime, **details: Any) -> None:
        seq = self._seq.get(reg, 0) + 1
        self._seq[reg] = seq
        await self.conn.execute(
            "INSERT INTO audit_events (registration_number, seq, event, at, actor, actor_role,"
            " details, prev_hash, hash) VALUES ($1, $2, $3, $4, 'loket', 'system', $5, '', $6)",
            reg,
            seq,
            event,
            at,
            details,
            f"h{seq}",
        )

    async def application(
        self,
        reg: str,
        permit_type: str,
        submitted: datetime,
        *,
        days: int | None,
        paused_days: int = 0,
        late: bool = False,
        status: str = "approved",
        fees: dict[str, Any] | None = None,
        paid: bool = False,
        returns: int = 0,
    ) -> Seeded:
        """One application; ``days`` working days used (pauses excluded), None: open."""
        cal = self.calendar
        finished = None
        pause_start = pause_end = None
        if days is not None:
            if paused_days:
                pause_start = cal.add(submitted, WorkDuration(working_days=1))
                pause_end = cal.add(pause_start, WorkDuration(working_days=paused_days))
                rest = WorkDuration(working_days=days - 1)
                finished = cal.add(pause_end, rest) if days > 1 else pause_end
            else:
                finished = cal.add(submitted, WorkDuration(working_days=days))
        for instant in (submitted, pause_start, pause_end, finished):
            # Monday-Thursday have equal office hours: whole days stay whole (see above).
            assert instant is None or instant.astimezone(cal.tz).weekday() < 4, instant
        due = None
        if finished is not None:
            due = finished - timedelta(hours=1) if late else finished + timedelta(hours=1)
        code = f"CODE{len(self.seeded):06d}"
        total = fees["total"] if fees else None
        await self.conn.execute(
            "INSERT INTO applications (registration_number, permit_type, route_version, status,"
            " data, submitted_at, service_due_at, calendar_version, fees, fee_total, finished_at)"
            " VALUES ($1, $2, 1, $3, '{}', $4, $5, $6, $7, $8, $9)",
            reg,
            permit_type,
            status if finished is not None else "in_progress",
            submitted,
            due,
            cal.version,
            fees,
            total,
            finished,
        )
        await self.conn.execute(
            "INSERT INTO submissions (idempotency_key, registration_number, permit_type,"
            " access_code_hash) VALUES ($1, $1, $2, $3)",
            reg,
            permit_type,
            hash_access_code(code),
        )
        await self._event(reg, "application_submitted", submitted)
        for i in range(returns):
            await self._event(reg, "step_returned", submitted + timedelta(minutes=10 + i))
        if pause_start is not None and pause_end is not None:
            await self._event(reg, "service_clock_paused", pause_start)
            await self._event(reg, "service_clock_resumed", pause_end)
        if fees is not None:
            await self._event(reg, "fees_assessed", submitted + timedelta(minutes=30), **fees)
            if paid and finished is not None:
                await self.task(reg, "bank", "payment", submitted, finished, 0, clock="paused")
        seeded = Seeded(reg, code, permit_type, None if days is None else float(days))
        self.seeded.append(seeded)
        return seeded

    async def task(
        self,
        reg: str,
        agency: str,
        counter: str,
        opened: datetime,
        closed: datetime,
        used_s: int,
        *,
        step_id: str | None = None,
        clock: str = "running",
    ) -> None:
        await self.conn.execute(
            "INSERT INTO tasks (registration_number, step_id, attempt, name, agency, counter,"
            " state, clock, opened_at, due_at, calendar_version, outcome, closed_at,"
            " used_working_s) VALUES ($1, $2, 1, $2, $3, $4, 'done', $5, $6, NULL, $7,"
            " 'approve', $8, $9)",
            reg,
            step_id or counter,
            agency,
            counter,
            clock,
            opened,
            self.calendar.version,
            closed,
            used_s,
        )


def paid_fees(total: int) -> dict[str, Any]:
    line = {"id": "ptka", "name": "Retribusi", "formula": None, "amount": total}
    return {"free": False, "lines": [{**line, "waived": False}], "total": total}


def waived_fees() -> dict[str, Any]:
    line = {"id": "building", "name": "Retribusi", "formula": None, "amount": 0}
    return {"free": False, "lines": [{**line, "waived": True}], "total": 0}
