"""Browser journey of the issued permit (Chromium from Debian, the real app on a free port):
the applicant downloads the PDF from the tracking page with the access code; a third party
opens the verification page (Bahasa Indonesia first), uploads that PDF (match) and a forged
one (no match); after a revocation the page says revoked. Screenshots go to
test-artifacts/screenshots/ (permit-*)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.api.test_issued_permit import MBR_FORM, ROUTE, _forged, _users
from tests.support import eventually
from tests.web.test_browser import CHROMIUM, Stack, refuse_dialogs, shot, stack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]
__all__ = ["stack"]  # the module-scoped app + browser fixture of test_browser


async def _decide(stack: Stack, user: str, reg: str, step: str) -> dict[str, Any]:
    async def state() -> str:
        r = await stack.api.as_user(user, "GET", f"/api/staff/tasks/{reg}/{step}")
        return str(r.json()["task"]["state"]) if r.status_code == 200 else ""

    await eventually(state, lambda s: s == "open")
    r = await stack.api.as_user(
        user, "POST", f"/api/staff/tasks/{reg}/{step}/decide", {"outcome": "approve"}
    )
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


async def test_download_verify_upload_and_revoked(stack: Stack, tmp_path: Path) -> None:
    await _users(stack.api)
    submitted = await stack.api.submit("PBG", MBR_FORM)
    reg, code = submitted["registration_number"], submitted["access_code"]
    for user, step in ROUTE:
        view = await _decide(stack, user, reg, step)
    number = view["permit_number"]

    ctx = await stack.context()
    page = await ctx.new_page()
    problems: list[str] = []
    refuse_dialogs(page, problems)
    await page.goto("/track")
    await page.fill("#reg", reg)
    await page.fill("#code", code)
    await page.click("form[data-testid=track-form] button[type=submit]")
    await expect(page.get_by_test_id("status")).to_have_text("disetujui")
    await shot(page, "permit-01-tracking")
    async with page.expect_download() as waiting:
        await page.click("form[data-testid=permit-download] button[type=submit]")
    download = await waiting.value
    pdf_path = tmp_path / download.suggested_filename
    await download.save_as(pdf_path)
    pdf = pdf_path.read_bytes()
    assert download.suggested_filename == number.replace("/", "-") + ".pdf"
    verified = (await stack.api.http.get(f"/api/public/issued-permits/{number}")).json()
    assert hashlib.sha256(pdf).hexdigest() == verified["pdf_sha256"]

    await page.goto(f"/verify/{number}")
    section = page.get_by_test_id("verification")
    await expect(section).to_have_attribute("data-state", "valid")
    await expect(page.get_by_test_id("verdict")).to_contain_text("SAH")
    await expect(page.get_by_test_id("nik")).to_have_text("3316********0001")
    await shot(page, "permit-02-verify")

    await page.set_input_files("#file", str(pdf_path))
    await page.click("form[data-testid=check-form] button[type=submit]")
    await expect(page.get_by_test_id("check-result")).to_have_attribute("data-matches", "true")
    await shot(page, "permit-03-match")

    forged = tmp_path / "forged.pdf"
    forged.write_bytes(_forged(pdf, b"Siti Rahayu", b"Siti Rahayo"))
    await page.set_input_files("#file", str(forged))
    await page.click("form[data-testid=check-form] button[type=submit]")
    await expect(page.get_by_test_id("check-result")).to_have_attribute("data-matches", "false")
    await shot(page, "permit-04-no-match")

    r = await stack.api.as_user(
        "admin", "POST", f"/api/admin/issued-permits/{number}/revoke", {"reason": "data palsu"}
    )
    assert r.status_code == 200
    await page.goto(f"/verify/{number}")
    await expect(section).to_have_attribute("data-state", "revoked")
    await expect(page.get_by_test_id("revoked-reason")).to_have_text("data palsu")
    await shot(page, "permit-05-revoked")
    assert problems == []
    await ctx.close()
