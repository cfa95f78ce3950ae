"""A PBG issued end to end over HTTP (real PostgreSQL, real Temporal, real worker): the
issuing decision answers with the number in its format, the applicant downloads the PDF
with the access code, the QR code decoded from the PDF's page opens the verification that
says valid, the exact PDF verifies and a modified one does not, a revoked permit shows as
revoked. Refusals answer with codes."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pypdf
import pypdfium2
import zxingcpp

from loket.compose import create_app
from tests.api.harness import Api, api_settings, running_api
from tests.support import PBG_FORM, eventually

MBR_FORM = {**PBG_FORM, "is_mbr": True, "building_area_m2": 90, "fence_length_m": 0}
ROUTE = [
    ("rina", "registration"),
    ("budi", "completeness"),
    ("agus", "prototype_review"),
    ("gita", "issuance"),
]


async def _users(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("budi", "staff", "dpupr/pbg_secretariat")
    await api.add_user("agus", "staff", "dpupr/tpa")
    await api.add_user("gita", "staff", "dpmptsp/issuance")
    await api.add_user("admin", "admin")


async def _decide(api: Api, user: str, reg: str, step: str) -> dict[str, Any]:
    async def open_task() -> int:
        r = await api.as_user(user, "GET", f"/api/staff/tasks/{reg}/{step}")
        return (
            r.status_code
            if r.status_code != 200
            else (200 if r.json()["task"]["state"] == "open" else 0)
        )

    await eventually(open_task, lambda s: s == 200)
    r = await api.as_user(
        user, "POST", f"/api/staff/tasks/{reg}/{step}/decide", {"outcome": "approve"}
    )
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


async def _issue(api: Api) -> tuple[str, str, dict[str, Any]]:
    submitted = await api.submit("PBG", MBR_FORM)
    reg = submitted["registration_number"]
    view: dict[str, Any] = {}
    for user, step in ROUTE:
        view = await _decide(api, user, reg, step)
    return reg, submitted["access_code"], view


def _forged(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """The PDF with a word of its page changed, as a forger would (pypdf rewrites it)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    page = writer.pages[0]
    content = page.get_contents()
    assert content is not None
    data = content.get_data()
    assert old in data
    content.set_data(data.replace(old, new))
    page.replace_contents(content)
    out = io.BytesIO()
    writer.write(out)
    forged = out.getvalue()
    assert "Siti Rahayo" in pypdf.PdfReader(io.BytesIO(forged)).pages[0].extract_text()
    return forged


