"""Browser journeys of the published performance and the satisfaction survey on a phone:
Chromium (Debian's) against the real app on a free port (the stack of test_browser.py).

The read model is seeded with known figures (tests/api/performance_seed.py); the survey is
answered from the tracking page of a finished application, and a second response (a form
opened twice) is refused with its code. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest_asyncio
from playwright.async_api import Page, expect

from loket.calendar import calendar_for
from loket.case.survey import ELEMENTS
from loket.edge.messages import message
from tests.api.performance_seed import Seeded, Seeder
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Stack,
    pytestmark,
    refuse_dialogs,
    shot,
    stack,
)

__all__ = ["pytestmark", "stack"]  # the fixture and marks of test_browser.py
YEAR = 2026


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def seeded(stack: Stack) -> AsyncIterator[list[Seeded]]:
    services = stack.api.services
    tz = services.calendar.tz
    async with services.pool.acquire() as conn:
        s = Seeder(conn, calendar_for(services.calendar))
        april, may = datetime(YEAR, 4, 6, 10, tzinfo=tz), datetime(YEAR, 5, 4, 10, tzinfo=tz)
        for i, days in enumerate([1, 2, 3, 5, 6, 7]):
            await s.application(f"SIP-{YEAR}-9100{i:02d}", "SIP", april, days=days, late=i == 3)
        for i, days in enumerate([1, 3, 8]):
            await s.application(f"PBG-{YEAR}-9100{i:02d}", "PBG", may, days=days)
    yield s.seeded


async def test_performance_page_on_a_phone(stack: Stack, seeded: list[Seeded]) -> None:
    for name, viewport in (("40-kinerja-phone", PHONE), ("41-kinerja", DESKTOP)):
        ctx = await stack.context(viewport)
        page = await ctx.new_page()
        problems: list[str] = []
        refuse_dialogs(page, problems)
        await page.goto("/")
        await page.click("header nav a[href='/kinerja']")
        await page.select_option("#year", str(YEAR))
        await page.click("form[data-testid=year-form] button")
        await expect(page.locator("h1")).to_have_text("Kinerja pelayanan")
        sip = page.locator(f"[data-testid=perf-months] tr[data-permit=SIP][data-month='{YEAR}-04']")
        await expect(sip.locator("td").nth(1)).to_have_text(f"April {YEAR}")
        await expect(sip.locator("[data-col=received]")).to_have_text("6")
        await expect(sip.locator("[data-col=late]")).to_have_text("1")
        await expect(sip.locator("[data-col=median_working_days]")).to_have_text("4,0")
        pbg = page.locator(f"[data-testid=perf-months] tr[data-permit=PBG][data-month='{YEAR}-05']")
        await expect(pbg.locator("[data-col=received]")).to_have_text("<5")
        await expect(pbg.locator("[data-col=median_working_days]")).to_have_text("<5")
        await expect(page.locator(".chart-panel svg").first).to_be_visible()
        await expect(page.locator("a[href='/data.json']")).to_be_visible()
        await shot(page, name)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-top.png"))
        assert problems == []
        await ctx.close()


async def _open_survey(page: Page, app: Seeded) -> None:
    await page.goto("/track")
    await page.fill("#reg", app.registration_number)
    await page.fill("#code", app.access_code)
    await page.click("form[data-testid=track-form] button[type=submit]")
    await expect(page.get_by_test_id("survey-offer")).to_be_visible()
    await page.click("form[data-testid=survey-offer] button[type=submit]")
    await expect(page.get_by_test_id("survey-form")).to_be_visible()


async def test_survey_on_a_phone_once(stack: Stack, seeded: list[Seeded]) -> None:
    app = seeded[0]
    ctx = await stack.context(PHONE)
    first, second = await ctx.new_page(), await ctx.new_page()
    problems: list[str] = []
    for page in (first, second):
        refuse_dialogs(page, problems)
        await _open_survey(page, app)  # the same form, opened twice
    for i, element in enumerate(ELEMENTS):
        await first.check(f"input[name={element}][value='{1 + (i % 4)}']")
        await second.check(f"input[name={element}][value='4']")
    await shot(first, "42-survey-phone")
    async with first.expect_response("**/survey") as answered:
        await first.get_by_test_id("survey-submit").click()
    assert (await answered.value).status == 201
    await expect(first.get_by_test_id("survey-done")).to_be_visible()
    await shot(first, "43-survey-done-phone")

    async with second.expect_response("**/survey") as refused:
        await second.get_by_test_id("survey-submit").click()
    assert (await refused.value).status == 409
    await expect(second.get_by_test_id("error")).to_have_text(
        message("survey_already_answered", {}, "id")
    )
    await expect(second.get_by_test_id("survey-form")).to_have_count(0)
    await shot(second, "44-survey-refused-phone")
    async with stack.api.services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM survey_responses") == 1
    # The refused answer's own 409 is the only resource error the console may show.
    assert [p for p in problems if "status of 409" not in p] == []
    await ctx.close()
