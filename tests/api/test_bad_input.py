"""No input wedges a case: every hostile value at every door of the API answers a 4xx that
names the field (never a 500), nothing is stored, and the case still works afterwards.

The table below is the bad-input table of issue 9 (printed with ``-s``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.harness import Api, idempotent
from tests.support import PBG_FORM, eventually

NUL, SURROGATE, HUGE = "a\x00b", "a\ud800b", "x" * 5000
REG = "{reg}"
TASK = f"/api/staff/tasks/{REG}/registration"


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    url: str
    body: Any = None
    user: str | None = None
    status: int = 422
    code: str = "invalid_request"
    field: str | None = None
    form: bool = False  # an OAuth2 form, not JSON
    headers: dict[str, str] | None = None


def submit(**form: Any) -> dict[str, Any]:
    return {"permit_type": "PBG", "form": {**PBG_FORM, **form}}


PROBES = [
    Probe(
        "applicant name with NUL",
        "POST",
        "/api/public/applications",
        submit(applicant_name=NUL),
        code="invalid_form",
        field="applicant_name",
    ),
    Probe(
        "applicant name, lone surrogate",
        "POST",
        "/api/public/applications",
        submit(applicant_name=SURROGATE),
        code="invalid_form",
        field="applicant_name",
    ),
    Probe(
        "applicant name 5000 chars",
        "POST",
        "/api/public/applications",
        submit(applicant_name=HUGE),
        code="invalid_form",
        field="applicant_name",
    ),
    Probe(
        "fence 1e20 m",
        "POST",
        "/api/public/applications",
        submit(fence_length_m=1e20),
        code="invalid_form",
        field="fence_length_m",
    ),
    Probe(
        "fence -1 m",
        "POST",
        "/api/public/applications",
        submit(fence_length_m=-1),
        code="invalid_form",
        field="fence_length_m",
    ),
    Probe(
        "area NaN",
        "POST",
        "/api/public/applications",
        submit(building_area_m2=float("nan")),
        code="invalid_form",
        field="building_area_m2",
    ),
    Probe(
        "area 1e300",
        "POST",
        "/api/public/applications",
        submit(building_area_m2=1e300),
        code="invalid_form",
        field="building_area_m2",
    ),
    Probe(
        "floors 1e20",
        "POST",
        "/api/public/applications",
        submit(floors=1e20),
        code="invalid_form",
        field="floors",
    ),
    Probe(
        "choice with NUL",
        "POST",
        "/api/public/applications",
        submit(building_use=NUL),
        code="invalid_form",
        field="building_use",
    ),
    Probe(
        "permit type with NUL",
        "POST",
        "/api/public/applications",
        {"permit_type": NUL, "form": PBG_FORM},
        field="permit_type",
    ),
    Probe(
        "fee preview area 1e300",
        "POST",
        "/api/public/permits/PBG/fees/preview",
        {"form": {"building_use": "usaha", "building_area_m2": 1e300}},
        code="invalid_form",
        field="building_area_m2",
    ),
    Probe(
        "fee preview area -Infinity",
        "POST",
        "/api/public/permits/PBG/fees/preview",
        {"form": {"building_use": "usaha", "building_area_m2": float("-inf")}},
        code="invalid_form",
        field="building_area_m2",
    ),
    Probe("permit id with NUL in path", "GET", "/api/public/permits/P%00G", field="permit_id"),
    Probe(
        "registration number with NUL in path",
        "POST",
        "/api/public/applications/PBG%00/track",
        {"access_code": "X"},
        field="registration_number",
    ),
    Probe(
        "access code with NUL",
        "POST",
        f"/api/public/applications/{REG}/track",
        {"access_code": NUL},
        field="access_code",
    ),
    Probe(
        "resubmit note with NUL",
        "POST",
        f"/api/public/applications/{REG}/resubmit",
        {"access_code": "{code}", "note": NUL},
        field="note",
    ),
    Probe(
        "sign-in user name with NUL",
        "POST",
        "/api/auth/token",
        {"username": NUL, "password": "x" * 10},
        field="username",
        form=True,
    ),
    Probe(
        "sign-in password with NUL",
        "POST",
        "/api/auth/token",
        {"username": "rina", "password": NUL},
        field="password",
        form=True,
    ),
    Probe(
        "decision note with NUL",
        "POST",
        f"{TASK}/decide",
        {"outcome": "approve", "note": NUL},
        user="rina",
        field="note",
    ),
    Probe(
        "decision note, lone surrogate",
        "POST",
        f"{TASK}/decide",
        {"outcome": "approve", "note": SURROGATE},
        user="rina",
        field="note",
    ),
    Probe(
        "decision note 5000 chars",
        "POST",
        f"{TASK}/decide",
        {"outcome": "approve", "note": HUGE},
        user="rina",
        field="note",
    ),
    Probe(
        "outcome with NUL", "POST", f"{TASK}/decide", {"outcome": NUL}, user="rina", field="outcome"
    ),
    Probe(
        "step id with NUL in path",
        "GET",
        f"/api/staff/tasks/{REG}/reg%00",
        user="rina",
        field="step_id",
    ),
    Probe(
        "reassign to a NUL name",
        "POST",
        f"/api/supervisor/tasks/{REG}/registration/reassign",
        {"to": NUL},
        user="kepala",
        field="to",
    ),
    Probe(
        "reassign reason with NUL",
        "POST",
        f"/api/supervisor/tasks/{REG}/registration/reassign",
        {"to": None, "reason": NUL},
        user="kepala",
        field="reason",
    ),
    Probe(
        "extension 300d (past the calendar)",
        "POST",
        f"/api/supervisor/tasks/{REG}/registration/extend",
        {"extra": "3000d", "reason": "terlalu jauh"},
        user="kepala",
        code="outside_calendar",
        field="extra",
    ),
    Probe(
        "extension 'soon'",
        "POST",
        f"/api/supervisor/tasks/{REG}/registration/extend",
        {"extra": "soon", "reason": "tidak jelas"},
        user="kepala",
        code="invalid_duration",
        field="extra",
    ),
    Probe(
        "extension reason with NUL",
        "POST",
        f"/api/supervisor/tasks/{REG}/registration/extend",
        {"extra": "1d", "reason": NUL},
        user="kepala",
        field="reason",
    ),
    Probe(
        "cancel reason with NUL",
        "POST",
        f"/api/admin/applications/{REG}/cancel",
        {"reason": NUL},
        user="admin",
        field="reason",
    ),
    Probe(
        "recompute reason with NUL",
        "POST",
        f"/api/admin/applications/{REG}/recompute-deadlines",
        {"reason": NUL},
        user="admin",
        field="reason",
    ),
    Probe(
        "decide without Idempotency-Key",
        "POST",
        f"{TASK}/decide",
        {"outcome": "approve"},
        user="rina",
        code="idempotency_key_missing",
        field="Idempotency-Key",
        headers={},
    ),
    Probe(
        "Idempotency-Key with spaces",
        "POST",
        f"{TASK}/decide",
        {"outcome": "approve"},
        user="rina",
        field="Idempotency-Key",
        headers={"Idempotency-Key": "a b"},
    ),
    Probe(
        "unknown body field",
        "POST",
        f"{TASK}/decide",
        {"outcome": "approve", "request_id": "x"},
        user="rina",
        field="request_id",
    ),
]


def _fill(value: Any, reg: str, code: str) -> Any:
    text = json.dumps(value)
    return json.loads(text.replace("{reg}", reg).replace("{code}", code))


@pytest.mark.timeout(120)
async def test_hostile_input_answers_4xx_naming_the_field_and_wedges_nothing(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("admin", "admin")
    done = await api.submit()
    reg, code = done["registration_number"], done["access_code"]

    async def inbox() -> Any:
        return (await api.as_user("rina", "GET", "/api/staff/inbox")).json()

    await eventually(inbox, lambda rows: len(rows) == 1)
    table: list[str] = []
    wrong: list[str] = []
    for probe in PROBES:
        url = probe.url.replace("{reg}", reg)
        headers = await api.login(probe.user) if probe.user else {}
        if probe.method == "POST":
            headers = {**headers, **(probe.headers if probe.headers is not None else idempotent())}
        if probe.form:
            r = await api.http.post(url, data=probe.body, headers=headers)
        else:
            content = None if probe.body is None else json.dumps(_fill(probe.body, reg, code))
            headers = {**headers, "content-type": "application/json"}
            r = await api.http.request(probe.method, url, content=content, headers=headers)
        body = r.json()
        fields = [e["field"] for e in body.get("errors", [])]
        table.append(f"| {probe.label} | {r.status_code} | {body.get('code')} | {fields} |")
        if (r.status_code, body.get("code")) != (probe.status, probe.code) or (
            probe.field is not None and probe.field not in fields
        ):
            wrong.append(f"{probe.label}: {r.status_code} {body}")
    print("\n".join(["| input | status | code | fields |", "|---|---|---|---|", *table]))
    assert not wrong, "\n".join(wrong)

    # Nothing hostile was stored, and the case still works: decide, and it moves on.
    async with api.services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM applications") == 1
    r = await api.as_user(
        "rina",
        "POST",
        f"{TASK.replace('{reg}', reg)}/decide",
        {"outcome": "approve", "note": "baik\ttab\nbaris"},
    )
    assert r.status_code == 200, r.text
    assert [s["step_id"] for s in r.json()["open_steps"]] == ["completeness"]
