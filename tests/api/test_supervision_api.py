"""Supervision tasks of deemed approvals, through the API and the staff page: opened by the
record activity from a ``step_deemed_approved`` audit entry (once, however often the batch
is retried), seen and closed only by staff of the step's agency, closed once with a note,
and a closed row cannot be changed in the database."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from loket.case.messages import AuditEntry
from loket.store.complaints import open_supervisions
from tests.api.harness import Api
from tests.support import eventually
from tests.web.support import Browser

BASIS = "UU 30/2014 ps. 53"


async def deemed(api: Api) -> str:
    """A PBG application whose technical review was deemed approved (the audit entry the
    case core writes, given to the store function apply_batch calls)."""
    reg = str((await api.submit())["registration_number"])
    await eventually(
        lambda: api.services.pool.fetchval(
            "SELECT count(*) FROM applications WHERE registration_number = $1", reg
        ),
        lambda n: n == 1,
    )
    entry = AuditEntry(
        seq=99,
        event="step_deemed_approved",
        at=datetime(2027, 3, 18, 3, 0, tzinfo=UTC),
        actor="loket",
        actor_role="system",
        step_id="technical_review",
        attempt=1,
        details={"agency": "dpupr", "counter": "tpa", "legal_basis": BASIS, "outcome": "approve"},
    )
    async with api.services.pool.acquire() as conn:
        for _ in range(2):  # a retried batch opens nothing twice
            await open_supervisions(conn, reg, [entry])
    return reg


async def test_staff_of_the_agency_see_and_close_it_once(api: Api) -> None:
    reg = await deemed(api)
    await api.add_user("agus", "staff", "dpupr/tpa")
    await api.add_user("budi", "staff", "dpupr/pbg_secretariat")  # same agency, other counter
    await api.add_user("dewi", "staff", "dlh/environmental_review")
    for username in ("agus", "budi"):
        rows = (await api.as_user(username, "GET", "/api/supervision")).json()
        assert [(r["registration_number"], r["step_id"]) for r in rows] == [
            (reg, "technical_review")
        ]
    assert (await api.as_user("dewi", "GET", "/api/supervision")).json() == []

    url = f"/api/supervision/{reg}/technical_review/close"
    other = await api.as_user("dewi", "POST", url, {"note": "bukan instansi saya"})
    assert (other.status_code, other.json()["code"]) == (404, "task_not_found")
    short = await api.as_user("agus", "POST", url, {"note": "x"})
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "note"
    nul = await api.as_user("agus", "POST", url, {"note": "cek \x00"})
    assert nul.status_code == 422
    missing_key = await api.http.post(
        url, json={"note": "tanpa kunci"}, headers=await api.login("agus")
    )
    assert missing_key.json()["code"] == "idempotency_key_missing"

    closed = await api.as_user("agus", "POST", url, {"note": "Berkas diperiksa, sesuai."})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["closed_by"], closed.json()["note"]) == (
        "agus",
        "Berkas diperiksa, sesuai.",
    )
    again = await api.as_user("budi", "POST", url, {"note": "Saya juga memeriksa."})
    assert again.json()["closed_by"] == "agus" and again.json()["note"] == closed.json()["note"]
    assert (await api.as_user("agus", "GET", "/api/supervision")).json() == []
    async with api.services.pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError):
            await conn.execute(
                "UPDATE supervision_tasks SET note = 'rewritten' WHERE registration_number = $1",
                reg,
            )


async def test_the_staff_page_lists_and_closes_it(api: Api) -> None:
    reg = await deemed(api)
    await api.add_user("agus", "staff", "dpupr/tpa")
    browser = Browser.open(api)
    try:
        await browser.sign_in("agus")
        inbox = await browser.get("/staff/inbox")
        assert 'data-testid="supervision-link"' in inbox.text
        page = await browser.get("/staff/supervision")
        assert reg in page.text and BASIS in page.text
        done = await browser.post(
            f"/staff/supervision/{reg}/technical_review/close", {"note": "Sesuai."}
        )
        assert done.status_code == 303
        after = await browser.get(done.headers["location"])
        assert 'data-testid="supervision-empty"' in after.text and "ditutup" in after.text
    finally:
        await browser.close()
