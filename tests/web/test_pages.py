"""The pages over HTTP (no browser): public pages, staff work, supervisor, monitoring,
CSRF, security headers, language switch, and a note with <script> shown as text."""

from __future__ import annotations

import re

from tests.api.harness import Api
from tests.support import PBG_FORM, eventually
from tests.web.support import Browser

XSS = '<script>alert("x")</script> & <b>bold</b>'


async def _registration_open(api: Api, reg: str) -> None:
    async def probe() -> int:
        async with api.services.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE registration_number = $1 AND state = 'open'",
                    reg,
                )
            )

    await eventually(probe, lambda n: n >= 1)


async def test_public_pages_render_in_indonesian_and_english(api: Api) -> None:
    b = Browser.open(api)
    r = await b.get("/")
    assert r.status_code == 200
    assert "Persetujuan Bangunan Gedung" in r.text and "Perizinan" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["referrer-policy"] == "same-origin"
    cookie = r.headers["set-cookie"]
    assert "loket_anon=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    r = await b.get("/permits/PBG")
    assert r.status_code == 200
    for heading in (
        "Persyaratan",
        "prosedur",
        "Waktu pelayanan",
        "Biaya/tarif",
        "Produk",
        "pengaduan",
    ):
        assert heading in r.text, heading
    assert "/permits/PBG/route.svg" in r.text
    svg = await b.get("/permits/PBG/route.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    r = await b.get("/permits/SIP")
    assert "Gratis" in r.text
    r = await b.post("/lang", {"lang": "en", "next": "/permits/PBG"})
    assert r.status_code == 303 and r.headers["location"] == "/permits/PBG"
    r = await b.get("/permits/PBG")
    assert "Requirements" in r.text and "Persyaratan" not in r.text
    # The language switch never redirects off the site.
    r = await b.post("/lang", {"lang": "id", "next": "//evil.example/"})
    assert r.headers["location"] == "/"
    await b.close()


async def test_fee_simulator_uses_the_billing_formula(api: Api) -> None:
    from loket.services.published import preview_fees

    b = Browser.open(api)
    await b.get("/permits/PBG/simulate")
    r = await b.post(
        "/permits/PBG/simulate",
        {"building_use": "usaha", "building_area_m2": "640", "fence_length_m": "20"},
    )
    assert r.status_code == 200, r.text
    expected = preview_fees(
        api.services.permit("PBG"),
        {"building_use": "usaha", "building_area_m2": 640.0, "fence_length_m": 20.0},
    ).fees.total
    total = re.search(r'data-testid="fee-total">([^<]+)<', r.text)
    assert total and total.group(1) == "Rp " + f"{expected:,}".replace(",", ".")
    r = await b.post("/permits/PBG/simulate", {"building_use": "usaha", "building_area_m2": "abc"})
    assert r.status_code == 422 and 'data-testid="field-error"' in r.text
    await b.close()


async def test_forms_without_the_csrf_token_are_refused(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    b = Browser.open(api)
    await b.get("/login")
    r = await b.post("/login", {"username": "rina", "password": "x"}, csrf=False)
    assert r.status_code == 403
    r = await b.http.post("/login", data={"username": "rina", "csrf_token": "0" * 64})
    assert r.status_code == 403
    # A token from another visitor's cookie does not fit this one.
    other = Browser.open(api)
    await other.get("/login")
    r = await b.http.post(
        "/login", data={"username": "rina", "password": "x", "csrf_token": other.csrf}
    )
    assert r.status_code == 403
    await b.close()
    await other.close()


async def test_staff_claim_return_and_refusal_then_tracking_shows_the_paused_clock(
    api: Api,
) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    applicant = Browser.open(api)
    await applicant.get("/permits/PBG/apply")
    form = {k: str(v) for k, v in PBG_FORM.items()}
    r = await applicant.post("/permits/PBG/apply", form)
    assert r.status_code == 201, r.text
    reg = re.search(r'data-testid="registration-number">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'data-testid="access-code">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    await _registration_open(api, reg)

    staff = Browser.open(api)
    r = await staff.get("/staff/inbox")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await staff.sign_in("rina")
    cookie = staff.http.cookies.get("loket_session")
    assert cookie
    r = await staff.get("/staff/inbox")
    assert reg in r.text and "jam kerja tersisa" in r.text
    task = f"/staff/tasks/{reg}/registration"
    r = await staff.post(f"{task}/claim")
    assert r.status_code == 303
    r = await staff.get(r.headers["location"])
    assert 'data-testid="claimed-by">rina<' in r.text
    r = await staff.post(f"{task}/decide", {"outcome": "return", "note": XSS})
    assert r.status_code == 303, r.text
    # Deciding again: the workflow refuses, the page shows why, nothing changes.
    r = await staff.post(f"{task}/decide", {"outcome": "approve", "note": ""})
    assert r.status_code == 409
    assert 'data-testid="error"' in r.text
    async with api.services.pool.acquire() as conn:
        state = await conn.fetchval(
            "SELECT state FROM tasks WHERE registration_number = $1 AND step_id = 'registration'",
            reg,
        )
    assert state == "returned"
    r = await staff.get(task)
    assert XSS not in r.text and "&lt;script&gt;alert(" in r.text

    r = await applicant.post("/track", {"registration_number": reg, "access_code": code})
    assert r.status_code == 200
    assert 'data-testid="clock-paused"' in r.text
    assert XSS not in r.text and "&lt;script&gt;alert(" in r.text
    r = await applicant.post("/track", {"registration_number": reg, "access_code": "wrong"})
    assert r.status_code == 404
    await staff.close()
    await applicant.close()


async def test_a_note_with_script_is_text_everywhere(api: Api) -> None:
    """Staff notes, reasons and applicant notes are escaped on every page that shows them."""
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("admin", "admin")
    await api.add_user("inspektur", "inspector")
    done = await api.submit()
    reg, code = done["registration_number"], done["access_code"]
    await _registration_open(api, reg)
    task = f"/staff/tasks/{reg}/registration"

    supervisor = Browser.open(api)
    await supervisor.sign_in("kepala")
    r = await supervisor.post(
        "/supervisor/reassign", {"task": f"{reg}/registration", "to": "rina", "reason": XSS}
    )
    assert r.status_code == 200, r.text
    r = await supervisor.post(
        f"/supervisor/tasks/{reg}/registration/extend", {"extra": "1d", "reason": XSS}
    )
    assert r.status_code == 303, r.text
    staff = Browser.open(api)
    await staff.sign_in("rina")
    r = await staff.post(f"{task}/decide", {"outcome": "return", "note": XSS})
    assert r.status_code == 303, r.text
    applicant = Browser.open(api)
    await applicant.get("/track")
    r = await applicant.post(
        "/track/resubmit", {"registration_number": reg, "access_code": code, "note": XSS}
    )
    assert r.status_code == 200, r.text
    inspector = Browser.open(api)
    await inspector.sign_in("inspektur")

    pages = {
        "task page (staff)": await staff.get(task),
        "task page (supervisor)": await supervisor.get(task),
        "audit trail": await inspector.get(f"/applications/{reg}"),
        "tracking page": await applicant.post(
            "/track", {"registration_number": reg, "access_code": code}
        ),
    }
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    for name, r in pages.items():
        assert r.status_code == 200, (name, r.text)
        assert "<script>alert" not in r.text, name
        assert "<b>bold</b>" not in r.text, name
        assert escaped in r.text, name
    audit = pages["audit trail"].text
    # Every place it was written: the return (its decision holds the same note, shown
    # once), the reassignment and the extension.
    assert audit.count(escaped) >= 3
    for browser in (supervisor, staff, applicant, inspector):
        await browser.close()


async def test_reassign_is_checked_by_the_workflow(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("sari", "staff", "dpmptsp/front_office")
    await api.add_user("gita", "staff", "dpmptsp/issuance")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("kepala_dlh", "supervisor", agency="dlh")
    reg = (await api.submit())["registration_number"]
    await _registration_open(api, reg)
    url = f"/api/supervisor/tasks/{reg}/registration/reassign"

    r = await api.as_user("kepala", "POST", url, {"to": "gita", "reason": "coba"})
    assert r.status_code == 409 and r.json()["code"] == "assignee_not_serving"
    assert r.json()["params"]["to"] == "gita"
    r = await api.as_user("kepala_dlh", "POST", url, {"to": "sari"})
    missing = await api.as_user("kepala_dlh", "POST", url.replace(reg, "PBG-2026-000999"), {})
    # Another agency's task does not exist for them: the very same answer as a missing one.
    assert r.status_code == missing.status_code == 404
    assert r.json()["code"] == missing.json()["code"] == "task_not_found"
    r = await api.as_user("kepala", "POST", url, {"to": "sari", "reason": "beban rina"})
    assert r.status_code == 200, r.text
    assert [s["claimed_by"] for s in r.json()["open_steps"]] == ["sari"]
    # Sari holds it now: Rina's claim is refused by the workflow.
    r = await api.as_user("rina", "POST", f"/api/staff/tasks/{reg}/registration/claim")
    assert r.status_code == 409 and r.json()["code"] == "claimed_by_other"
    assert r.json()["params"]["claimed_by"] == "sari"
    # Back to the counter: nobody holds it.
    r = await api.as_user("kepala", "POST", url, {"to": None})
    assert r.status_code == 200 and r.json()["open_steps"][0]["claimed_by"] is None
    r = await api.as_user("kepala", "GET", "/api/supervisor/tasks")
    groups = {
        g["username"]: [t["registration_number"] for t in g["tasks"]] for g in r.json()["groups"]
    }
    assert groups[""] == [reg]
    async with api.services.pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT actor, details FROM audit_events WHERE registration_number = $1 "
            "AND event = 'task_reassigned' ORDER BY seq",
            reg,
        )
    assert [(e["actor"], e["details"]["from"], e["details"]["to"]) for e in events] == [
        ("kepala", None, "sari"),
        ("kepala", "sari", None),
    ]
