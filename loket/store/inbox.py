"""The staff inbox, one page at a time (issue 13 goal 6).

Order: soonest deadline first, paused clocks (no deadline) last, then the task's id, a
unique tie-break, so that a page ends at a key (due, id) and the next one starts after it:
rows added or closed between pages never shift what follows (keyset paging). Each of the
caller's counters (and each agency a supervisor sees whole) is read from its own index
range, ``tasks_inbox_counter`` / ``tasks_inbox_agency`` (migration 015), at most one page
from each, then merged: a page costs the same on a counter with 5 open tasks and with 5,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from loket.store import paging
from loket.store.db import Conn
from loket.store.queries import InboxRow

# Before every deadline: the first page starts here (timestamptz goes far below year 1).
_START = (datetime(1, 1, 1, tzinfo=UTC), 0)
_DUE_KEY = "COALESCE(t.due_at, 'infinity'::timestamptz)"  # the indexes' expression
_OPEN = "t.state IN ('open', 'returned')"
_AFTER = f"({_DUE_KEY}, t.id) > (COALESCE($4::timestamptz, 'infinity'::timestamptz), $5)"

_PAGE = f"""
WITH page AS (
    (SELECT p.id, p.due_key
     FROM unnest($1::text[], $2::text[]) AS c(agency, counter)
     CROSS JOIN LATERAL (
         SELECT t.id, {_DUE_KEY} AS due_key FROM tasks t
         WHERE t.agency = c.agency AND t.counter = c.counter AND {_OPEN} AND {_AFTER}
         ORDER BY {_DUE_KEY}, t.id LIMIT $6) p
     UNION
     SELECT p.id, p.due_key
     FROM unnest($3::text[]) AS g(agency)
     CROSS JOIN LATERAL (
         SELECT t.id, {_DUE_KEY} AS due_key FROM tasks t
         WHERE t.agency = g.agency AND {_OPEN} AND {_AFTER}
         ORDER BY {_DUE_KEY}, t.id LIMIT $6) p)
    ORDER BY due_key, id LIMIT $6
)
SELECT t.id, t.registration_number, a.permit_type, t.step_id, t.attempt, t.name, t.agency,
       t.counter, t.state, t.clock, t.opened_at, t.due_at, t.claimed_by, t.escalation_level
FROM page JOIN tasks t ON t.id = page.id
JOIN applications a ON a.registration_number = t.registration_number
ORDER BY page.due_key, page.id
"""


class InboxPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    rows: list[InboxRow]
    next_after: str | None  # the cursor of the next page; None: this is the last


def cursor_of(due_at: datetime | None, task_id: int) -> str:
    return paging.encode((None if due_at is None else paging.micros(due_at), task_id))


def after_key(cursor: str | None) -> tuple[datetime | None, int]:
    """The (due, id) a cursor names: :class:`paging.CursorInvalid` if it is not one."""
    if cursor is None:
        return _START
    due_us, task_id = paging.decode(cursor, 2)
    if task_id is None or task_id < 0:
        raise paging.CursorInvalid(cursor)
    return (None if due_us is None else paging.instant(due_us)), task_id


async def inbox_page(
    conn: Conn,
    *,
    counters: Sequence[str] = (),
    agencies: Sequence[str] = (),
    limit: int | None = paging.DEFAULT_LIMIT,
    after: str | None = None,
) -> InboxPage:
    """Open and returned tasks at ``counters`` (``agency/counter``) or anywhere in
    ``agencies``, from just after the cursor ``after``; ``limit`` None: all of them."""
    pairs = [key.split("/", 1) for key in counters if "/" in key]
    due, task_id = after_key(after)
    rows = await conn.fetch(
        _PAGE,
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        list(agencies),
        due,
        task_id,
        None if limit is None else limit + 1,  # one more: is there a next page?
    )
    more = limit is not None and len(rows) > limit
    shown = rows[:limit] if more else rows
    last = shown[-1] if more else None
    return InboxPage(
        rows=[InboxRow.model_validate(dict(r)) for r in shown],
        next_after=cursor_of(last["due_at"], last["id"]) if last is not None else None,
    )


async def inbox(
    conn: Conn, *, counters: Sequence[str] = (), agencies: Sequence[str] = ()
) -> list[InboxRow]:
    """The whole inbox in the same order (the supervisor's workload groups all of it)."""
    page = await inbox_page(conn, counters=counters, agencies=agencies, limit=None)
    return page.rows
