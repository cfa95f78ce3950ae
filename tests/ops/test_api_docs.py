"""API documentation without internet: Swagger UI and ReDoc come from a package and are
served by the app; a browser with every non-local request blocked renders them; and
``loket openapi`` prints the document without starting a server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.async_api import Route, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from loket import cli
from loket import embedded as services
from loket.compose import create_app
from tests.api.harness import api_settings
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS  # Debian's chromium, its flags

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served(env: WorkflowEnvironment, dsn: str, task_queue: str) -> AsyncIterator[str]:
    port = services.free_port()
    app = create_app(api_settings(task_queue), dsn, client=env.client)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the API did not start"
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_docs_pages_reference_only_their_own_assets(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    async with served(temporal_ts_env, db_dsn, task_queue) as base, httpx.AsyncClient() as http:
        for page, assets in (
            ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css"]),
            ("/redoc", ["redoc.standalone.js"]),
        ):
            html = (await http.get(f"{base}{page}")).text
            assert "https://" not in html and "cdn" not in html.lower(), page
            for asset in assets:
                r = await http.get(f"{base}{page}?asset={asset}")
                assert r.status_code == 200, asset
                assert len(r.content) > 10_000 and "max-age" in r.headers["cache-control"]
        r = await http.get(f"{base}/docs?asset=../../settings.py")
        assert r.status_code == 404


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
async def test_docs_render_with_the_network_blocked(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    blocked: list[str] = []

    async def only_localhost(route: Route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:")):
            await route.continue_()
        else:
            blocked.append(url)
            await route.abort()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with served(temporal_ts_env, db_dsn, task_queue) as base, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.route("**/*", only_localhost)
            await page.goto(f"{base}/docs")
            await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Loket")
            await expect(page.locator(".opblock-tag").first).to_be_visible()
            await page.screenshot(path=str(SCREENSHOTS / "api-docs-swagger.png"))
            assert blocked == []  # Swagger UI tried nothing outside the machine
            await page.goto(f"{base}/redoc")
            await expect(page.locator("h1").first).to_contain_text("Loket")
            await page.screenshot(path=str(SCREENSHOTS / "api-docs-redoc.png"))
        finally:
            await browser.close()
    # ReDoc's bundle links the Redocly logo of its sidebar footer from its CDN; blocked,
    # the page renders all the same (the screenshot shows it).
    assert set(blocked) <= {REDOCLY_LOGO}


def test_loket_openapi_prints_the_document_without_servers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["openapi"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["info"]["title"] == "Loket"
    assert "/api/staff/tasks/{registration_number}/{step_id}/decide" in document["paths"]
    paths = document["paths"]
    assert paths["/healthz"]["get"]["operationId"] == "health"
    decide = paths["/api/staff/tasks/{registration_number}/{step_id}/decide"]["post"]
    assert decide["operationId"] == "staff_decide"
    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids), ids
