"""Readable pages on a phone (12c): Debian's Chromium (Playwright) at 390x844 against the
real app on a free localhost port, a worker on a time-skipping Temporal server of this
module's own and a fresh PostgreSQL database.

The public permit page (Indonesian, then English) and the tracking of a file returned for
corrections must fit the phone's width (no sideways page), keep the route diagram at its
own size inside a figure that scrolls (so its text stays legible), show conditions in
words with the formula one tap away under "rumus", and the staff note once. Screenshots
go to test-artifacts/screenshots/readable-*.png.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from loket import embedded
from loket.compose import create_app
from loket.temporal_codec import DATA_CONVERTER
from tests.api.harness import Api, api_settings
from tests.support import PBG_FORM, eventually
from worker import build_worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
NOTE = "Foto KTP buram; unggah ulang yang terbaca."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: pytest owns the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Phone:
    url: str
    api: Api
    browser: Browser

    async def page(self) -> Page:
        ctx = await self.browser.new_context(
            base_url=self.url,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,  # type: ignore[arg-type]
        )
        ctx.set_default_timeout(15_000)
        return await ctx.new_page()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def phone(pg_dsn: str, migrated_template: str) -> AsyncIterator[Phone]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(embedded.temporal_test_server_path()),
        data_converter=DATA_CONVERTER,
    )
    await embedded.register_search_attributes(env.client, env.client.namespace)
    name = f"loket_readable_{uuid.uuid4().hex[:10]}"
    dsn = await embedded.create_database(pg_dsn, name, template=migrated_template)
    task_queue = f"loket-readable-{uuid.uuid4()}"
    app = create_app(api_settings(task_queue), dsn, client=env.client)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held until uvicorn takes the socket
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with (
            app.router.lifespan_context(app),
            build_worker(
                env.client,
                app.state.services.pool,
                task_queue,
                settings=app.state.services.settings,  # the same file store as the app
            ),
        ):
            config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False)
            server = _Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            await eventually(lambda: asyncio.sleep(0, server.started), bool, within_s=10)
            try:
                async with httpx.AsyncClient(base_url=url) as http, async_playwright() as pw:
                    browser = await pw.chromium.launch(
                        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                    )
                    try:
                        yield Phone(url, Api(app, app.state.services, http), browser)
                    finally:
                        await browser.close()
            finally:
                server.should_exit = True
                await serving
    finally:
        sock.close()
        await env.shutdown()
        await embedded.drop_database(pg_dsn, name)


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"readable-{name}.png"), full_page=full_page)


async def fits_the_phone(page: Page) -> None:
    """The page itself never scrolls sideways (only the diagram's own figure does)."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"


async def test_permit_page_on_a_phone_in_both_languages(phone: Phone) -> None:
    page = await phone.page()
    await page.goto("/permits/PBG")
    img = page.locator("#procedure figure.diagram img")
    await expect(img).to_be_visible()
    await page.wait_for_function("document.querySelector('figure.diagram img').complete")
    natural, shown = await img.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]")
    assert natural > PHONE["width"] and abs(shown - natural) < 2  # its own size: legible
    scrolls = await page.locator("figure.diagram").evaluate("f => f.scrollWidth > f.clientWidth")
    assert scrolls
    await fits_the_phone(page)
    step = page.locator("#step-tpa_review")
    await expect(step.locator(".cond")).to_have_text("hanya jika bukan rumah tinggal MBR")
    formula = step.locator("details.rumus code")
    await expect(formula).to_be_hidden()  # one tap away
    await step.locator("details.rumus summary").click()
    await expect(formula).to_have_text("!is_mbr")
    await shot(page, "01-permit-id-phone")
    await page.locator("figure.diagram").scroll_into_view_if_needed()
    await shot(page, "01a-diagram-id-phone", full_page=False)
    await step.scroll_into_view_if_needed()
    await shot(page, "01b-steps-id-phone", full_page=False)
    await page.locator("#fee").scroll_into_view_if_needed()
    await expect(page.locator("#fee")).to_contain_text("0,035")
    await shot(page, "02-permit-fee-id-phone", full_page=False)

    await page.click("header button[value=en]")
    await expect(page.locator("#requirements h2")).to_have_text("1. Requirements")
    await expect(page.locator("#step-tpa_review .cond")).to_have_text(
        "only when not a low-income (MBR) house"
    )
    src = await page.locator("figure.diagram img").get_attribute("src")
    assert src is not None and src.endswith("lang=en")
    await fits_the_phone(page)
    await shot(page, "03-permit-en-phone")
    await page.context.close()


async def test_tracking_a_returned_file_on_a_phone(phone: Phone) -> None:
    api = phone.api
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    done = await api.submit("PBG", {**PBG_FORM, "building_use": "sosial_budaya"})
    reg, code = done["registration_number"], done["access_code"]
    base = f"/api/staff/tasks/{reg}/registration"

    async def claimed() -> int:
        return (await api.as_user("rina", "POST", f"{base}/claim")).status_code

    await eventually(claimed, lambda status: status == 200)
    r = await api.as_user("rina", "POST", f"{base}/decide", {"outcome": "return", "note": NOTE})
    assert r.status_code == 200, r.text

    page = await phone.page()
    await page.goto("/track")
    await page.fill("#reg", reg)
    await page.fill("#code", code)
    await page.click("form[data-testid=track-form] button[type=submit]")
    tracking = page.get_by_test_id("tracking")
    await expect(page.get_by_test_id("clock-paused")).to_be_visible()
    await expect(tracking.get_by_test_id("note")).to_have_count(1)
    await expect(tracking.get_by_test_id("note")).to_contain_text(NOTE)
    history = page.get_by_test_id("history")
    await expect(history).to_contain_text("dikembalikan ke pemohon untuk perbaikan")
    await expect(history).not_to_contain_text("return")
    await fits_the_phone(page)
    await shot(page, "04-tracking-returned-id-phone")
    await history.scroll_into_view_if_needed()
    await shot(page, "04a-history-id-phone", full_page=False)
    await page.context.close()
