"""The staff API: inboxes per counter, task pages, claims, decisions, admin and audit."""

from __future__ import annotations

from typing import Any

from tests.api.harness import Api
from tests.support import eventually


async def _inbox(api: Api, username: str) -> list[dict[str, Any]]:
    r = await api.as_user(username, "GET", "/api/staff/inbox")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


async def _wait_inbox(api: Api, username: str, count: int) -> list[dict[str, Any]]:
    return await eventually(lambda: _inbox(api, username), lambda rows: len(rows) == count)


async def test_inbox_is_per_counter_sorted_by_due_time(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("gita", "staff", "dpmptsp/issuance")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("agus", "staff", "dpupr/tpa")
    first = (await api.submit())["registration_number"]
    second = (await api.submit())["registration_number"]
    rows = await _wait_inbox(api, "rina", 2)
    assert [r["registration_number"] for r in rows] == [first, second]
    assert rows[0]["due_at"] <= rows[1]["due_at"]
    assert {r["step_id"] for r in rows} == {"registration"}
    assert rows[0]["permit_type"] == "PBG" and rows[0]["state"] == "open"

    # Returned to the applicant: the clock is paused, no due time, so it sorts last.
    r = await api.as_user(
        "rina",
        "POST",
        f"/api/staff/tasks/{first}/registration/decide",
        {"outcome": "return", "note": "formulir belum ditandatangani"},
    )
    assert r.status_code == 200
    rows = await _inbox(api, "rina")
    assert [(r["registration_number"], r["state"]) for r in rows] == [
        (second, "open"),
        (first, "returned"),
    ]
    assert rows[1]["due_at"] is None

    # Another counter of the same agency and another agency see nothing; the supervisor
    # sees the whole agency.
    assert await _inbox(api, "gita") == []
    assert await _inbox(api, "agus") == []
    assert len(await _inbox(api, "kepala")) == 2


async def test_tasks_of_other_counters_are_not_found(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("gita", "staff", "dpmptsp/issuance")
    await api.add_user("dewi", "staff", "dlh/environmental_review")
    await api.add_user("kepala_dlh", "supervisor", agency="dlh")
    reg = (await api.submit())["registration_number"]
    await _wait_inbox(api, "rina", 1)
    base = f"/api/staff/tasks/{reg}/registration"
    for username in ("gita", "dewi", "kepala_dlh"):
        for method, url, body in [
            ("GET", base, None),
            ("POST", f"{base}/claim", None),
            ("POST", f"{base}/decide", {"outcome": "approve"}),
        ]:
            r = await api.as_user(username, method, url, body)
            assert r.status_code == 404, (username, url)
            assert r.json()["code"] == "task_not_found"
            assert r.json()["params"] == {"registration_number": reg, "step_id": "registration"}
    # An unknown application or step answers the same.
    r = await api.as_user("rina", "GET", f"/api/staff/tasks/{reg}/nope")
    assert r.status_code == 404 and r.json()["code"] == "task_not_found"
    r = await api.as_user("rina", "GET", "/api/staff/tasks/PBG-2026-000999/registration")
    assert r.status_code == 404 and r.json()["code"] == "task_not_found"
    async with api.services.pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT event FROM audit_events WHERE registration_number = $1", reg
        )
    assert "task_claimed" not in {e["event"] for e in events}


async def test_task_page_claim_decide_and_refusals(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("tono", "staff", "dpmptsp/front_office")
    await api.add_user("budi", "staff", "dpupr/pbg_secretariat")
    await api.add_user("iwan", "inspector")
    reg = (await api.submit())["registration_number"]
    await _wait_inbox(api, "rina", 1)
    base = f"/api/staff/tasks/{reg}/registration"

    r = await api.as_user("rina", "GET", base)
    assert r.status_code == 200
    page = r.json()
    assert page["task"]["state"] == "open" and page["task"]["attempt"] == 1
    assert page["application"]["data"]["building_area_m2"] == 640
    assert page["outcomes"] == ["approve", "return", "reject"]
    assert "environmental_document" in [d["id"] for d in page["documents"]]
    assert page["fees_assessed"] is False and page["fees"]["total"] > 0
    assert page["history"][0]["event"] == "application_submitted"

    # An inspector reads the task but changes nothing.
    assert (await api.as_user("iwan", "GET", base)).status_code == 200
    assert (await api.as_user("iwan", "POST", f"{base}/claim")).status_code == 403

    r = await api.as_user("rina", "POST", f"{base}/claim")
    assert r.status_code == 200 and r.json()["open_steps"][0]["claimed_by"] == "rina"
    r = await api.as_user("tono", "POST", f"{base}/decide", {"outcome": "approve"})
    assert r.status_code == 409 and r.json()["code"] == "claimed_by_other"
    assert r.json()["params"]["claimed_by"] == "rina"
    r = await api.as_user("rina", "POST", f"{base}/decide", {"outcome": "stamp"})
    assert r.status_code == 409 and r.json()["code"] == "unknown_outcome"
    assert r.json()["params"]["outcome"] == "stamp"
    r = await api.as_user("rina", "POST", f"{base}/decide", {"note": "no outcome"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"

    decision = {"outcome": "approve", "note": "ok"}
    r = await api.as_user("rina", "POST", f"{base}/decide", decision, key="decide-1")
    assert r.status_code == 200
    view = r.json()
    assert [s["step_id"] for s in view["open_steps"]] == ["completeness"]
    # The same request again (a retry after success) acts once and gets the first answer.
    again = await api.as_user("rina", "POST", f"{base}/decide", decision, key="decide-1")
    assert again.status_code == 200 and again.json() == view
    # A new request (another key) is a second decision: the step is no longer open.
    r = await api.as_user("rina", "POST", f"{base}/decide", decision, key="decide-2")
    assert r.status_code == 409 and r.json()["code"] == "already_decided"
    assert [row["step_id"] for row in await _inbox(api, "budi")] == ["completeness"]
    assert await _inbox(api, "rina") == []
    async with api.services.pool.acquire() as conn:
        decided = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE registration_number = $1 "
            "AND event = 'step_decided'",
            reg,
        )
    assert decided == 1


async def test_admin_cancels_and_audit_is_verified(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("ani", "admin")
    await api.add_user("iwan", "inspector")
    reg = (await api.submit())["registration_number"]
    await _wait_inbox(api, "rina", 1)

    r = await api.as_user("ani", "POST", f"/api/admin/applications/{reg}/cancel", {"reason": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert r.json()["errors"][0]["code"] == "too_short"
    r = await api.as_user(
        "ani", "POST", f"/api/admin/applications/{reg}/cancel", {"reason": "pemohon meninggal"}
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert await _inbox(api, "rina") == []
    r = await api.as_user(
        "ani", "POST", f"/api/admin/applications/{reg}/cancel", {"reason": "sekali lagi"}
    )
    assert r.status_code == 409 and r.json()["code"] == "closed"
    r = await api.as_user(
        "ani", "POST", "/api/admin/applications/PBG-2026-000999/cancel", {"reason": "tidak ada"}
    )
    assert r.status_code == 404

    r = await api.as_user("iwan", "GET", f"/api/admin/applications/{reg}/audit")
    assert r.status_code == 200
    audit = r.json()
    assert audit["chain_intact"] is True and audit["broken_seqs"] == []
    seqs = [e["seq"] for e in audit["events"]]
    assert seqs == sorted(seqs) and seqs[0] == 1
    assert audit["events"][-1]["event"] == "application_finished"
    assert audit["events"][-1]["to_state"] == "cancelled"

    # Tampering shows.
    async with api.services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE audit_events SET actor = 'someone' WHERE registration_number = $1 AND seq = 1",
            reg,
        )
    audit = (await api.as_user("ani", "GET", f"/api/admin/applications/{reg}/audit")).json()
    assert audit["chain_intact"] is False and audit["broken_seqs"] == [1]
