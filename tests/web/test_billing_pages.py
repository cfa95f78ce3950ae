"""Billing on the pages: the tracking page's fee state (Gratis, dibebaskan with its basis,
the SKRD with billing code, pay-by and status), the teller's receipt number, and the
payments page that reconciles a statement and lists the callbacks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.web import i18n
from tests.api.harness import Api
from tests.api.payments_support import (
    PTKA_AMOUNT,
    TELLER,
    billed_ptka,
    callback,
    payment,
    payments_api,
)
from tests.support import PBG_FORM, SIP_FORM, eventually
from tests.web.support import Browser

TEMPLATES = Path(__file__).resolve().parents[2] / "loket" / "web" / "templates" / "billing"
_TEXT = re.compile(r"""\b_\(\s*(["'])((?:(?!\1).)+)\1\s*\)""")


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> AsyncIterator[Api]:
    async with payments_api(temporal_ts_env.client, db_dsn, task_queue) as running:
        yield running


async def _track(api: Api, reg: str, code: str) -> str:
    browser = Browser.open(api)
    try:
        form = {"registration_number": reg, "access_code": code}
        # The read model follows the workflow: poll until the application is recorded.
        r = await eventually(lambda: browser.post("/track", form), lambda r: r.status_code != 404)
        assert r.status_code == 200, r.text
        return r.text
    finally:
        await browser.close()


def _section(html: str) -> str:
    found = re.search(r'<section class="fee-state".*?</section>', html, re.S)
    assert found, "no fee state on the page"
    return found.group(0)


async def test_tracking_shows_the_bill_then_its_payment(api: Api) -> None:
    submitted = await api.submit(
        "PTKA",
        {"employer_name": "PT Maju", "worker_name": "J", "position": "Engineer", "months": 6},
    )
    reg, code = submitted["registration_number"], submitted["access_code"]
    before = _section(await _track(api, reg, code))
    assert 'data-state="not_assessed"' in before or 'data-state="assessed"' in before
    r = await api.as_user(
        "sari", "POST", f"/api/staff/tasks/{reg}/verification/decide", {"outcome": "approve"}
    )
    assert r.status_code == 200, r.text
    billing_code = r.json()["bills"][0]["billing_code"]
    billed = _section(await _track(api, reg, code))
    assert 'data-state="billed"' in billed
    assert f'<code data-testid="billing-code">{billing_code}</code>' in billed
    assert "9.000.000" in billed  # rupiah as the public reads it
    assert ">belum dibayar<" in billed  # Indonesian by default
    paid = await callback(api.http, payment(billing_code, tx="TX-PAGE"))
    assert paid.status_code == 200, paid.text
    after = _section(await _track(api, reg, code))
    assert ">lunas<" in after and "<code>TX-PAGE</code>" in after


async def test_tracking_says_gratis_or_dibebaskan_with_the_basis(api: Api) -> None:
    sip = await api.submit("SIP", SIP_FORM)
    free = _section(await _track(api, sip["registration_number"], sip["access_code"]))
    assert 'data-state="free"' in free and ">Gratis<" in free
    assert "tidak dikenakan retribusi" in free
    mbr = await api.submit("PBG", {**PBG_FORM, "is_mbr": True, "building_area_m2": 80})
    waived = _section(await _track(api, mbr["registration_number"], mbr["access_code"]))
    assert 'data-state="waived"' in waived and ">dibebaskan<" in waived
    assert "PP 16/2021 ps. 253 ayat (9)" in waived


async def test_the_teller_page_asks_for_the_receipt_number(api: Api) -> None:
    reg, code = await billed_ptka(api)
    teller = Browser.open(api)
    try:
        await teller.sign_in(TELLER)
        page = await teller.get(f"/staff/tasks/{reg}/payment")
        assert page.status_code == 200
        assert 'data-testid="receipt-field"' in page.text and code in page.text
        r = await teller.post(
            f"/staff/tasks/{reg}/payment/decide", {"outcome": "approve", "idempotency_key": "k1"}
        )
        assert r.status_code == 422 and "SSRD" in r.text
        r = await teller.post(
            f"/staff/tasks/{reg}/payment/decide",
            {"outcome": "approve", "receipt_number": "SSRD-77", "idempotency_key": "k2"},
        )
        assert r.status_code == 303, r.text
    finally:
        await teller.close()
    async with api.services.pool.acquire() as conn:
        receipt = await conn.fetchval(
            "SELECT receipt_number FROM payments WHERE billing_code = $1", code
        )
    assert receipt == "SSRD-77"


async def test_the_payments_page_reconciles_a_statement(api: Api) -> None:
    await api.add_user("admin", "admin")
    await api.add_user("inspektur", "inspector")
    _, code = await billed_ptka(api)
    assert (await callback(api.http, payment(code, tx="TX-1"))).status_code == 200
    assert (await callback(api.http, payment(code, tx="TX-2"))).status_code == 409
    now = datetime.now(UTC).isoformat()
    statement = (
        "transaction_id,billing_code,amount,paid_at\n"
        f"TX-1,{code},{PTKA_AMOUNT + 1},{now}\n"
        f"TX-9,{code},{PTKA_AMOUNT},{now}\n"
    )
    for username in ("admin", "inspektur"):
        browser = Browser.open(api)
        try:
            await browser.sign_in(username)
            page = await browser.get("/admin/payments")
            assert page.status_code == 200
            outcomes = re.findall(r'data-testid="attempt" data-outcome="([a-z_]+)"', page.text)
            assert outcomes == ["bill_already_paid", "accepted"]
            r = await browser.http.post(
                "/admin/payments/reconcile",
                data={"csrf_token": browser.csrf, "bank": "bjb"},
                files={"statement": ("bjb.csv", statement.encode(), "text/csv")},
            )
            assert r.status_code == 200, r.text
            kinds = re.findall(r'data-testid="mismatch" data-kind="([a-z_]+)"', r.text)
            assert sorted(kinds) == ["amount_mismatch", "paid_not_recorded"]
            bad = await browser.http.post(
                "/admin/payments/reconcile",
                data={"csrf_token": browser.csrf, "bank": "bjb"},
                files={"statement": ("x.csv", b"nope\n1\n", "text/csv")},
            )
            assert bad.status_code == 422 and "rekening koran tidak dapat dibaca" in bad.text
        finally:
            await browser.close()
    staff = Browser.open(api)
    try:
        await staff.sign_in("sari")
        assert (await staff.get("/admin/payments")).status_code == 403
    finally:
        await staff.close()


def test_every_billing_text_has_an_indonesian_translation() -> None:
    texts = {
        m.group(2)
        for path in TEMPLATES.glob("*.html")
        for m in _TEXT.finditer(path.read_text(encoding="utf-8"))
    }
    texts |= {f"bill {s}" for s in ("open", "overdue", "paid", "cancelled")}
    assert len(texts) > 20
    assert sorted(t for t in texts if t not in i18n.INDONESIAN) == []
