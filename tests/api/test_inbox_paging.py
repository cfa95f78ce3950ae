"""The staff inbox one page at a time (issue 13 goal 6): pages cover every open task once,
in deadline order with ties broken by task, also when tasks open and close between pages;
a bad page size or cursor answers 422 naming the field."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any

from tests.api.harness import Api
from tests.api.inbox_seed import NOW, close_task, open_task

_NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')
FAR = datetime.max.replace(tzinfo=NOW.tzinfo)


async def _pages(api: Api, user: str, url: str) -> list[list[str]]:
    """Every page from ``url`` on, following the Link header."""
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url is not None:
        r = await api.as_user(user, "GET", next_url)
        assert r.status_code == 200, r.text
        pages.append([row["registration_number"] for row in r.json()])
        link = r.headers.get("link")
        next_url = _NEXT.match(link).group("url") if link else None  # type: ignore[union-attr]
        assert len(pages) < 100, "the pages never end"
    return pages


async def _expected(api: Api, counter: tuple[str, str]) -> list[str]:
    """The inbox order, from the table itself: deadline (paused last), then task id."""
    rows = await api.services.pool.fetch(
        "SELECT registration_number, due_at, id FROM tasks"
        " WHERE state IN ('open', 'returned') AND agency = $1 AND counter = $2",
        *counter,
    )
    rows.sort(key=lambda r: (r["due_at"] or FAR, r["id"]))
    return [r["registration_number"] for r in rows]


async def _seed(api: Api) -> None:
    pool = api.services.pool
    dues: list[datetime | None] = []
    for i in range(23):
        # Every third deadline shared with the one before (ties), three paused (no deadline).
        dues.append(NOW + timedelta(hours=i - i % 3))
    dues[4:4] = [None, None]
    dues.append(None)
    for due in dues:
        await open_task(pool, due)
    await open_task(pool, NOW, counter="archive")  # another counter: never in rina's pages


async def test_pages_cover_every_task_once_in_order_with_ties(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await _seed(api)
    expected = await _expected(api, ("dpmptsp", "front_office"))
    assert len(expected) == 26
    pages = await _pages(api, "rina", "/api/staff/inbox?limit=4")
    assert [len(p) for p in pages] == [4, 4, 4, 4, 4, 4, 2]
    assert [reg for p in pages for reg in p] == expected
    # The default page holds them all, and says nothing of a next one.
    r = await api.as_user("rina", "GET", "/api/staff/inbox")
    assert [row["registration_number"] for row in r.json()] == expected
    assert "link" not in r.headers
    # An exact fit: the last full page has no next page.
    assert [len(p) for p in await _pages(api, "rina", "/api/staff/inbox?limit=13")] == [13, 13]


async def test_tasks_opened_and_closed_between_pages(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await _seed(api)
    before = await _expected(api, ("dpmptsp", "front_office"))
    r = await api.as_user("rina", "GET", "/api/staff/inbox?limit=5")
    first = [row["registration_number"] for row in r.json()]
    assert first == before[:5]
    match = _NEXT.match(r.headers["link"])
    assert match is not None
    pool = api.services.pool
    # Between the pages: one task opens before the cursor (it belongs to page one, already
    # read), one ties the cursor's deadline (a newer id: after the cursor), one opens
    # later; a task of a later page closes.
    last_due = await pool.fetchval(
        "SELECT due_at FROM tasks WHERE registration_number = $1", first[-1]
    )
    early = await open_task(pool, NOW - timedelta(days=1))
    tie = await open_task(pool, last_due)
    late = await open_task(pool, NOW + timedelta(days=30))
    await close_task(pool, before[7])
    rest = [reg for p in await _pages(api, "rina", match.group("url")) for reg in p]
    now_expected = await _expected(api, ("dpmptsp", "front_office"))
    assert early not in rest and early in now_expected
    assert before[7] not in rest
    assert tie in rest and late in rest
    assert rest == [reg for reg in now_expected if reg not in first and reg != early]
    assert len(set(first + rest)) == len(first) + len(rest)  # nothing twice


async def test_a_supervisor_pages_the_whole_agency_once(api: Api) -> None:
    await api.add_user("kepala", "supervisor", "dpmptsp/front_office", agency="dpmptsp")
    await _seed(api)
    agency = [
        r["registration_number"]
        for r in sorted(
            await api.services.pool.fetch(
                "SELECT registration_number, due_at, id FROM tasks WHERE agency = 'dpmptsp'"
                " AND state IN ('open', 'returned')"
            ),
            key=lambda r: (r["due_at"] or FAR, r["id"]),
        )
    ]
    assert len(agency) == 27  # front_office and archive: both, each once
    pages = await _pages(api, "kepala", "/api/staff/inbox?limit=6")
    assert [reg for p in pages for reg in p] == agency


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(f"1:{text}".encode()).decode().rstrip("=")


def _fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors") or []]


async def test_a_bad_page_size_or_cursor_names_the_field(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await open_task(api.services.pool, NOW)
    for query, field in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("limit=abc", "limit"),
        ("after=not%20a%20cursor", "after"),
        ("after=%00", "after"),
        ("after=" + "A" * 300, "after"),
        ("after=" + _b64("1,2,3"), "after"),  # three parts, the inbox's have two
        ("after=" + _b64("x,1"), "after"),
        ("after=" + _b64("01,1"), "after"),  # one spelling per key
        ("after=" + _b64("1,1") + "%3D", "after"),  # padded: another spelling
        ("after=" + base64.urlsafe_b64encode(b"1,1").decode(), "after"),  # no version
        ("after=MToxLDF", "after"),  # "1:1,1" with stray low bits: an alias of MToxLDE
        ("after=" + _b64(f"{10**18},1"), "after"),  # a deadline past the year 9999
        ("after=" + _b64(f"1,{2**63}"), "after"),  # beyond bigint
        ("after=" + _b64("1,-1"), "after"),  # no task has a negative id
        ("after=" + _b64("1,"), "after"),  # no task at all
    ]:
        r = await api.as_user("rina", "GET", f"/api/staff/inbox?{query}")
        body = r.json()
        assert r.status_code == 422, (query, r.status_code, body)
        assert field in _fields(body), (query, body)
        assert body["code"] in ("page_invalid", "invalid_request"), (query, body)
    r = await api.as_user("rina", "GET", "/api/staff/inbox?after=")  # empty: the first page
    assert r.status_code == 200 and len(r.json()) == 1
    # Cursors at the ends of their ranges are bound as they are: a page, never a fault.
    for text in [
        f"{-62135596800000000},0",
        f"{253402300799999999},{2**63 - 1}",
        f",{2**63 - 1}",
        ",0",
    ]:
        r = await api.as_user("rina", "GET", f"/api/staff/inbox?after={_b64(text)}")
        assert r.status_code == 200, (text, r.text)
