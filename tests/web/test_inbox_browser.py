"""The staff inbox and the stalled list in the browser show one page and a link to the
next (issue 13 goal 6):
Chromium (Debian's) against the real app on a free port (the stack of test_browser.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import expect

from loket.services import monitoring, utcnow
from loket.store import paging
from tests.api.inbox_seed import NOW, open_task
from tests.web.test_browser import Stack, pytestmark, refuse_dialogs, shot, sign_in, stack

__all__ = ["pytestmark", "stack"]  # the fixture and marks of test_browser.py


async def test_the_inbox_pages_with_a_next_link(stack: Stack) -> None:
    await stack.api.add_user("wulan", "staff", "dpmptsp/front_office")
    pool = stack.api.services.pool
    regs = [await open_task(pool, NOW + timedelta(hours=i // 2)) for i in range(55)]
    ctx = await stack.context()
    page = await ctx.new_page()
    problems: list[str] = []
    refuse_dialogs(page, problems)
    await sign_in(page, "wulan")
    await page.goto("/staff/inbox")
    rows = page.locator("[data-testid=inbox] tbody tr")
    await expect(rows).to_have_count(paging.DEFAULT_LIMIT)
    await expect(rows.first).to_contain_text(regs[0])
    await expect(page.get_by_test_id("inbox-first")).to_have_count(0)
    # Overdue by a positive working time: the badge says "overdue", no minus sign.
    overdue = page.get_by_test_id("overdue")
    await expect(overdue.first).to_have_text(re.compile(r"\d+:\d{2}"))
    assert not [t for t in await overdue.all_inner_texts() if "-" in t]
    await shot(page, "50-inbox-page-1")
    await page.get_by_test_id("inbox-next").click()
    await expect(page).to_have_url(re.compile(r"/staff/inbox\?after=[A-Za-z0-9_-]+$"))
    await expect(rows).to_have_count(55 - paging.DEFAULT_LIMIT)
    shown = [(await rows.nth(i).locator("a").first.inner_text()).strip() for i in range(5)]
    assert shown == regs[paging.DEFAULT_LIMIT :]
    await expect(page.get_by_test_id("inbox-next")).to_have_count(0)
    await shot(page, "51-inbox-page-2")
    await page.get_by_test_id("inbox-first").click()
    await expect(rows).to_have_count(paging.DEFAULT_LIMIT)
    # A cursor made up by hand answers the error page, never a 500.
    response = await page.goto("/staff/inbox?after=garbage!")
    assert response is not None and response.status == 422
    assert [p for p in problems if "status of 422" not in p] == []
    await ctx.close()


async def test_the_stalled_list_pages_with_a_next_link(stack: Stack) -> None:
    await stack.api.add_user("inspektur2", "inspector")
    pool = stack.api.services.pool
    before = len(await monitoring.stalled_steps(stack.api.services, utcnow()))
    for i in range(paging.DEFAULT_LIMIT + 5 - before):
        await open_task(pool, NOW - timedelta(days=20, hours=i), counter="archive")
    ctx = await stack.context()
    page = await ctx.new_page()
    problems: list[str] = []
    refuse_dialogs(page, problems)
    await sign_in(page, "inspektur2")
    await page.goto("/monitor")
    rows = page.locator("[data-testid=stalled] tbody tr")
    await expect(rows).to_have_count(paging.DEFAULT_LIMIT)
    await shot(page, "52-stalled-page-1")
    await page.get_by_test_id("stalled-next").click()
    await expect(page).to_have_url(re.compile(r"/monitor\?after=[A-Za-z0-9_-]+$"))
    await expect(rows).to_have_count(5)
    await expect(page.get_by_test_id("stalled-next")).to_have_count(0)
    await page.get_by_test_id("stalled-first").click()
    await expect(rows).to_have_count(paging.DEFAULT_LIMIT)
    response = await page.goto("/monitor?after=garbage!")
    assert response is not None and response.status == 422
    assert [p for p in problems if "status of 422" not in p] == []
    await ctx.close()
