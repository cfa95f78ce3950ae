"""The stalled list one page at a time (issue 13 goal 6): the pages, read one after the
other, hold exactly the rows of the whole ranked list (``rank_stalled``, the list before
paging, kept as the oracle) in its order when no two deadlines are zero working time apart;
due-as-the-office-closed steps (no working time overdue, not escalated) are in neither; a
bad page size or cursor answers 422 naming the field."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from loket.api import monitoring as monitoring_api
from loket.calendar import WorkCalendar
from loket.services import monitoring
from loket.store import paging
from tests.api.harness import Api
from tests.api.inbox_seed import NOW, open_task

_NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')
SATURDAY_NOON = NOW - timedelta(days=1, hours=22)  # 2026-11-28 12:00 WIB


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return row["registration_number"], row["step_id"]


async def _oracle(api: Api, now: datetime) -> list[tuple[str, str]]:
    """The whole list as ranked before paging; among equal (overdue, level, deadline), by
    registration number: the seed's task ids follow it."""
    ranked = await monitoring.stalled_steps(api.services, now)
    ranked.sort(
        key=lambda r: (
            -r["overdue_working_s"],
            -r["escalation_level"],
            r["due_at"] or now,
            r["registration_number"],
        )
    )
    return [_key(r) for r in ranked]


async def _paged(api: Api, now: datetime, limit: int) -> list[list[tuple[str, str]]]:
    pages, after = [], None
    while True:
        page = await monitoring.stalled_page(api.services, now, limit=limit, after=after)
        pages.append([_key(r) for r in page.rows])
        if page.next_after is None:
            return pages
        assert len(page.rows) == limit  # only the last page is short
        after = page.next_after
        assert len(pages) < 100


def _office_hour(day: date, hour: int, minute: int) -> datetime:
    """``hour:minute`` WIB on ``day`` (a Monday-Thursday: office hours 08:00 on)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NOW.tzinfo) - timedelta(
        hours=7
    )


async def _seed(api: Api) -> dict[str, str]:
    pool = api.services.pool
    seeded = {}
    # Overdue in office hours (09:00-11:00 WIB, Monday-Thursday of November), distinct in
    # working time; some share a deadline with another at a different escalation level.
    days = [date(2026, 11, d) for d in (2, 3, 4, 5, 9, 10, 11, 12, 16, 17, 18, 19, 23, 24, 25)]
    for i, day in enumerate(days):
        due = _office_hour(day, 9 + i % 2, 7 * i % 60)
        seeded[f"overdue-{i}"] = await open_task(pool, due, escalation_level=i % 3)
        if i % 4 == 0:  # the same deadline, another level: the level decides
            seeded[f"tie-{i}"] = await open_task(pool, due, escalation_level=2)
    # Escalated but not due yet, and escalated while paused (no deadline).
    for i in range(4):
        seeded[f"escalated-{i}"] = await open_task(
            pool, NOW + timedelta(days=2 + i), escalation_level=1 + i % 2
        )
    seeded["paused"] = await open_task(pool, None, escalation_level=1)
    seeded["not-stalled"] = await open_task(pool, NOW + timedelta(days=3))
    return seeded


async def test_the_pages_are_the_ranked_list(api: Api) -> None:
    seeded = await _seed(api)
    oracle = await _oracle(api, NOW)
    assert len(oracle) == len(seeded) - 1  # all but the one not due and not escalated
    for limit in (1, 3, 7, 50):
        pages = await _paged(api, NOW, limit)
        assert [k for p in pages for k in p] == oracle, limit
    r = await api.services.pool.fetchval("SELECT count(*) FROM tasks")
    assert r == len(seeded)


async def test_a_step_due_as_the_office_closed_is_not_stalled(api: Api) -> None:
    calendar = WorkCalendar(api.services.calendar)
    friday_close = calendar.office_sessions(date(2026, 11, 27))[-1][1]
    assert calendar.elapsed(friday_close, SATURDAY_NOON) == timedelta(0)
    await _seed(api)
    closing = [await open_task(api.services.pool, friday_close) for _ in range(7)]
    oracle = await _oracle(api, SATURDAY_NOON)
    assert not {reg for reg, _ in oracle} & set(closing)
    for limit in (2, 3, 50):  # pages of 2 and 3 read past the seven to fill themselves
        pages = await _paged(api, SATURDAY_NOON, limit)
        assert [k for p in pages for k in p] == oracle, limit


async def test_steps_falling_due_between_pages(api: Api) -> None:
    await _seed(api)
    first = await monitoring.stalled_page(api.services, NOW, limit=5)
    shown = [_key(r) for r in first.rows]
    pool = api.services.pool
    earlier = await open_task(pool, first.rows[0]["due_at"] - timedelta(hours=1))
    later = await open_task(pool, first.rows[-1]["due_at"] + timedelta(seconds=1))
    rest: list[tuple[str, str]] = []
    after = first.next_after
    while after is not None:
        page = await monitoring.stalled_page(api.services, NOW, limit=5, after=after)
        rest += [_key(r) for r in page.rows]
        after = page.next_after
    oracle = await _oracle(api, NOW)
    assert (earlier, "registration") not in rest  # before the cursor: page one's place
    assert (later, "registration") in rest
    assert rest == [k for k in oracle if k not in shown and k[0] != earlier]


async def test_the_api_pages_with_a_link_and_names_a_bad_field(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The endpoint reads the clock; the seed's not-yet-due steps are due days after NOW.
    monkeypatch.setattr(monitoring_api, "utcnow", lambda: NOW)
    await api.add_user("inspektur", "inspector")
    await _seed(api)
    urls, regs = ["/api/admin/monitoring/stalled?limit=4"], []
    while urls:
        r = await api.as_user("inspektur", "GET", urls.pop())
        assert r.status_code == 200, r.text
        regs += [row["registration_number"] for row in r.json()]
        assert all("id" not in row for row in r.json())
        if "link" in r.headers:
            match = _NEXT.match(r.headers["link"])
            assert match is not None
            urls.append(match.group("url"))
    assert len(regs) == len(set(regs)) == 24
    for query in ("limit=0", "limit=500", "after=xyz%21", "after=MTox"):
        r = await api.as_user("inspektur", "GET", f"/api/admin/monitoring/stalled?{query}")
        assert r.status_code == 422, (query, r.text)
        field = query.split("=")[0]
        assert field in [e["field"] for e in r.json()["errors"]], (query, r.json())


async def test_cursors_at_the_ends_of_their_ranges_answer(api: Api) -> None:
    """Cursors that decode are bound as they are: the extremes answer a page, no fault."""
    await _seed(api)
    far = paging.micros(datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    near = paging.micros(datetime(1, 1, 1, 0, 1, tzinfo=UTC))
    for key in [
        (1, far, 2**31 - 1, paging.BIGINT_MAX),
        (1, near, -(2**31), 0),
        (2, -(2**31), None, 0),
        (2, 2**31 - 1, far, paging.BIGINT_MAX),
    ]:
        page = await monitoring.stalled_page(api.services, NOW, after=paging.encode(key))
        assert isinstance(page.rows, list)
