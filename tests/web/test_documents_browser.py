"""Documents in a real browser (10A): the applicant applies and uploads every document from
the tracking page, the completeness counter marks one incomplete and returns it, the
applicant sees only that slot to upload again, uploads it with a note, and the file moves
on. Chromium from Debian, the app on uvicorn (the stack of tests/web/test_browser.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.support import PBG_FORM, eventually
from tests.web.test_browser import CHROMIUM, Stack, refuse_dialogs, shot, sign_in, stack

__all__ = ["stack"]  # the module's fixture, shared with the other browser journeys

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SLOTS = ["land_title", "identity", "architecture_drawings", "environmental_document"]


async def _open_steps(stack: Stack, reg: str) -> list[str]:
    async with stack.api.services.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT step_id FROM tasks WHERE registration_number = $1 AND state = 'open'"
            " ORDER BY step_id",
            reg,
        )
    return [r["step_id"] for r in rows]


async def _track(page: Page, reg: str, code: str) -> None:
    await page.goto("/track")
    await page.fill("#reg", reg)
    await page.fill("#code", code)
    await page.click("form[data-testid=track-form] button[type=submit]")
    await expect(page.get_by_test_id("documents")).to_be_visible()


async def _upload(page: Page, slot: str, content: bytes) -> None:
    form = page.get_by_test_id(f"upload-{slot}")
    await form.locator("input[type=file]").set_input_files(
        files=[{"name": f"{slot}.pdf", "mimeType": "application/pdf", "buffer": content}]
    )
    await form.locator("button[type=submit]").click()
    await expect(page.locator(".flash.ok")).to_be_visible()


async def test_upload_return_one_slot_and_reupload(stack: Stack) -> None:
    await stack.api.add_user("rina", "staff", "dpmptsp/front_office")
    await stack.api.add_user("budi", "staff", "dpupr/pbg_secretariat")
    ctx = await stack.context()
    page = await ctx.new_page()
    problems: list[str] = []
    refuse_dialogs(page, problems)

    # Apply, then straight to the upload forms.
    await page.goto("/permits/PBG/apply")
    for name, value in PBG_FORM.items():
        if name == "building_use":
            await page.select_option(f"#f-{name}", str(value))
        else:
            await page.fill(f"#f-{name}", str(value))
    await page.click("form[data-testid=apply-form] button[type=submit]")
    reg = (await page.get_by_test_id("registration-number").inner_text()).strip()
    code = (await page.get_by_test_id("access-code").inner_text()).strip()
    await eventually(lambda: _open_steps(stack, reg), lambda s: s == ["registration"])
    await page.get_by_test_id("to-documents").locator("button").click()
    for slot in SLOTS:
        await _upload(page, slot, PDF + slot.encode())
    await expect(page.locator("[data-testid=documents] [data-slot] form.inline")).to_have_count(4)
    await shot(page, "doc-01-uploaded")
    applicant = page

    # Registration passes the file on; the completeness check returns one item.
    staff_ctx = await stack.context()
    staff = await staff_ctx.new_page()
    refuse_dialogs(staff, problems)
    await sign_in(staff, "rina")
    await staff.goto(f"/staff/tasks/{reg}/registration")
    await staff.check("input[name=outcome][value=approve]")
    await staff.get_by_test_id("decide").click()
    await eventually(lambda: _open_steps(stack, reg), lambda s: s == ["completeness"])
    await staff_ctx.close()
    staff_ctx = await stack.context()
    staff = await staff_ctx.new_page()
    refuse_dialogs(staff, problems)
    await sign_in(staff, "budi")
    await staff.goto(f"/staff/tasks/{reg}/completeness")
    await expect(staff.get_by_test_id("download-identity-1")).to_be_visible()
    for slot in SLOTS:
        verdict = "incomplete" if slot == "identity" else "complete"
        await staff.select_option(f"#verdict-{slot}", verdict)
    await staff.fill("input[name='verdict_note.identity']", "KTP buram")
    await staff.check("[data-testid=correct-identity]")
    await staff.check("input[name=outcome][value=return]")
    await staff.fill("#note", "Unggah ulang KTP yang terbaca")
    await shot(staff, "doc-02-verdicts")
    await staff.get_by_test_id("decide").click()
    await expect(staff).to_have_url(f"{stack.url}/staff/inbox?done=decided")

    # The applicant sees the verdict and exactly one slot to upload again.
    await _track(applicant, reg, code)
    await expect(applicant.get_by_test_id("asked")).to_have_count(1)
    await expect(applicant.locator("form.upload")).to_have_count(1)
    await expect(applicant.get_by_test_id("upload-identity")).to_be_visible()
    await expect(applicant.get_by_test_id("verdict-identity")).to_have_text("tidak lengkap")
    await shot(applicant, "doc-03-returned")
    await _upload(applicant, "identity", PDF + b"sharper")
    await expect(applicant.get_by_test_id("download-identity-2")).to_be_visible()
    await applicant.fill("#note", "KTP sudah dipindai ulang")
    await applicant.click("form[data-testid=resubmit-form] button[type=submit]")
    await expect(applicant.locator("[data-testid=history] [data-testid=note]").last).to_have_text(
        "KTP sudah dipindai ulang"
    )

    # The counter reads the note and both versions, and passes the file on.
    await staff.goto(f"/staff/tasks/{reg}/completeness")
    await expect(staff.get_by_test_id("audit")).to_contain_text("KTP sudah dipindai ulang")
    await expect(staff.get_by_test_id("download-identity-2")).to_be_visible()
    async with staff.expect_download() as download:
        await staff.get_by_test_id("download-identity-1").click()
    saved = await (await download.value).path()
    assert saved.read_bytes() == PDF + b"identity"
    await staff.select_option("#verdict-identity", "complete")
    await staff.check("input[name=outcome][value=approve]")
    await shot(staff, "doc-04-approve")
    await staff.get_by_test_id("decide").click()
    await eventually(
        lambda: _open_steps(stack, reg), lambda s: s == ["environmental_review", "tpa_review"]
    )
    assert problems == []
    await staff_ctx.close()
    await ctx.close()
