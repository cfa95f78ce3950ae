"""The complaint form in a real browser on a phone-sized viewport: Playwright drives
Debian's Chromium against the real app on a free localhost port, a worker on a
time-skipping Temporal server of this module's own and a fresh PostgreSQL database.
Screenshots go to test-artifacts/screenshots/ (complaint-*.png)."""

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

from loket import embedded as stack_services
from loket.compose import create_app
from loket.temporal_codec import DATA_CONVERTER
from tests.api.harness import Api, api_settings
from tests.support import eventually
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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Stack:
    url: str
    api: Api
    browser: Browser


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(pg_dsn: str, migrated_template: str) -> AsyncIterator[Stack]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(stack_services.temporal_test_server_path()),
        data_converter=DATA_CONVERTER,
    )
    await stack_services.register_search_attributes(env.client, env.client.namespace)
    name = f"loket_complaints_{uuid.uuid4().hex[:10]}"
    dsn = await stack_services.create_database(pg_dsn, name, template=migrated_template)
    task_queue = f"loket-complaints-{uuid.uuid4()}"
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
            server = _Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            await eventually(lambda: asyncio.sleep(0, server.started), bool, within_s=10)
            try:
                async with httpx.AsyncClient(base_url=url) as http, async_playwright() as pw:
                    browser = await pw.chromium.launch(
                        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                    )
                    try:
                        yield Stack(url, Api(app, app.state.services, http), browser)
                    finally:
                        await browser.close()
            finally:
                server.should_exit = True
                await serving
    finally:
        sock.close()
        await env.shutdown()
        await stack_services.drop_database(pg_dsn, name)


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def fits_the_phone(page: Page) -> bool:
    """No sideways scrolling: the page is no wider than the phone's viewport."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    return int(width) <= PHONE["width"]


async def test_a_complaint_filed_and_followed_on_a_phone(stack: Stack) -> None:
    ctx = await stack.browser.new_context(base_url=stack.url, viewport=PHONE)  # type: ignore[arg-type]
    ctx.set_default_timeout(15_000)
    page = await ctx.new_page()
    await page.goto("/pengaduan")
    await expect(page.locator("h1")).to_have_text("Ajukan pengaduan")
    assert await fits_the_phone(page)
    await shot(page, "complaint-form-phone")

    await page.fill("#f-subject", "Antrean loket pendaftaran")
    await page.fill("#f-description", "Menunggu dua jam tanpa nomor antrean.")
    await page.fill("#f-lapor_ticket", "https://lapor.example.com/1")
    await page.click("form[data-testid=complaint-form] button[type=submit]")
    await expect(page.get_by_test_id("field-error-lapor_ticket")).to_have_text(
        "Bukan nomor tiket atau alamat LAPOR! di https://www.lapor.go.id/."
    )
    assert await page.input_value("#f-subject") == "Antrean loket pendaftaran"  # kept
    await shot(page, "complaint-form-error-phone")

    await page.fill("#f-registration_number", "PBG-2026-999999")  # no such application
    await page.fill("#f-lapor_ticket", "#4412345")
    await page.click("form[data-testid=complaint-form] button[type=submit]")
    await expect(page.get_by_test_id("field-error-registration_number")).to_have_text(
        "Tidak ada permohonan dengan nomor registrasi ini."
    )
    await page.fill("#f-registration_number", "")
    await page.click("form[data-testid=complaint-form] button[type=submit]")
    number = (await page.get_by_test_id("tracking-number").inner_text()).strip()
    code = (await page.get_by_test_id("access-code").inner_text()).strip()
    assert number.startswith("ADU-")
    assert await fits_the_phone(page)
    await shot(page, "complaint-filed-phone")

    await page.goto("/pengaduan/lacak")
    await page.fill("#num", number)
    await page.fill("#code", code)
    await page.click("form[data-testid=complaint-track-form] button[type=submit]")
    await expect(page.get_by_test_id("lapor")).to_have_text("4412345")
    await expect(page.get_by_test_id("complaint")).to_contain_text("Verifikasi dan penerusan")
    assert await fits_the_phone(page)
    await shot(page, "complaint-tracking-phone")
    await ctx.close()


async def test_the_tracking_page_links_to_a_complaint_about_the_application(stack: Stack) -> None:
    submitted = await stack.api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]
    ctx = await stack.browser.new_context(base_url=stack.url, viewport=PHONE)  # type: ignore[arg-type]
    ctx.set_default_timeout(15_000)
    page = await ctx.new_page()
    await page.goto("/track")
    await page.fill("#reg", reg)
    await page.fill("#code", code)
    await page.click("form[data-testid=track-form] button[type=submit]")
    await page.click("[data-testid=complaint-link] a")
    assert await page.input_value("#f-registration_number") == reg
    await page.fill("#f-subject", "Berkas belum diproses")
    await page.fill("#f-description", "Sudah lewat tenggat.")
    await page.click("form[data-testid=complaint-form] button[type=submit]")
    number = (await page.get_by_test_id("tracking-number").inner_text()).strip()
    async with stack.api.services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT related_registration, source FROM complaints WHERE tracking_number = $1",
            number,
        )
    assert row is not None and dict(row) == {"related_registration": reg, "source": "tracking"}
    await ctx.close()
