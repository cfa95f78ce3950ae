"""The API side of applicant notifications: the contact at submission (validated, stored
with the submission, never echoed), the staff deliveries list, and access-code recovery
(new code works, old fails, rate limit answers 429, an unknown number reveals nothing)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.compose import create_app
from loket.contact import CONSENT_VERSION
from tests.api.harness import Api, api_settings, idempotent, running_api
from tests.notify.support import CONTACT, EMAIL, PHONE, TOKEN, Gateway, SmtpSink
from tests.support import PBG_FORM, eventually

SUBMIT = "/api/public/applications"


@pytest_asyncio.fixture(loop_scope="session")
async def providers() -> AsyncIterator[tuple[SmtpSink, Gateway]]:
    with SmtpSink() as smtp, Gateway() as gateway:
        yield smtp, gateway


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment,
    db_dsn: str,
    task_queue: str,
    providers: tuple[SmtpSink, Gateway],
) -> AsyncIterator[Api]:
    smtp, gateway = providers
    settings = api_settings(
        task_queue,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        gateway_url=gateway.url,
        gateway_token=TOKEN,
        recover_per_application=2,
    )
    app = create_app(settings, db_dsn, client=temporal_ts_env.client)
    async with running_api(temporal_ts_env.client, db_dsn, task_queue, app=app) as running:
        yield running


async def submit(api: Api, contact: dict[str, Any] | None, key: str | None = None) -> Any:
    body: dict[str, Any] = {"permit_type": "PBG", "form": PBG_FORM}
    if contact is not None:
        body["contact"] = contact
    return await api.http.post(SUBMIT, json=body, headers=idempotent(key))


async def test_contact_is_stored_with_consent_and_never_answered(api: Api) -> None:
    r = await submit(api, {**CONTACT, "language": "en"})
    assert r.status_code == 201, r.text
    assert EMAIL not in r.text and "3456" not in r.text
    reg = r.json()["registration_number"]
    row = await api.services.pool.fetchrow(
        "SELECT * FROM applicant_contacts WHERE registration_number = $1", reg
    )
    assert row is not None
    assert (row["phone"], row["email"], row["language"]) == (PHONE, EMAIL, "en")
    assert row["consent_version"] == CONSENT_VERSION and row["consent_at"] is not None
    # Without a contact: nothing stored, the submission as before.
    r = await submit(api, None)
    assert r.status_code == 201
    count = await api.services.pool.fetchval("SELECT count(*) FROM applicant_contacts")
    assert count == 1


async def test_bad_contacts_answer_422_naming_the_field_and_register_nothing(api: Api) -> None:
    cases = [
        ({"phone": "0812", "consent": True}, "phone"),
        ({"email": "andi@localhost", "consent": True}, "email"),
        ({"phone": "081234567890"}, "consent"),
        ({"email": EMAIL, "consent": True, "consent_version": "old"}, "consent_version"),
        ({"email": "a" * 300 + "@example.com", "consent": True}, "email"),
        ({"email": EMAIL, "consent": True, "fax": "1"}, "fax"),
    ]
    for contact, field in cases:
        r = await submit(api, contact)
        assert r.status_code == 422, (contact, r.text)
        fields = [e["field"] for e in r.json()["errors"]]
        assert fields == [f"contact.{field}"], (contact, fields)
    assert await api.services.pool.fetchval("SELECT count(*) FROM submissions") == 0


async def test_staff_see_each_notice_per_channel_without_contact_data(api: Api) -> None:
    reg = (await submit(api, CONTACT)).json()["registration_number"]
    await api.add_user("ina", "inspector")
    url = f"/api/staff/applications/{reg}/notifications"
    r = await eventually(lambda: api.as_user("ina", "GET", url), lambda r: len(r.json()) == 2)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert {(d["kind"], d["channel"]) for d in rows} == {
        ("application_received", "email"),
        ("application_received", "phone"),
    }
    assert EMAIL not in r.text and PHONE not in r.text
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    assert (await api.as_user("rina", "GET", url)).status_code == 403
    assert (await api.http.get(url)).status_code == 401


def recover_url(reg: str) -> str:
    return f"/api/public/applications/{reg}/access-code/recover"


async def track(api: Api, reg: str, code: str) -> int:
    r = await api.http.post(f"/api/public/applications/{reg}/track", json={"access_code": code})
    return r.status_code


async def test_recovery_sends_a_new_code_and_the_old_one_stops_working(
    api: Api, providers: tuple[SmtpSink, Gateway]
) -> None:
    smtp, gateway = providers
    first = uuid.uuid4().hex
    done = (await submit(api, CONTACT, first)).json()
    reg, old = done["registration_number"], done["access_code"]
    await eventually(lambda: track(api, reg, old), lambda s: s == 200)  # first batch written
    r = await api.http.post(recover_url(reg), headers=idempotent())
    assert r.status_code == 202 and r.json() == {"status": "accepted"}
    [mail] = [m for m in smtp.messages if reg in str(m["Subject"])]
    [sms] = [b for b in gateway.accepted.values() if b["kind"] == "access_code_reset"]
    new = next(w for w in str(mail.get_payload()).split() if len(w) == 10 and w.isupper())
    assert new in sms["text"] and mail["To"] == EMAIL and sms["to"] == PHONE
    assert await track(api, reg, new) == 200
    assert await track(api, reg, old) == 404
    # The submission retried with its first key: the old code is not handed out again.
    again = await submit(api, CONTACT, first)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "submission_code_changed" and old not in again.text
    assert again.json()["params"]["registration_number"] == reg
    # The same request again (same Idempotency-Key) sends no second code.
    key = idempotent()
    await api.http.post(recover_url(reg), headers=key)
    sent = len(smtp.messages)
    assert (await api.http.post(recover_url(reg), headers=key)).status_code == 202
    assert len(smtp.messages) == sent
    log = await api.services.pool.fetch(
        "SELECT code, details FROM security_log WHERE registration_number = $1"
        " AND action = 'recover_access_code' ORDER BY id",
        reg,
    )
    assert [r["code"] for r in log] == ["code_sent", "code_sent"]
    assert all(EMAIL not in str(r["details"]) for r in log)


async def test_recovery_is_rate_limited_and_reveals_nothing(
    api: Api, providers: tuple[SmtpSink, Gateway]
) -> None:
    smtp, _ = providers
    known = (await submit(api, CONTACT)).json()["registration_number"]
    silent = (await submit(api, None)).json()["registration_number"]
    unknown = "PBG-2026-999999"
    answers = []
    for reg in (known, silent, unknown):
        r = await api.http.post(recover_url(reg), headers=idempotent())
        answers.append((r.status_code, r.text))
    assert len(set(answers)) == 1 and answers[0][0] == 202
    assert [
        str(m["Subject"]).split()[-1] for m in smtp.messages if "baru" in str(m["Subject"])
    ] == [known]
    # recover_per_application=2 in this window: the third request for a number is refused.
    await api.http.post(recover_url(unknown), headers=idempotent())
    r = await api.http.post(recover_url(unknown), headers=idempotent())
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    codes = await api.services.pool.fetch(
        "SELECT code FROM security_log WHERE registration_number = $1 ORDER BY id", unknown
    )
    assert [c["code"] for c in codes] == ["no_contact", "no_contact", "rate_limited"]
    bad = await api.http.post(recover_url("not a number"), headers=idempotent())
    assert bad.status_code == 422
    keyless = await api.http.post(recover_url(known))
    assert keyless.status_code == 422
    assert ["idempotency" in e["field"].lower() for e in keyless.json()["errors"]] == [True]
