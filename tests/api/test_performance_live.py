"""One application through the real workflow, then the published figures and the survey
read what its record activity wrote (not a seeded read model)."""

from __future__ import annotations

from loket.case.survey import ELEMENTS
from loket.services.context import utcnow
from loket.services.performance import raw_figures
from tests.api.harness import Api, idempotent
from tests.support import SIP_FORM, eventually

STEPS = (
    ("registration", "dpmptsp/front_office"),
    ("health_verification", "dinkes/health_licensing"),
    ("issuance", "dpmptsp/issuance"),
)


async def _status(api: Api, reg: str) -> str | None:
    async with api.services.pool.acquire() as conn:
        found: str | None = await conn.fetchval(
            "SELECT status FROM applications WHERE registration_number = $1", reg
        )
    return found


async def test_a_finished_application_counts_and_can_be_rated(api: Api) -> None:
    done = await api.submit("SIP", SIP_FORM)
    reg, code = done["registration_number"], done["access_code"]
    survey = f"/api/public/applications/{reg}/survey"
    ratings = {"access_code": code, **dict.fromkeys(ELEMENTS, 3)}
    await eventually(lambda: _status(api, reg), lambda s: s == "in_progress")
    r = await api.http.post(survey, json=ratings, headers=idempotent())
    assert r.status_code == 409 and r.json()["code"] == "survey_not_open"
    for i, (step, counter) in enumerate(STEPS):
        await api.add_user(f"petugas{i}", "staff", counter)
        r = await api.as_user(
            f"petugas{i}", "POST", f"/api/staff/tasks/{reg}/{step}/decide", {"outcome": "approve"}
        )
        assert r.status_code == 200, r.text
    await eventually(lambda: _status(api, reg), lambda s: s == "approved")

    now = utcnow().astimezone(api.services.calendar.tz)
    cell = (await raw_figures(api.services, now.year))[("SIP", now.strftime("%Y-%m"))]
    assert (cell["received"], cell["finished"]) == (1, 1)
    assert cell["on_time"] + cell["late"] == 1 and cell["free_share"] == 1.0
    assert cell["median_working_days"] is not None and cell["median_working_days"] >= 0
    r = await api.http.post(survey, json=ratings, headers=idempotent())
    assert r.status_code == 201, r.text
    # Published: one application and one respondent are small cells.
    r = await api.http.get("/api/public/performance", params={"year": now.year})
    sip = next(m for m in r.json()["monthly"] if m["permit_type"] == "SIP" and m["received"] != 0)
    assert sip["received"] is None and "received" in sip["suppressed"]
    assert [s["respondents"] for s in r.json()["survey"]] == [None]
