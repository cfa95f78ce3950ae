"""Document forms of the pages (10A), without a browser: the streamed upload form checks its
CSRF token before it reads the file, refuses a wrong type with the slot named, and stores
nothing when it refuses; the walk-in upload at the registration counter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.harness import Api
from tests.api.test_documents import PDF, PNG, stored_files
from tests.support import eventually
from tests.web.support import Browser


async def _registered(api: Api) -> tuple[str, str]:
    done = await api.submit()
    reg, code = done["registration_number"], done["access_code"]

    async def rows() -> int:
        async with api.services.pool.acquire() as conn:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM tasks WHERE registration_number = $1", reg
                )
            )

    await eventually(rows, lambda n: n == 1)
    return reg, code


async def _versions(api: Api, reg: str) -> list[Any]:
    async with api.services.pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT slot, version, uploaded_by_role FROM document_versions"
                " WHERE registration_number = $1 ORDER BY slot, version",
                reg,
            )
        )


async def _post_file(
    browser: Browser, url: str, fields: dict[str, str], content: bytes, name: str = "ktp.pdf"
) -> Any:
    return await browser.http.post(
        url, data=fields, files={"file": (name, content, "application/pdf")}
    )


async def test_upload_form_checks_csrf_type_and_keeps_nothing_refused(api: Api) -> None:
    reg, code = await _registered(api)
    browser = Browser.open(api)
    await browser.get("/track")
    before = set(stored_files(api))
    fields = {"registration_number": reg, "access_code": code, "idempotency_key": "k-1"}
    # No token, or a wrong one: refused before the file is read.
    r = await _post_file(browser, "/track/documents/identity", fields, PDF)
    assert r.status_code == 403
    r = await _post_file(
        browser, "/track/documents/identity", {**fields, "csrf_token": "0" * 64}, PDF
    )
    assert r.status_code == 403
    # A PNG renamed .pdf into a PDF-only slot: the page says which slot and rule.
    with_token = {"csrf_token": browser.csrf, **fields}
    r = await _post_file(browser, "/track/documents/architecture_drawings", with_token, PNG)
    assert r.status_code == 422
    assert "architecture_drawings" in r.text
    # A wrong access code answers like an unknown number.
    r = await _post_file(
        browser, "/track/documents/identity", {**with_token, "access_code": "WRONG12345"}, PDF
    )
    assert r.status_code == 404
    assert await _versions(api, reg) == []
    assert set(stored_files(api)) == before  # nothing stored by any refusal
    # The good file goes in, once for its key.
    for _ in range(2):
        r = await _post_file(browser, "/track/documents/identity", with_token, PDF)
        assert r.status_code == 200, r.text
        assert 'data-testid="download-identity-1"' in r.text
    assert [(v["slot"], v["version"]) for v in await _versions(api, reg)] == [("identity", 1)]
    assert len(set(stored_files(api)) - before) <= 1  # the one PDF (unless stored already)
    await browser.close()


async def test_walk_in_upload_at_the_registration_counter(api: Api, tmp_path: Path) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("gita", "staff", "dpmptsp/issuance")
    reg, _ = await _registered(api)
    rina = Browser.open(api)
    await rina.sign_in("rina")
    task = f"/staff/tasks/{reg}/registration"
    page = await rina.get(task)
    assert "Unggah untuk pemohon" in page.text
    fields = {"csrf_token": rina.csrf, "idempotency_key": "walk-in-1", "back": task}
    r = await _post_file(rina, f"/staff/applications/{reg}/documents/land_title", fields, PDF)
    assert r.status_code == 303 and r.headers["location"] == task
    assert [tuple(v) for v in await _versions(api, reg)] == [("land_title", 1, "staff")]
    r = await rina.get(f"/staff/applications/{reg}/documents/land_title/1")
    assert r.status_code == 200 and r.content == PDF
    gita = Browser.open(api)
    await gita.sign_in("gita")
    fields = {"csrf_token": gita.csrf, "idempotency_key": "walk-in-2"}
    r = await _post_file(gita, f"/staff/applications/{reg}/documents/identity", fields, PDF)
    assert r.status_code == 404
    r = await gita.get(f"/staff/applications/{reg}/documents/land_title/1")
    assert r.status_code == 404
    assert len(await _versions(api, reg)) == 1
    await rina.close()
    await gita.close()