def _qr_url(pdf: bytes) -> str:
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    found = [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(found) == 1, found
    return found[0]


async def test_a_pbg_is_issued_downloaded_verified_and_revoked(api: Api) -> None:
    await _users(api)
    reg, code, view = await _issue(api)
    year = datetime.now(UTC).astimezone(timezone(timedelta(hours=7))).year
    # The Update answers with the number; the first of the year in this database.
    assert view["status"] == "approved"
    number = view["permit_number"]
    assert re.fullmatch(rf"503/\d{{4}}/PBG/DPMPTSP/{year}", number)
    assert number == f"503/0001/PBG/DPMPTSP/{year}"

    # The audit records the number and the PDF's hash; the applicant is told (contract).
    audit = (await api.as_user("admin", "GET", f"/api/admin/applications/{reg}/audit")).json()
    issued = next(e for e in audit["events"] if e["event"] == "permit_issued")
    assert issued["details"]["permit_number"] == number and audit["chain_intact"]
    async with api.services.pool.acquire() as conn:
        outbox = await conn.fetchrow(
            "SELECT key, recipient, payload FROM notification_outbox WHERE kind = 'permit_ready'"
        )
    assert outbox["key"] == f"{reg}:permit_ready:{issued['seq']}"
    assert outbox["recipient"] == "applicant"
    assert outbox["payload"] == {
        "registration_number": reg,
        "permit_type": "PBG",
        "permit_number": number,
        "verify_path": f"/verify/{number}",
    }

    # The applicant downloads it with the access code; a wrong code is "not found".
    r = await api.http.post(f"/api/public/applications/{reg}/permit", json={"access_code": code})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        f'attachment; filename="503-0001-PBG-DPMPTSP-{year}.pdf"'
    )
    pdf = r.content
    assert hashlib.sha256(pdf).hexdigest() == issued["details"]["pdf_sha256"]
    wrong = await api.http.post(
        f"/api/public/applications/{reg}/permit", json={"access_code": "salah-123"}
    )
    assert wrong.status_code == 404 and wrong.json()["code"] == "tracking_not_found"

    # The QR code on the page opens the verification page, which says valid.
    url = _qr_url(pdf)
    assert url == f"http://127.0.0.1:8000/verify/{number}"
    page = await api.http.get(urlsplit(url).path)
    assert page.status_code == 200
    assert 'data-state="valid"' in page.text and "SAH" in page.text
    assert "3316********0001" in page.text and "3316014101900001" not in page.text
    verified = (await api.http.get(f"/api/public/issued-permits/{number}")).json()
    assert verified["state"] == "valid" and verified["holder_id_masked"] == "3316********0001"
    assert verified["holder_name"] == "Siti Rahayu" and verified["permit_type"] == "PBG"
    assert verified["signer"]["nip"] == "197205141998032007"
    assert verified["pdf_sha256"] == issued["details"]["pdf_sha256"]
    assert "3316014101900001" not in str(verified)

    # The exact PDF verifies; one byte changed does not.
    check = f"/api/public/issued-permits/{number}/check"
    same = await api.http.post(check, content=pdf, headers={"content-type": "application/pdf"})
    assert same.status_code == 200 and same.json()["matches"] is True
    tampered = _forged(pdf, b"Siti Rahayu", b"Siti Rahayo")
    other = await api.http.post(
        check, content=tampered, headers={"content-type": "application/pdf"}
    )
    assert other.status_code == 200 and other.json()["matches"] is False

    # Revoked by an administrator: the verification says so, with the reason.
    revoke = f"/api/admin/issued-permits/{number}/revoke"
    r = await api.as_user("gita", "POST", revoke, {"reason": "data kepemilikan palsu"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await api.http.post(revoke, json={"reason": "data"}, headers=await api.login("admin"))
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_missing"
    r = await api.as_user("admin", "POST", revoke, {"reason": "data kepemilikan palsu"})
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    verified = (await api.http.get(f"/api/public/issued-permits/{number}")).json()
    assert verified["state"] == "revoked"
    assert verified["revoked_reason"] == "data kepemilikan palsu"
    page = await api.http.get(f"/verify/{number}")
    assert 'data-state="revoked"' in page.text and "DICABUT" in page.text
    again = await api.http.post(check, content=pdf, headers={"content-type": "application/pdf"})
    assert again.json() | {"sha256": ""} == {
        "number": number,
        "matches": True,
        "sha256": "",
        "size": len(pdf),
        "state": "revoked",
    }


async def test_unknown_numbers_and_oversized_files_are_refused(api: Api) -> None:
    r = await api.http.get("/api/public/issued-permits/503/9999/PBG/DPMPTSP/2026")
    assert r.status_code == 404 and r.json()["code"] == "issued_permit_not_found"
    assert r.json()["params"] == {"number": "503/9999/PBG/DPMPTSP/2026"}
    r = await api.http.get("/verify/503/9999/PBG/DPMPTSP/2026")
    assert r.status_code == 404
    r = await api.http.get("/api/public/issued-permits/bad%20number")
    assert r.status_code == 422
    await api.add_user("admin", "admin")
    r = await api.as_user(
        "admin",
        "POST",
        "/api/admin/issued-permits/503/9999/PBG/DPMPTSP/2026/revoke",
        {"reason": "tidak ada"},
    )
    assert r.status_code == 404 and r.json()["code"] == "issued_permit_not_found"
    # Before issuance the applicant (right code) is told so; a wrong code is "not found".
    submitted = await api.submit("PBG", MBR_FORM)
    url = f"/api/public/applications/{submitted['registration_number']}/permit"
    r = await api.http.post(url, json={"access_code": submitted["access_code"]})
    assert r.status_code == 409 and r.json()["code"] == "permit_not_issued"
    r = await api.http.post(url, json={"access_code": "bukan-kodenya"})
    assert r.status_code == 404 and r.json()["code"] == "tracking_not_found"


async def test_a_file_past_the_limit_is_refused_and_verifications_are_braked(
    temporal_ts_env: Any, db_dsn: str, task_queue: str
) -> None:
    settings = api_settings(task_queue, verify_max_bytes=2048, verify_per_ip=3)
    app = create_app(settings, db_dsn, client=temporal_ts_env.client)
    async with running_api(temporal_ts_env.client, db_dsn, task_queue, app=app) as api:
        await _users(api)
        _, _, view = await _issue(api)
        number = view["permit_number"]
        r = await api.http.post(
            f"/api/public/issued-permits/{number}/check",
            content=b"%PDF-" + b"x" * 4096,
            headers={"content-type": "application/pdf"},
        )
        assert r.status_code == 422 and r.json()["code"] == "permit_file_too_large"
        assert r.json()["params"] == {"limit": 2048}
        assert [e["field"] for e in r.json()["errors"]] == ["file"]
        # Numbers are sequential: walking them is braked per address (3 a window here).
        for _ in range(2):
            assert (await api.http.get(f"/api/public/issued-permits/{number}")).status_code == 200
        r = await api.http.get(f"/api/public/issued-permits/{number}")
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert int(r.headers["retry-after"]) >= 1
        assert (await api.http.get(f"/verify/{number}")).status_code == 429
