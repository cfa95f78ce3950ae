"""The complaint API on a real database and Temporal: filing (with or without a
registration number, from SP4N-LAPOR!), bad input answered 422 naming the field, the
complainant's tracking with its own access code, the answer shown, reopening, and
idempotency of a retried filing."""

from __future__ import annotations

from typing import Any

from tests.api.harness import Api, idempotent
from tests.support import eventually
from tests.web.support import Browser

FORM = {"subject": "Antrean loket", "description": "Menunggu dua jam."}


async def file(api: Api, form: dict[str, Any], key: str | None = None, **body: Any) -> Any:
    return await api.http.post(
        "/api/public/complaints", json={"form": form, **body}, headers=idempotent(key)
    )


async def track(api: Api, number: str, code: str) -> Any:
    return await api.http.post(f"/api/public/complaints/{number}/track", json={"access_code": code})


async def test_a_complaint_without_a_registration_number_gets_its_own_number(api: Api) -> None:
    r = await file(api, FORM)
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["tracking_number"].startswith("ADU-")
    assert filed["tracking_url"] == f"/api/public/complaints/{filed['tracking_number']}/track"
    number, code = filed["tracking_number"], filed["access_code"]
    seen = await eventually(lambda: track(api, number, code), lambda r: r.status_code == 200)
    body = seen.json()
    assert body["source"] == "public" and body["related_registration"] is None
    assert [s["step_id"] for s in body["tracking"]["current_steps"]] == ["forward"]
    assert body["may_reopen"] is False
    # The wrong code answers like an unknown number.
    wrong = await track(api, number, "WRONGCODE2")
    assert (wrong.status_code, wrong.json()["code"]) == (404, "tracking_not_found")


async def test_a_retried_filing_is_the_first_one(api: Api) -> None:
    first = (await file(api, FORM, key="complaint-retry-1")).json()
    again = await file(api, FORM, key="complaint-retry-1")
    assert again.status_code == 201
    assert again.json() == first


async def test_bad_input_names_the_field(api: Api) -> None:
    cases = [
        ({**FORM, "lapor_ticket": "https://evil.example/lapor.go.id/1"}, "lapor_ticket", 422),
        ({**FORM, "registration_number": "not a number"}, "registration_number", 422),
        ({**FORM, "registration_number": "PBG-2026-999999"}, "registration_number", 422),
        ({"description": "tanpa pokok"}, "subject", 422),
        ({**FORM, "description": "nul \x00 byte"}, "description", 422),
        ({**FORM, "subject": "x" * 201}, "subject", 422),
    ]
    for form, field, status in cases:
        r = await file(api, form)
        assert r.status_code == status, (form, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (form, r.json())
    missing_key = await api.http.post("/api/public/complaints", json={"form": FORM})
    assert missing_key.json()["code"] == "idempotency_key_missing"


async def test_from_tracking_and_from_lapor_with_the_answer_shown_and_reopen(api: Api) -> None:
    permit = await api.submit()
    reg = permit["registration_number"]
    r = await file(
        api,
        {**FORM, "registration_number": reg.lower(), "lapor_ticket": "#4412345"},
        source="tracking",
    )
    assert r.status_code == 201, r.text
    number, code = r.json()["tracking_number"], r.json()["access_code"]
    body = (
        await eventually(lambda: track(api, number, code), lambda r: r.status_code == 200)
    ).json()
    assert (body["related_registration"], body["lapor_ticket"], body["source"]) == (
        reg,
        "4412345",
        "lapor",
    )
    await api.add_user("wati", "staff", "dpmptsp/complaints")
    await api.add_user("dewi", "staff", "dlh/environmental_review")
    decided = await api.as_user(
        "wati", "POST", f"/api/staff/tasks/{number}/forward/decide", {"outcome": "to_dlh"}
    )
    assert decided.status_code == 200, decided.text
    answered = await api.as_user(
        "dewi",
        "POST",
        f"/api/staff/tasks/{number}/answer_dlh/decide",
        {"outcome": "answer", "note": "Loket ditambah mulai Senin."},
    )
    assert answered.status_code == 200, answered.text
    body = (await track(api, number, code)).json()
    assert body["answers"] == ["Loket ditambah mulai Senin."] and body["may_reopen"] is True

    reopen = await api.http.post(
        f"/api/public/complaints/{number}/reopen",
        json={"access_code": code, "note": "Belum"},
        headers=idempotent("reopen-1"),
    )
    assert reopen.status_code == 200, reopen.text
    assert [s["step_id"] for s in reopen.json()["tracking"]["current_steps"]] == ["forward"]
    # The same key answers the first outcome; a new key finds nothing left to reopen.
    same = await api.http.post(
        f"/api/public/complaints/{number}/reopen",
        json={"access_code": code, "note": "Belum"},
        headers=idempotent("reopen-1"),
    )
    assert same.status_code == 200
    twice = await api.http.post(
        f"/api/public/complaints/{number}/reopen",
        json={"access_code": code, "note": "Belum"},
        headers=idempotent("reopen-2"),
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "already_decided")
    wrong = await api.http.post(
        f"/api/public/complaints/{number}/reopen",
        json={"access_code": "WRONGCODE2"},
        headers=idempotent(),
    )
    assert wrong.status_code == 404


async def test_staff_work_a_complaint_in_their_inbox_like_any_task(api: Api) -> None:
    r = await file(api, FORM)
    number = r.json()["tracking_number"]
    await api.add_user("wati", "staff", "dpmptsp/complaints")
    browser = Browser.open(api)
    try:
        await browser.sign_in("wati")
        inbox = await eventually(lambda: browser.get("/staff/inbox"), lambda p: number in p.text)
        assert f"/staff/tasks/{number}/forward" in inbox.text
        task = await browser.get(f"/staff/tasks/{number}/forward")
        assert task.status_code == 200
        assert "teruskan ke Dinas Lingkungan Hidup" in task.text  # the outcome, in Indonesian
        done = await browser.post(
            f"/staff/tasks/{number}/forward/decide",
            {"outcome": "to_dlh", "note": "", "idempotency_key": "forward-page-1"},
        )
        assert done.status_code == 303, done.text
    finally:
        await browser.close()
    async with api.services.pool.acquire() as conn:
        opened = await conn.fetchval(
            "SELECT agency || '/' || counter FROM tasks WHERE registration_number = $1"
            " AND step_id = 'answer_dlh' AND state = 'open'",
            number,
        )
    assert opened == "dlh/environmental_review"
