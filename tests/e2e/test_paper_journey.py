"""The paper and the bill of one PBG, by HTTP calls only (issues 10 and 11 together).

The applicant uploads every document slot; the completeness counter marks one incomplete
and returns the file naming it; the applicant re-uploads only that slot and resubmits; the
reviews pass; the retribution is billed with a check-digited billing code; the bank's
signed callback pays it and moves the case on without a teller; the issuing counter
approves and the permit is numbered; its PDF downloads with the access code; the QR code
read from the PDF's page opens the verification, which says valid; the exact PDF verifies
and a modified one does not. Real PostgreSQL, real Temporal (time-skipping), real worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest_asyncio
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from loket.case.bill import is_valid_code
from loket.compose import create_app
from tests.api.harness import Api, api_settings, idempotent, running_api
from tests.api.payments_support import BANK, SECRET, callback, payment
from tests.api.test_documents import PDF, SLOTS, listing, open_steps, upload
from tests.api.test_issued_permit import _forged, _qr_url
from tests.support import PBG_FORM, eventually

STAFF = {
    "rina": "dpmptsp/front_office",
    "budi": "dpupr/pbg_secretariat",
    "agus": "dpupr/tpa",
    "dewi": "dlh/environmental_review",
    "eko": "dpupr/retribution",
    "gita": "dpmptsp/issuance",
}


@pytest_asyncio.fixture(loop_scope="session")
async def paper_api(
    temporal_ts_env_fresh: WorkflowEnvironment, db_dsn: str, task_queue: str, tmp_path: Path
) -> AsyncIterator[Api]:
    client = temporal_ts_env_fresh.client
    settings = api_settings(
        task_queue,
        file_store_url=f"file://{tmp_path / 'files'}",
        payment_banks={BANK: SecretStr(SECRET)},
    )
    app = create_app(settings, db_dsn, client=client)
    async with running_api(client, db_dsn, task_queue, app=app) as api:
        for user, counter in STAFF.items():
            await api.add_user(user, "staff", counter)
        await api.add_user("admin", "admin")
        yield api


async def _decide(api: Api, user: str, reg: str, step: str, **body: Any) -> dict[str, Any]:
    r = await api.as_user(
        user, "POST", f"/api/staff/tasks/{reg}/{step}/decide", {"outcome": "approve", **body}
    )
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


async def test_documents_bill_payment_and_permit_of_one_pbg(paper_api: Api) -> None:
    api = paper_api
    submitted = await api.submit("PBG", PBG_FORM)
    reg, code = submitted["registration_number"], submitted["access_code"]
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["registration"])

    # Every slot uploaded at registration.
    for slot in SLOTS:
        r = await upload(api, reg, code, slot, PDF + slot.encode())
        assert r.status_code == 201, r.text
    await _decide(api, "rina", reg, "registration")
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["completeness"])

    # One item incomplete: returned naming it; only that slot takes a new version.
    verdicts = [
        {"slot": s, "verdict": "incomplete" if s == "architecture_drawings" else "complete"}
        for s in SLOTS
    ]
    await _decide(
        api,
        "budi",
        reg,
        "completeness",
        outcome="return",
        note="gambar tidak terbaca",
        verdicts=verdicts,
        corrections=["architecture_drawings"],
    )
    docs = await listing(api, reg, code)
    assert [s["id"] for s in docs["slots"] if s["asked"]] == ["architecture_drawings"]
    refused = await upload(api, reg, code, "identity", PDF + b"again")
    assert refused.status_code == 409 and refused.json()["code"] == "document_not_returned"
    r = await upload(api, reg, code, "architecture_drawings", PDF + b"sharper drawings")
    assert r.status_code == 201, r.text
    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": code, "note": "gambar sudah diganti"},
        headers=idempotent(),
    )
    assert r.status_code == 200, r.text
    await _decide(
        api,
        "budi",
        reg,
        "completeness",
        verdicts=[{"slot": "architecture_drawings", "verdict": "complete"}],
    )
    await eventually(
        lambda: open_steps(api, reg, code),
        lambda s: sorted(s) == ["environmental_review", "tpa_review"],
    )
    await _decide(api, "dewi", reg, "environmental_review")
    await _decide(api, "agus", reg, "tpa_review")
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["assessment"])

    # Billed: a billing code whose check digits hold, the published amount.
    view = await _decide(api, "eko", reg, "assessment")
    (bill,) = view["bills"]
    assert bill["status"] == "open" and bill["amount"] == view["fees"]["total"] > 0
    assert is_valid_code(bill["billing_code"])

    # The bank pays it: no teller; the issuing step opens.
    paid = await callback(api.http, payment(bill["billing_code"], bill["amount"], "TX-PBG-1"))
    assert paid.status_code == 200, paid.text
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["issuance"])

    view = await _decide(api, "gita", reg, "issuance")
    assert view["status"] == "approved"
    number = view["permit_number"]

    r = await api.http.post(f"/api/public/applications/{reg}/permit", json={"access_code": code})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    url = _qr_url(pdf)
    assert urlsplit(url).path == f"/verify/{number}"
    page = await api.http.get(urlsplit(url).path)
    assert page.status_code == 200 and 'data-state="valid"' in page.text

    check = f"/api/public/issued-permits/{number}/check"
    same = await api.http.post(check, content=pdf, headers={"content-type": "application/pdf"})
    assert same.status_code == 200 and same.json()["matches"] is True
    issued = (await api.http.get(f"/api/public/issued-permits/{number}")).json()
    assert issued["state"] == "valid" and issued["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
    forged = _forged(pdf, b"Siti Rahayu", b"Siti Rahayo")
    other = await api.http.post(check, content=forged, headers={"content-type": "application/pdf"})
    assert other.status_code == 200 and other.json()["matches"] is False

    # The applicant was told at each turn (one notice per event, contract kinds).
    async with api.services.pool.acquire() as conn:
        kinds = [
            r["kind"]
            for r in await conn.fetch(
                "SELECT kind FROM notification_outbox WHERE registration_number = $1"
                " AND recipient = 'applicant' ORDER BY created_at, key",
                reg,
            )
        ]
    for kind in (
        "application_received",
        "application_returned",
        "fee_billed",
        "payment_received",
        "application_approved",
        "permit_ready",
    ):
        assert kinds.count(kind) == 1, (kind, kinds)
