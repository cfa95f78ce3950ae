"""Billing in a real browser (Chromium via Playwright, the app behind uvicorn): the applicant
tracks a billed PTKA and sees the SKRD's billing code and pay-by date, the bank's callback
pays it, the tracking page says lunas; an administrator reconciles a statement on the
payments page. No script error, no console error; screenshots beside the others."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from loket.services.payments import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from loket.settings import PLACEHOLDER_BANK_SECRET
from tests.support import eventually
from tests.web.test_browser import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    Stack,
    refuse_dialogs,
    shot,
    sign_in,
    stack,
)

__all__ = ["stack"]  # the module-scoped stack of tests/web/test_browser.py, one of our own

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]
BANK = "demo"  # the development bank of the test settings
PTKA_FORM = {"employer_name": "PT Maju", "worker_name": "J", "position": "Engineer", "months": 6}


async def _track(page: Page, reg: str, code: str) -> None:
    await page.goto("/track")
    await page.fill("#reg", reg)
    await page.fill("#code", code)
    await page.click("form[data-testid=track-form] button[type=submit]")


async def test_the_applicant_sees_the_bill_and_then_its_payment(stack: Stack) -> None:
    api = stack.api
    await api.add_user("sari", "staff", "disnaker/foreign_workers")
    submitted = await api.submit("PTKA", PTKA_FORM)
    reg, access = submitted["registration_number"], submitted["access_code"]

    async def verify() -> object:
        return await api.as_user(
            "sari", "POST", f"/api/staff/tasks/{reg}/verification/decide", {"outcome": "approve"}
        )

    r = await eventually(verify, lambda r: r.status_code != 404)  # type: ignore[attr-defined]
    billing_code = r.json()["bills"][0]["billing_code"]  # type: ignore[attr-defined]
    stack.story["billing_code"] = billing_code

    ctx = await stack.context()
    page = await ctx.new_page()
    seen: list[str] = []
    refuse_dialogs(page, seen)
    await _track(page, reg, access)
    fee = page.get_by_test_id("fee-state")
    await expect(fee).to_have_attribute("data-state", "billed")
    await expect(page.get_by_test_id("billing-code")).to_have_text(billing_code)
    await expect(page.get_by_test_id("bill-status")).to_have_text("belum dibayar")
    await expect(page.get_by_test_id("fee-amount")).to_contain_text("9.000.000")
    await shot(page, "60-tracking-billed")

    body = json.dumps(
        {
            "transaction_id": "TX-BROWSER-1",
            "billing_code": billing_code,
            "amount": 9_000_000,
            "paid_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    ts = str(int(time.time()))
    paid = await api.http.post(
        f"/api/payments/callback/{BANK}",
        content=body,
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(PLACEHOLDER_BANK_SECRET.encode(), ts, body),
        },
    )
    assert paid.status_code == 200, paid.text
    phone = await stack.context(PHONE)
    mobile = await phone.new_page()
    refuse_dialogs(mobile, seen)
    await _track(mobile, reg, access)
    await expect(mobile.get_by_test_id("bill-status")).to_have_text("lunas")
    await expect(mobile.get_by_test_id("fee-state")).to_contain_text("TX-BROWSER-1")
    await shot(mobile, "61-tracking-paid-phone")
    assert seen == []
    await ctx.close()
    await phone.close()


async def test_an_administrator_reconciles_a_statement(stack: Stack, tmp_path: Path) -> None:
    code = stack.story["billing_code"]
    await stack.api.add_user("admin_bayar", "admin")
    statement = tmp_path / "demo.csv"
    now = datetime.now(UTC).isoformat()
    statement.write_text(
        "transaction_id,billing_code,amount,paid_at\n"
        f"TX-BROWSER-1,{code},9000000,{now}\n"
        f"TX-LOST,{code},9000000,{now}\n"
    )
    ctx = await stack.context(DESKTOP)
    page = await ctx.new_page()
    seen: list[str] = []
    refuse_dialogs(page, seen)
    await sign_in(page, "admin_bayar")
    await page.goto("/admin/payments")
    await expect(page.get_by_test_id("attempt").first).to_have_attribute("data-outcome", "accepted")
    await page.select_option("#bank", BANK)
    await page.set_input_files("#statement", str(statement))
    await page.click("form[data-testid=reconcile-form] button[type=submit]")
    report = page.get_by_test_id("reconcile-report")
    await expect(report).to_be_visible()
    await expect(page.get_by_test_id("mismatch")).to_have_count(1)
    await expect(page.get_by_test_id("mismatch")).to_have_attribute(
        "data-kind", "paid_not_recorded"
    )
    assert re.search(r"1 cocok", await page.get_by_test_id("reconcile-summary").inner_text())
    await shot(page, "62-payments-reconciliation")
    assert seen == []
    await ctx.close()
