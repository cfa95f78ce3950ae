"""The public API: published standards, fee simulator, submission, tracking, resubmission."""

from __future__ import annotations

from typing import Any

from loket.fees import assess
from loket.route.form import normalize
from tests.api.harness import Api, idempotent
from tests.support import PBG_FORM, SIP_FORM


async def test_catalog_lists_permits_with_service_time_and_fee_summary(api: Api) -> None:
    r = await api.http.get("/api/public/permits")
    assert r.status_code == 200
    permits = {p["id"]: p for p in r.json()}
    assert {"PBG", "SIP", "PTKA"} <= set(permits)
    sip, pbg = permits["SIP"], permits["PBG"]
    assert sip["free"] is True and sip["fee_summary"] == "Gratis"
    assert pbg["free"] is False and "SHST" in pbg["fee_summary"]
    assert pbg["service_time"]["standard"] == {
        "text": "28d",
        "working_days": 28,
        "working_hours": None,
    }
    assert pbg["service_time"]["variants"][0]["duration"]["working_days"] == 10


async def test_permit_detail_publishes_the_six_components(api: Api) -> None:
    r = await api.http.get("/api/public/permits/PBG")
    assert r.status_code == 200
    pbg = r.json()
    assert pbg["legal_basis"][0].startswith("PP 16/2021")
    assert pbg["product"] and pbg["complaints"]
    assert "land_title" in [d["id"] for d in pbg["documents"]]
    env_doc = next(d for d in pbg["documents"] if d["id"] == "environmental_document")
    assert env_doc["required_when"] == "building_area_m2 > 500.0"
    steps = {s["id"]: s for s in pbg["steps"]}
    assert steps["registration"]["agency_name"].startswith("Dinas Penanaman Modal")
    assert steps["registration"]["counter_name"] == "Loket Pendaftaran"
    assert steps["registration"]["deadline"]["working_days"] == 1
    assert steps["technical_reviews"]["kind"] == "parallel"
    assert steps["technical_reviews"]["parallel"] == [
        "tpa_review",
        "prototype_review",
        "environmental_review",
    ]
    assert steps["environmental_review"]["when"] == "building_area_m2 > 500.0"
    assert steps["payment"]["clock"] == "paused"
    fees = pbg["fees"]
    assert fees["parameters"]["shst"]["source"].startswith("Keputusan Bupati")
    assert fees["items"][0]["waiver_basis"].startswith("PP 16/2021")
    assert {f["name"] for f in pbg["form"]} >= {"building_area_m2", "building_use", "is_mbr"}

    missing = await api.http.get("/api/public/permits/NOPE")
    assert missing.status_code == 404
    assert missing.json()["code"] == "permit_not_found"
    assert missing.json()["params"] == {"permit_id": "NOPE"}


