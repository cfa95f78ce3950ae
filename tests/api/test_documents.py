"""Documents through the API (10A): a PBG whose applicant uploads every slot, the
completeness counter marks one incomplete and returns it, the applicant uploads only that
slot again, and the file moves on; downloads by who may and may not; refused uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.compose import create_app
from tests.api.harness import Api, api_settings, idempotent, running_api
from tests.support import eventually

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
# PBG_FORM: 640 m², 2 floors, not MBR: environmental document yes, structure calculation no.
SLOTS = ["land_title", "identity", "architecture_drawings", "environmental_document"]


@pytest_asyncio.fixture(loop_scope="session")
async def docs_api(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str, tmp_path: Path
) -> AsyncIterator[Api]:
    settings = api_settings(task_queue, file_store_url=f"file://{tmp_path / 'files'}")
    app = create_app(settings, db_dsn, client=temporal_ts_env.client)
    async with running_api(temporal_ts_env.client, db_dsn, task_queue, app=app) as running:
        yield running


def stored_files(api: Api) -> list[Path]:
    root = Path(api.services.settings.file_store_url.removeprefix("file://"))
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.parts]


async def upload(
    api: Api, reg: str, code: str, slot: str, data: bytes, name: str = "scan.pdf", **kw: Any
) -> Any:
    return await api.http.post(
        f"/api/public/applications/{reg}/documents/{slot}",
        files={"file": (name, data, kw.get("content_type", "application/pdf"))},
        headers={"X-Access-Code": code, **idempotent(kw.get("key"))},
    )


async def listing(api: Api, reg: str, code: str) -> dict[str, Any]:
    r = await api.http.post(f"/api/public/applications/{reg}/documents", json={"access_code": code})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def audit(api: Api, reg: str) -> list[dict[str, Any]]:
    r = await api.as_user("admin", "GET", f"/api/admin/applications/{reg}/audit")
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


async def decide(api: Api, user: str, reg: str, step: str, body: dict[str, Any]) -> Any:
    return await api.as_user(user, "POST", f"/api/staff/tasks/{reg}/{step}/decide", body)


async def open_steps(api: Api, reg: str, code: str) -> list[str]:
    r = await api.http.post(f"/api/public/applications/{reg}/track", json={"access_code": code})
    if r.status_code != 200:
        return []  # not registered yet
    return [s["step_id"] for s in r.json()["current_steps"]]


async def users(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("budi", "staff", "dpupr/pbg_secretariat")
    await api.add_user("nina", "staff", "dinkes/health_licensing")
    await api.add_user("admin", "admin")
    await api.add_user("ita", "inspector")


async def test_upload_verify_return_reupload_and_move_on(docs_api: Api) -> None:
    api = docs_api
    await users(api)
    submitted = await api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["registration"])

    contents = {slot: PDF + slot.encode() for slot in SLOTS}
    for slot in SLOTS:
        r = await upload(api, reg, code, slot, contents[slot])
        assert r.status_code == 201, r.text
    docs = await listing(api, reg, code)
    assert [s["id"] for s in docs["slots"]] == SLOTS
    assert all(len(s["versions"]) == 1 for s in docs["slots"])

    assert (
        await decide(api, "rina", reg, "registration", {"outcome": "approve"})
    ).status_code == 200
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["completeness"])

    # A return at the completeness check must name the items; they must exist.
    r = await decide(api, "budi", reg, "completeness", {"outcome": "return", "note": "x"})
    assert r.status_code == 422 and r.json()["code"] == "corrections_required"
    r = await decide(
        api, "budi", reg, "completeness", {"outcome": "return", "corrections": ["passport"]}
    )
    assert r.status_code == 404 and r.json()["code"] == "unknown_document"

    verdicts = [
        {"slot": s, "verdict": "incomplete" if s == "identity" else "complete"} for s in SLOTS
    ]
    verdicts[1]["note"] = "KTP buram"
    body = {
        "outcome": "return",
        "note": "unggah ulang KTP",
        "verdicts": verdicts,
        "corrections": ["identity"],
    }
    assert (await decide(api, "budi", reg, "completeness", body)).status_code == 200
    docs = await listing(api, reg, code)
    assert docs["corrections"] == ["identity"]
    assert [s["id"] for s in docs["slots"] if s["asked"]] == ["identity"]
    identity = next(s for s in docs["slots"] if s["id"] == "identity")
    assert identity["verdicts"][0]["verdict"] == "incomplete"
    assert identity["verdicts"][0]["note"] == "KTP buram"
    returned = [e for e in await audit(api, reg) if e["event"] == "step_returned"]
    assert returned[-1]["details"]["corrections"] == ["identity"]

    # Only the slot asked for takes a new version.
    files_before = stored_files(api)
    r = await upload(api, reg, code, "land_title", PDF + b"other")
    assert r.status_code == 409 and r.json()["code"] == "document_not_returned"
    assert stored_files(api) == files_before
    new_identity = PDF + b"sharper scan"
    r = await upload(api, reg, code, "identity", new_identity)
    assert r.status_code == 201, r.text
    identity = next(s for s in r.json()["slots"] if s["id"] == "identity")
    assert [v["version"] for v in identity["versions"]] == [1, 2]

    r = await api.http.post(
        f"/api/public/applications/{reg}/resubmit",
        json={"access_code": code, "note": "KTP sudah diganti"},
        headers=idempotent(),
    )
    assert r.status_code == 200, r.text
    # The applicant's note reaches the audit (and so the task page) and tracking.
    resumed = [e for e in await audit(api, reg) if e["event"] == "step_resumed"]
    assert resumed[-1]["details"]["note"] == "KTP sudah diganti"
    history = r.json()["history"]
    assert any(e["event"] == "step_resumed" and e["note"] == "KTP sudah diganti" for e in history)
    r = await api.as_user("budi", "GET", f"/api/staff/tasks/{reg}/completeness")
    assert any(e["details"].get("note") == "KTP sudah diganti" for e in r.json()["history"])

    body = {"outcome": "approve", "verdicts": [{"slot": "identity", "verdict": "complete"}]}
    assert (await decide(api, "budi", reg, "completeness", body)).status_code == 200
    await eventually(
        lambda: open_steps(api, reg, code),
        lambda s: sorted(s) == ["environmental_review", "tpa_review"],
    )

    # Both versions stay readable by staff and the inspectorate; every download is logged.
    for user, version, expected in (
        ("budi", 1, contents["identity"]),
        ("budi", 2, new_identity),
        ("ita", 1, contents["identity"]),
    ):
        r = await api.as_user(
            user, "GET", f"/api/staff/applications/{reg}/documents/identity/{version}"
        )
        assert r.status_code == 200, r.text
        assert r.content == expected
        assert r.headers["content-type"] == "application/pdf"
    r = await api.http.post(
        f"/api/public/applications/{reg}/documents/identity/2/download",
        json={"access_code": code},
    )
    assert r.status_code == 200 and r.content == new_identity
    log = await downloads(api, reg)
    assert [(d["who"], d["version"]) for d in log] == [
        ("budi", 1),
        ("budi", 2),
        ("ita", 1),
        (f"applicant:{reg}", 2),
    ]
    uploaded = [e for e in await audit(api, reg) if e["event"] == "document_uploaded"]
    assert len(uploaded) == 5
    assert set(uploaded[0]["details"]) == {"slot", "version", "sha256", "size", "media_type"}


async def downloads(api: Api, reg: str) -> list[dict[str, Any]]:
    from loket.services.documents import download_log

    return await download_log(api.services, reg)


async def test_refused_files_change_nothing(docs_api: Api) -> None:
    api = docs_api
    await users(api)
    submitted = await api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["registration"])
    seq_before = len(await audit(api, reg))

    # A PNG renamed to .pdf, sent as application/pdf, into a PDF-only slot.
    r = await upload(api, reg, code, "architecture_drawings", PNG, name="gambar.pdf")
    assert r.status_code == 422
    assert r.json()["code"] == "document_type_refused"
    assert r.json()["params"]["slot"] == "architecture_drawings"
    assert r.json()["params"]["found"] == "image/png"
    # Too large for the slot (10 MB by the permit's rules).
    r = await upload(api, reg, code, "identity", JPEG + b"\x00" * (10 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["code"] == "document_too_large"
    assert r.json()["params"] == {"slot": "identity", "max_mb": 10}
    # No such slot; and a document of the permit this application does not need.
    for slot in ("passport", "structure_calculation"):
        r = await upload(api, reg, code, slot, PDF)
        assert r.status_code == 404 and r.json()["code"] == "unknown_document"
    # A wrong access code answers like an unknown number.
    r = await upload(api, reg, "WRONGCODE2", "identity", PDF)
    assert r.status_code == 404 and r.json()["code"] == "tracking_not_found"
    assert stored_files(api) == []
    assert len(await audit(api, reg)) == seq_before
    assert all(s["versions"] == [] for s in (await listing(api, reg, code))["slots"])

    # One good file, then downloads by those who may not.
    assert (await upload(api, reg, code, "identity", PDF)).status_code == 201
    r = await api.as_user("nina", "GET", f"/api/staff/applications/{reg}/documents/identity/1")
    assert r.status_code == 404 and r.json()["code"] == "document_not_found"
    r = await api.as_user("nina", "GET", f"/api/staff/applications/{reg}/documents")
    assert r.status_code == 404
    r = await api.http.post(
        f"/api/public/applications/{reg}/documents/identity/1/download",
        json={"access_code": "WRONGCODE2"},
    )
    assert r.status_code == 404 and r.json()["code"] == "tracking_not_found"
    assert await downloads(api, reg) == []

    # Closed: nothing can be uploaded any more.
    r = await api.as_user(
        "admin", "POST", f"/api/admin/applications/{reg}/cancel", {"reason": "duplikat"}
    )
    assert r.status_code == 200, r.text
    files_before = stored_files(api)
    seq_before = len(await audit(api, reg))
    r = await upload(api, reg, code, "land_title", PDF + b"late")
    assert r.status_code == 409 and r.json()["code"] == "closed"
    assert stored_files(api) == files_before
    assert len(await audit(api, reg)) == seq_before


async def test_registration_staff_upload_for_walk_in(docs_api: Api) -> None:
    api = docs_api
    await users(api)
    submitted = await api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["registration"])
    headers = {**await api.login("rina"), **idempotent()}
    r = await api.http.post(
        f"/api/staff/applications/{reg}/documents/land_title",
        files={"file": ("sertifikat.jpg", JPEG, "image/jpeg")},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    land = next(s for s in r.json()["slots"] if s["id"] == "land_title")
    assert land["versions"][0]["uploaded_by"] == "staff"
    assert land["versions"][0]["media_type"] == "image/jpeg"
    # Staff of another counter may not upload for the applicant.
    headers = {**await api.login("budi"), **idempotent()}
    r = await api.http.post(
        f"/api/staff/applications/{reg}/documents/identity",
        files={"file": ("ktp.pdf", PDF, "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 404
    # The same Idempotency-Key again acts once.
    key = idempotent()
    for _ in range(2):
        r = await api.http.post(
            f"/api/staff/applications/{reg}/documents/identity",
            files={"file": ("ktp.pdf", PDF, "application/pdf")},
            headers={**await api.login("rina"), **key},
        )
        assert r.status_code == 201, r.text
    identity = next(s for s in r.json()["slots"] if s["id"] == "identity")
    assert len(identity["versions"]) == 1


async def test_an_oversized_upload_is_stopped_while_it_streams(docs_api: Api) -> None:
    """The limit is checked as the body arrives: a 40 MB file into a 10 MB slot is refused
    after about 10 MB have been read, not after the whole body was received."""
    api = docs_api
    submitted = await api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["registration"])
    sent = 0
    boundary = "streamlimit"

    async def body() -> Any:
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="k.pdf"'
            "\r\nContent-Type: application/pdf\r\n\r\n"
        ).encode()
        yield PDF
        for _ in range(40):
            sent += 1024 * 1024
            yield b"\x00" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await api.http.post(
        f"/api/public/applications/{reg}/documents/identity",
        content=body(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Access-Code": code,
            **idempotent(),
        },
    )
    assert r.status_code == 413 and r.json()["code"] == "document_too_large"
    assert sent <= 12 * 1024 * 1024, f"{sent} bytes read for a 10 MB limit"


async def test_an_upload_the_case_refuses_is_not_read_at_all(docs_api: Api) -> None:
    """Past submission, not returned: the case says no before a byte of the file is read."""
    api = docs_api
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    submitted = await api.submit()
    reg, code = submitted["registration_number"], submitted["access_code"]
    await eventually(lambda: open_steps(api, reg, code), lambda s: s == ["registration"])
    assert (
        await decide(api, "rina", reg, "registration", {"outcome": "approve"})
    ).status_code == 200
    read = 0

    async def body() -> Any:
        nonlocal read
        for _ in range(5):
            read += 1
            yield b"--b\r\n" if read == 1 else b"\x00" * 65536

    r = await api.http.post(
        f"/api/public/applications/{reg}/documents/identity",
        content=body(),
        headers={
            "Content-Type": "multipart/form-data; boundary=b",
            "X-Access-Code": code,
            **idempotent(),
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "documents_locked"
    assert read <= 1, f"{read} chunks of the body were read"
