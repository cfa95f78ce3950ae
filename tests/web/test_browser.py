"""Browser journeys: Playwright drives Debian's Chromium against the real app served by
uvicorn on a free localhost port, with a worker on a time-skipping Temporal server of this
module's own and a fresh PostgreSQL database.

The journeys tell one story, in file order: an applicant simulates the fee and applies; a
staff member signs in, claims and returns the file (with a note holding a <script>); the
applicant tracks it and sees the paused clock; a supervisor reassigns work; the clock is
moved ahead until steps escalate, and an inspector sees the stalled dashboard and the
audit trail. Screenshots of every page go to test-artifacts/screenshots/.

Chromium comes from the Debian archive (``.ci/run`` installs it); never ``playwright
install``, which downloads a browser and cannot work here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from loket import embedded as stack_services
from loket.compose import create_app
from loket.services.published import preview_fees
from loket.temporal_codec import DATA_CONVERTER
from loket.web.format import rupiah
from tests.api.harness import PASSWORD, Api, api_settings
from tests.support import PBG_FORM, eventually
from worker import build_worker

log = logging.getLogger(__name__)

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
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
XSS_NOTE = '<script>alert("xss")</script> Lampirkan gambar struktur yang ditandatangani.'

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
class Stack:
    url: str
    api: Api
    env: WorkflowEnvironment
    browser: Browser
    story: dict[str, Any] = field(default_factory=dict)

    async def context(self, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
        ctx = await self.browser.new_context(base_url=self.url, viewport=viewport)  # type: ignore[arg-type]
        ctx.set_default_timeout(15_000)
        return ctx


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(pg_dsn: str, migrated_template: str) -> AsyncIterator[Stack]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(stack_services.temporal_test_server_path()),
        data_converter=DATA_CONVERTER,
    )
    await stack_services.register_search_attributes(env.client, env.client.namespace)
    name = f"loket_browser_{uuid.uuid4().hex[:10]}"
    dsn = await stack_services.create_database(pg_dsn, name, template=migrated_template)
    task_queue = f"loket-browser-{uuid.uuid4()}"
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
                        yield Stack(url, Api(app, app.state.services, http), env, browser)
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


def refuse_dialogs(page: Page, seen: list[str]) -> None:
    """Any alert() means a script from the data ran; any console error (a blocked inline
    script or style, a failed load) breaks the page: record both for the assertion."""

    async def on_dialog(dialog: Any) -> None:
        seen.append(f"dialog: {dialog.message}")
        await dialog.dismiss()

    def on_console(message: Any) -> None:
        if message.type == "error":
            seen.append(f"console: {message.text}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/login")
    await page.fill("#u", username)
    await page.fill("#p", PASSWORD)
    await page.click("form[data-testid=login-form] button[type=submit]")
    await expect(page.get_by_test_id("signed-in")).to_be_visible()


async def open_tasks(stack: Stack, reg: str) -> int:
    async with stack.api.services.pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM tasks WHERE registration_number = $1 AND state = 'open'",
                reg,
            )
        )


async def test_applicant_simulates_the_fee_and_applies(stack: Stack) -> None:
    ctx = await stack.context()
    page = await ctx.new_page()
    problems: list[str] = []
    refuse_dialogs(page, problems)
    await page.goto("/")
    await expect(page.locator("h1")).to_have_text("Perizinan dan standar pelayanannya")
    await shot(page, "01-catalog")
    await page.click("a[href='/permits/PBG']")
    await expect(page.locator("#procedure img")).to_be_visible()
    await shot(page, "02-permit-standard")
    await page.click("a[href='/permits/PBG/simulate']")
    await page.select_option("#f-building_use", "usaha")
    await page.fill("#f-building_area_m2", "640")
    await page.fill("#f-fence_length_m", "20")
    await page.click("form[data-testid=simulate-form] button[type=submit]")
    expected = preview_fees(
        stack.api.services.permit("PBG"),
        {"building_use": "usaha", "building_area_m2": 640.0, "fence_length_m": 20.0},
    ).fees.total
    await expect(page.get_by_test_id("fee-total")).to_have_text(rupiah(expected))
    await shot(page, "03-fee-simulator")

    await page.click("[data-testid=fee-result] a[href='/permits/PBG/apply']")
    for name, value in PBG_FORM.items():
        if name == "building_use":
            await page.select_option(f"#f-{name}", str(value))
        else:
            await page.fill(f"#f-{name}", str(value))
    await shot(page, "04-apply-form")
    await page.click("form[data-testid=apply-form] button[type=submit]")
    reg = (await page.get_by_test_id("registration-number").inner_text()).strip()
    code = (await page.get_by_test_id("access-code").inner_text()).strip()
    assert reg.startswith("PBG-") and code
    await shot(page, "05-submitted")
    assert problems == []
    stack.story.update(reg=reg, code=code)
    await ctx.close()


async def test_staff_signs_in_claims_and_returns_the_file(stack: Stack) -> None:
    reg = stack.story["reg"]
    await stack.api.add_user("rina", "staff", "dpmptsp/front_office")
    await eventually(lambda: open_tasks(stack, reg), lambda n: n == 1)
    ctx = await stack.context()
    page = await ctx.new_page()
    dialogs: list[str] = []
    refuse_dialogs(page, dialogs)
    await page.goto("/staff/inbox")
    await expect(page).to_have_url(f"{stack.url}/login?next=/staff/inbox")
    await shot(page, "06-login")
    await page.fill("#u", "rina")
    await page.fill("#p", PASSWORD)
    await page.click("form[data-testid=login-form] button[type=submit]")
    await expect(page).to_have_url(f"{stack.url}/staff/inbox")
    await expect(page.get_by_test_id("inbox")).to_contain_text(reg)
    await shot(page, "07-inbox")
    await page.click(f"a[href='/staff/tasks/{reg}/registration']")
    await page.get_by_test_id("claim").click()
    await expect(page.get_by_test_id("claimed-by")).to_have_text("rina")
    await page.check("input[name=outcome][value=return]")
    await page.fill("#note", XSS_NOTE)
    await shot(page, "08-task-page")
    await page.get_by_test_id("decide").click()
    await expect(page).to_have_url(f"{stack.url}/staff/inbox?done=decided")
    await expect(page.locator(".flash.ok")).to_have_text("Keputusan tercatat.")

    # The note is text on the task page, never markup; and a second decision is refused
    # by the workflow with its reason while nothing changes.
    await page.goto(f"/staff/tasks/{reg}/registration")
    await expect(page.get_by_test_id("task-state")).to_contain_text("dikembalikan")
    await expect(page.locator("[data-testid=audit] [data-testid=note]").first).to_have_text(
        XSS_NOTE
    )
    await shot(page, "09-task-returned")
    assert dialogs == []
    await ctx.close()


async def test_applicant_tracks_and_sees_the_paused_clock(stack: Stack) -> None:
    reg, code = stack.story["reg"], stack.story["code"]
    for name, viewport in (("10-tracking", DESKTOP), ("11-tracking-phone", PHONE)):
        ctx = await stack.context(viewport)
        page = await ctx.new_page()
        dialogs: list[str] = []
        refuse_dialogs(page, dialogs)
        await page.goto("/track")
        await page.fill("#reg", reg)
        await page.fill("#code", code)
        await page.click("form[data-testid=track-form] button[type=submit]")
        paused = page.get_by_test_id("clock-paused")
        await expect(paused).to_be_visible()
        await expect(paused).to_contain_text("Waktu pelayanan dihentikan sementara")
        await expect(page.get_by_test_id("history")).to_contain_text("Waktu layanan dihentikan")
        await expect(page.locator("[data-testid=history] [data-testid=note]").first).to_have_text(
            XSS_NOTE
        )
        await expect(page.get_by_test_id("resubmit-form")).to_be_visible()
        await shot(page, name)
        assert dialogs == []
        await ctx.close()
    # In English too, after the switch.
    ctx = await stack.context()
    page = await ctx.new_page()
    await page.goto("/track")
    await page.click("button[name=lang][value=en]")
    await page.fill("#reg", reg)
    await page.fill("#code", code)
    await page.click("form[data-testid=track-form] button[type=submit]")
    await expect(page.get_by_test_id("clock-paused")).to_contain_text("The service clock is paused")
    await ctx.close()


async def test_supervisor_reassigns_tasks(stack: Stack) -> None:
    await stack.api.add_user("sari", "staff", "dpmptsp/front_office")
    await stack.api.add_user("kepala", "supervisor", agency="dpmptsp")
    regs = [(await stack.api.submit())["registration_number"] for _ in range(2)]
    for reg in regs:
        await eventually(lambda reg=reg: open_tasks(stack, reg), lambda n: n == 1)
    stack.story["open_regs"] = regs
    ctx = await stack.context()
    page = await ctx.new_page()
    await sign_in(page, "kepala")
    await page.goto("/supervisor")
    unclaimed = page.get_by_test_id("group-unclaimed")
    for reg in regs:
        await expect(unclaimed).to_contain_text(reg)
        await page.check(f"input[name=task][value='{reg}/registration']")
    await page.select_option("#to", "sari")
    await page.fill("#reason", "Rina sedang melayani konsultasi PBG")
    await shot(page, "12-supervisor-select")
    await page.get_by_test_id("reassign").click()
    results = page.get_by_test_id("reassign-results")
    await expect(results.locator("li.ok")).to_have_count(2)
    group = page.get_by_test_id("group-sari")
    for reg in regs:
        await expect(group).to_contain_text(reg)
    await shot(page, "13-supervisor-reassigned")
    async with stack.api.services.pool.acquire() as conn:
        holders = await conn.fetch(
            "SELECT claimed_by FROM tasks WHERE registration_number = ANY($1::text[])", regs
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE event = 'task_reassigned' "
            "AND registration_number = ANY($1::text[])",
            regs,
        )
    assert [h["claimed_by"] for h in holders] == ["sari", "sari"]
    assert events == 2
    await ctx.close()


async def test_inspector_sees_stalled_work_and_the_audit_trail(stack: Stack) -> None:
    regs = stack.story["open_regs"]
    await stack.api.add_user("inspektur", "inspector")
    # One step closed on time, for the SLA charts.
    on_time = (await stack.api.submit())["registration_number"]
    await eventually(lambda: open_tasks(stack, on_time), lambda n: n == 1)
    r = await stack.api.as_user(
        "rina", "POST", f"/api/staff/tasks/{on_time}/registration/decide", {"outcome": "approve"}
    )
    assert r.status_code == 200, r.text
    # Two weeks of Temporal time: the open steps pass every escalation rule.
    await stack.env.sleep(timedelta(days=14))

    async def escalated() -> int:
        async with stack.api.services.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE escalation_level > 0 "
                    "AND registration_number = ANY($1::text[])",
                    regs,
                )
            )

    await eventually(escalated, lambda n: n == len(regs), within_s=30)
    ctx = await stack.context()
    page = await ctx.new_page()
    dialogs: list[str] = []
    refuse_dialogs(page, dialogs)
    await sign_in(page, "inspektur")
    await page.goto("/monitor")
    stalled = page.get_by_test_id("stalled")
    for reg in regs:
        await expect(stalled).to_contain_text(reg)
    await shot(page, "14-stalled-dashboard")
    await page.goto("/monitor/sla")
    await expect(page.locator("svg.chart")).to_have_count(3)
    await expect(page.get_by_test_id("sla-table")).to_contain_text("Pendaftaran")
    await shot(page, "15-sla")

    # The returned file's audit trail: every event in order, the clock's pause, the note
    # as text, and the link to its workflow in the Temporal UI.
    reg = stack.story["reg"]
    await page.goto("/monitor")
    await page.fill("#reg", reg)
    await page.click("form.search button")
    await expect(page).to_have_url(f"{stack.url}/applications/{reg}")
    audit = page.get_by_test_id("audit")
    await expect(audit.locator("li.ev-clock_paused")).to_have_count(1)
    await expect(audit.locator("li.ev-service_clock_paused")).to_have_count(1)
    await expect(audit.locator("[data-testid=note]").first).to_have_text(XSS_NOTE)
    seqs = [
        int(s) for s in await audit.locator("li").evaluate_all("els => els.map(e => e.dataset.seq)")
    ]
    assert seqs == sorted(seqs) and seqs[0] == 1
    await expect(page.get_by_test_id("chain")).to_have_text("rantai hash utuh")
    settings = stack.api.services.settings
    await expect(page.get_by_test_id("temporal-link")).to_have_attribute(
        "href",
        f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{reg}",
    )
    # The inspectorate changes nothing: no forms to cancel or recompute.
    await expect(page.get_by_test_id("cancel-form")).to_have_count(0)
    await shot(page, "16-audit-trail")
    assert dialogs == []
    await ctx.close()