async def test_fee_preview_uses_the_billing_formula(api: Api) -> None:
    permit = api.services.catalog.permit("PBG")
    r = await api.http.post("/api/public/permits/PBG/fees/preview", json={"form": PBG_FORM})
    assert r.status_code == 200
    preview = r.json()
    expected = assess(permit.fees, normalize(permit, PBG_FORM))
    assert preview["fees"]["total"] == expected.total > 0
    assert [line["id"] for line in preview["fees"]["lines"]] == ["building", "fence"]
    assert preview["service_time"] == {
        "duration": {"text": "28d", "working_days": 28, "working_hours": None},
        "rule": "standard",
    }
    assert "environmental_document" in [d["id"] for d in preview["documents"]]

    # The simulator needs no personal data: only what the fee depends on.
    partial = {"building_use": "usaha", "building_area_m2": 640, "fence_length_m": 20}
    r = await api.http.post("/api/public/permits/PBG/fees/preview", json={"form": partial})
    assert r.status_code == 200 and r.json()["fees"]["total"] == expected.total

    mbr = {"building_use": "hunian", "building_area_m2": 36, "is_mbr": True}
    r = await api.http.post("/api/public/permits/PBG/fees/preview", json={"form": mbr})
    assert r.json()["fees"]["total"] == 0
    assert all(line["waived"] for line in r.json()["fees"]["lines"])
    assert r.json()["service_time"]["duration"]["working_days"] == 10

    r = await api.http.post(
        "/api/public/permits/PBG/fees/preview", json={"form": {"building_use": "usaha"}}
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["building_area_m2"]

    r = await api.http.post("/api/public/permits/SIP/fees/preview", json={"form": {}})
    assert r.json()["fees"] == {
        "currency": "IDR",
        "free": True,
        "free_basis": api.services.catalog.permit("SIP").fees.free_basis,
        "lines": [],
        "total": 0,
        "parameters": {},
    }


async def test_submit_names_the_bad_field(api: Api) -> None:
    bad: dict[str, Any] = {**PBG_FORM, "building_area_m2": -5}
    r = await api.http.post(
        "/api/public/applications", json={"permit_type": "PBG", "form": bad}, headers=idempotent()
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_form" and body["params"]["fields"] == ["building_area_m2"]
    assert body["errors"][0]["field"] == "building_area_m2"
    assert body["errors"][0]["code"] == "out_of_range"

    extra = {**PBG_FORM, "bribe": 1}
    r = await api.http.post(
        "/api/public/applications", json={"permit_type": "PBG", "form": extra}, headers=idempotent()
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bribe"

    r = await api.http.post(
        "/api/public/applications", json={"permit_type": "XYZ", "form": {}}, headers=idempotent()
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "permit_type"

    r = await api.http.post(
        "/api/public/applications", json={"form": PBG_FORM}, headers=idempotent()
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "permit_type"

    async with api.services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM applications") == 0


async def test_submit_and_track_by_access_code(api: Api) -> None:
    submitted = await api.submit("SIP", SIP_FORM)
    reg = submitted["registration_number"]
    assert reg.startswith("SIP-") and len(submitted["access_code"]) == 10
    assert submitted["tracking_url"] == f"/api/public/applications/{reg}/track"

    async def track(code: str) -> Any:
        return await api.http.post(
            f"/api/public/applications/{reg}/track", json={"access_code": code}
        )

    async def first_step_open() -> bool:
        r = await track(submitted["access_code"])
        return r.status_code == 200 and bool(r.json()["current_steps"])

    from tests.support import eventually

    await eventually(first_step_open, bool)
    r = await track(submitted["access_code"].lower())  # codes are case-insensitive
    assert r.status_code == 200
    view = r.json()
    assert view["status"] == "in_progress" and view["permit_name"]
    step = view["current_steps"][0]
    assert step["agency_name"] and step["counter_name"] and step["due_at"]
    assert [e["event"] for e in view["history"]][:2] == ["application_submitted", "step_opened"]
    assert view["fees"] is None  # not assessed yet

    wrong = await track("WRONGCODE2")
    unknown = await api.http.post(
        "/api/public/applications/SIP-2026-000999/track",
        json={"access_code": submitted["access_code"]},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()

    # Nothing was returned: a resubmission is refused with the workflow's reason.
    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": submitted["access_code"]},
        headers=idempotent(),
    )
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_resubmit"
    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": "WRONGCODE2"},
        headers=idempotent(),
    )
    assert r.status_code == 404


async def test_public_history_hides_staff_and_internal_notes(api: Api) -> None:
    from tests.support import eventually

    await api.add_user("rina", "staff", "dpmptsp/front_office")
    submitted = await api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]

    async def inbox() -> Any:
        return (await api.as_user("rina", "GET", "/api/staff/inbox")).json()

    await eventually(inbox, lambda rows: len(rows) == 1)
    base = f"/api/staff/tasks/{reg}/registration"
    assert (await api.as_user("rina", "POST", f"{base}/claim")).status_code == 200
    r = await api.as_user(
        "rina", "POST", f"{base}/decide", {"outcome": "return", "note": "KTP buram"}
    )
    assert r.status_code == 200

    r = await api.http.post(f"/api/public/applications/{reg}/track", json={"access_code": code})
    view = r.json()
    assert view["waiting_for_applicant"] is True
    assert view["current_steps"][0]["state"] == "returned"
    assert view["current_steps"][0]["due_at"] is None  # the clock is paused
    events = [e["event"] for e in view["history"]]
    assert "task_claimed" not in events and "step_returned" in events
    returned = next(e for e in view["history"] if e["event"] == "step_returned")
    assert returned["note"] == "KTP buram" and returned["by"] == "staff"
    assert "rina" not in r.text

    # Corrections are validated as a whole form; a bad field is named.
    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": code, "form": {"floors": 0}},
        headers=idempotent(),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "floors"

    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": code, "note": "KTP dipindai ulang", "form": {"floors": 3}},
        headers=idempotent(),
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["waiting_for_applicant"] is False
    assert view["current_steps"][0]["state"] == "open"
    corrected = next(e for e in view["history"] if e["event"] == "application_corrected")
    assert corrected["reason"] == "corrected: floors"

    r = await api.as_user(
        "rina", "POST", f"{base}/decide", {"outcome": "approve", "note": "ok internal"}
    )
    assert r.status_code == 200
    r = await api.http.post(f"/api/public/applications/{reg}/track", json={"access_code": code})
    assert "ok internal" not in r.text
    async with api.services.pool.acquire() as conn:
        data = await conn.fetchval(
            "SELECT data FROM applications WHERE registration_number = $1", reg
        )
    assert data["floors"] == 3 and data["applicant_name"] == PBG_FORM["applicant_name"]
