"""The satisfaction survey (SKM) through the API: once per finished application, with the
access code, anonymous; the published index recomputed by plain SQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from loket.calendar import calendar_for
from loket.case.survey import ELEMENTS
from loket.services.context import utcnow
from tests.api.harness import Api, idempotent
from tests.api.performance_seed import Seeded, Seeder

URL = "/api/public/applications/{}/survey"


async def _seed(api: Api, finished: int, open_: int = 0) -> list[Seeded]:
    tz = api.services.calendar.tz
    start = datetime(2026, 4, 6, 10, tzinfo=tz)
    async with api.services.pool.acquire() as conn:
        s = Seeder(conn, calendar_for(api.services.calendar))
        for i in range(finished + open_):
            await s.application(
                f"SIP-2026-95{i:04d}", "SIP", start, days=1 if i < finished else None
            )
    return s.seeded


def _answer(app: Seeded, base: int, **override: Any) -> dict[str, Any]:
    ratings = {e: 1 + (base + i) % 4 for i, e in enumerate(ELEMENTS)}
    return {"access_code": app.access_code, **ratings, **override}


async def test_one_response_per_application_and_the_refusals(api: Api) -> None:
    done, running = await _seed(api, finished=1, open_=1)
    url = URL.format(done.registration_number)
    key = idempotent()
    r = await api.http.post(url, json=_answer(done, 0), headers=key)
    assert r.status_code == 201, r.text
    assert r.json()["period"] == utcnow().astimezone(api.services.calendar.tz).strftime("%Y-%m")
    # The same request again (a retry): the same answer, still one response.
    again = await api.http.post(url, json=_answer(done, 0), headers=key)
    assert again.status_code == 201 and again.json() == r.json()
    # A second response, with another key: refused with its code.
    second = await api.http.post(url, json=_answer(done, 1), headers=idempotent())
    assert second.status_code == 409
    assert second.json()["code"] == "survey_already_answered"
    offer = await api.http.post(url + "/offer", json={"access_code": done.access_code})
    assert offer.json() == {
        "registration_number": done.registration_number,
        "open": True,
        "answered": True,
    }
    async with api.services.pool.acquire() as conn:
        rows = await conn.fetch("SELECT row_to_json(s)::text AS r FROM survey_responses s")
    assert len(rows) == 1
    # Anonymous: nothing in the row names the application (nor its access code).
    assert done.registration_number not in rows[0]["r"] and done.access_code not in rows[0]["r"]

    # Not finished yet: the survey is not open.
    r = await api.http.post(
        URL.format(running.registration_number), json=_answer(running, 0), headers=idempotent()
    )
    assert r.status_code == 409 and r.json()["code"] == "survey_not_open"
    # A wrong access code answers like an unknown number.
    r = await api.http.post(url, json=_answer(done, 0, access_code="WRONG"), headers=idempotent())
    assert r.status_code == 404 and r.json()["code"] == "tracking_not_found"
    # A rating out of 1-4, or not an integer, is refused naming the field.
    for bad in (5, 0, 2.5, "3", True):
        r = await api.http.post(url, json=_answer(done, 0, waktu=bad), headers=idempotent())
        assert r.status_code == 422, bad
        assert [e["field"] for e in r.json()["errors"]] == ["waktu"], r.json()
    # No Idempotency-Key: refused before anything is written.
    r = await api.http.post(url, json=_answer(done, 0))
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_missing"


async def _published(api: Api) -> dict[str, Any]:
    year = utcnow().astimezone(api.services.calendar.tz).year
    r = await api.http.get("/api/public/performance", params={"year": year})
    return next(s for s in r.json()["survey"] if s["permit_type"] == "SIP")


async def test_the_index_is_published_from_five_respondents(api: Api) -> None:
    apps = await _seed(api, finished=5)
    for i, app in enumerate(apps):
        r = await api.http.post(
            URL.format(app.registration_number),
            json=_answer(app, i),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert r.status_code == 201, r.text
        if i == 3:  # four respondents: a small cell
            shown = await _published(api)
            assert shown["respondents"] is None and shown["ikm"] is None
            assert shown["grade"] is None and "ikm" in shown["suppressed"]
    shown = await _published(api)
    async with api.services.pool.acquire() as conn:
        ikm = await conn.fetchval(
            "SELECT round(avg((persyaratan + prosedur + waktu + biaya + produk + kompetensi"
            " + perilaku + pengaduan + sarana) / 9.0) * 25, 2) FROM survey_responses"
        )
        u1 = await conn.fetchval("SELECT round(avg(persyaratan), 2) FROM survey_responses")
    assert shown["respondents"] == 5 and shown["suppressed"] == []
    assert shown["ikm"] == float(ikm)
    assert shown["elements"]["persyaratan"] == float(u1)
    grade = "A" if ikm >= 88.31 else "B" if ikm >= 76.61 else "C" if ikm >= 65 else "D"
    assert shown["grade"] == grade
