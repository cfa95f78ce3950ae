"""Published performance and open data, recomputed from the read model by plain SQL of the
test's own, on a read model with known figures (tests/api/performance_seed.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from statistics import median
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.calendar import calendar_for
from loket.case.survey import ELEMENTS
from loket.compose import create_app
from loket.services.performance import raw_figures
from tests.api.harness import Api, api_settings, idempotent, running_api
from tests.api.performance_seed import Seeded, Seeder, paid_fees, waived_fees

YEAR = 2026
LOCAL_MONTH = "to_char({} AT TIME ZONE 'Asia/Jakarta', 'YYYY-MM')"  # WIB, by zone name


@pytest_asyncio.fixture(loop_scope="session")
async def seeded(api: Api) -> AsyncIterator[list[Seeded]]:
    tz = api.services.calendar.tz
    async with api.services.pool.acquire() as conn:
        s = Seeder(conn, calendar_for(api.services.calendar))
        april, may, june = (
            datetime(YEAR, m, d, 10, tzinfo=tz) for m, d in ((4, 6), (5, 4), (6, 8))
        )
        # SIP (free by law), April: six finished, one late, one paused a day, three returns.
        for i, (days, extra) in enumerate(
            [
                (1, {}),
                (2, {"paused_days": 1}),
                (3, {"returns": 2}),
                (5, {"late": True}),
                (6, {"returns": 1}),
                (7, {}),
            ]
        ):
            await s.application(f"SIP-{YEAR}-9000{i:02d}", "SIP", april, days=days, **extra)
        # PBG, May: three only (a small cell); one MBR (waived); one crosses May 14-15.
        await s.application(f"PBG-{YEAR}-900001", "PBG", may, days=1, fees=waived_fees())
        await s.application(f"PBG-{YEAR}-900002", "PBG", may, days=8, status="rejected")
        await s.application(f"PBG-{YEAR}-900003", "PBG", may, days=3, late=True)
        # PTKA, June: five billed and paid, a sixth billed and still open.
        for i, days in enumerate([1, 2, 3, 5, 7]):
            fees = paid_fees(1_500_000 * (i + 1))
            await s.application(
                f"PTKA-{YEAR}-9000{i:02d}", "PTKA", june, days=days, fees=fees, paid=True
            )
        await s.application(f"PTKA-{YEAR}-900099", "PTKA", june, days=None, fees=paid_fees(9))
        # Counters: five steps at the front office (median 1.5 h), two at health (small).
        for i, used in enumerate([3600, 7200, 1800, 5400, 9000]):
            await s.task(f"SIP-{YEAR}-9000{i:02d}", "dpmptsp", "front_office", april, april, used)
        for i, used in enumerate([600, 1200]):
            await s.task(
                f"SIP-{YEAR}-9000{i:02d}", "dinkes", "health_licensing", april, april, used
            )
    yield s.seeded


async def _independent(api: Api) -> dict[tuple[str, str], dict[str, int]]:
    """The counts, by queries written apart from the store's (zone by name, plain joins)."""
    sub, fin = LOCAL_MONTH.format("submitted_at"), LOCAL_MONTH.format("finished_at")
    at, closed = LOCAL_MONTH.format("e.at"), LOCAL_MONTH.format("t.closed_at")
    queries = {
        "received": f"SELECT permit_type, {sub}, count(*) FROM applications GROUP BY 1, 2",
        "finished": f"SELECT permit_type, {fin}, count(*) FROM applications"
        " WHERE status <> 'in_progress' AND status <> 'cancelled' GROUP BY 1, 2",
        "on_time": f"SELECT permit_type, {fin}, count(*) FROM applications"
        " WHERE status IN ('approved', 'rejected') AND finished_at <= service_due_at GROUP BY 1, 2",
        "late": f"SELECT permit_type, {fin}, count(*) FROM applications"
        " WHERE status IN ('approved', 'rejected') AND finished_at > service_due_at GROUP BY 1, 2",
        "returns": f"SELECT a.permit_type, {at}, count(*) FROM audit_events e, applications a"
        " WHERE a.registration_number = e.registration_number AND e.event = 'step_returned'"
        " GROUP BY 1, 2",
        "fees_billed_amount": f"SELECT a.permit_type, {at}, sum(a.fee_total) FROM audit_events e"
        " JOIN applications a ON a.registration_number = e.registration_number"
        " WHERE e.event = 'fees_assessed' AND a.fee_total > 0 GROUP BY 1, 2",
        "fees_collected_amount": f"SELECT a.permit_type, {closed}, sum(a.fee_total) FROM tasks t"
        " JOIN applications a ON a.registration_number = t.registration_number"
        " WHERE t.step_id = 'payment' AND t.outcome = 'approve' GROUP BY 1, 2",
    }
    found: dict[tuple[str, str], dict[str, int]] = {}
    async with api.services.pool.acquire() as conn:
        for column, sql in queries.items():
            for permit_type, month, value in await conn.fetch(sql):
                found.setdefault((permit_type, month), {})[column] = int(value)
    return found


async def test_figures_match_an_independent_query(api: Api, seeded: list[Seeded]) -> None:
    raw = await raw_figures(api.services, YEAR)
    expected = await _independent(api)
    assert len(expected) == 3
    for key, columns in expected.items():
        for column, value in columns.items():
            assert raw[key][column] == value, (key, column)
    # Months without data publish zeros, not gaps.
    assert raw[("SIP", f"{YEAR}-01")]["received"] == 0
    # Working days: the seeded durations, their median and p90 by PostgreSQL itself.
    async with api.services.pool.acquire() as conn:
        for permit_type, month in expected:
            days = [
                x.working_days for x in seeded if x.permit_type == permit_type and x.working_days
            ]
            p50, p90 = await conn.fetchrow(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d),"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY d) FROM unnest($1::float8[]) d",
                days,
            )
            cell = raw[(permit_type, month)]
            assert cell["median_working_days"] == round(p50, 1) == round(median(days), 1)
            assert cell["p90_working_days"] == round(p90, 1)
    assert raw[("SIP", f"{YEAR}-04")]["free_share"] == 1.0
    assert raw[("PBG", f"{YEAR}-05")]["waived_share"] == round(1 / 3, 4)
    assert raw[("PTKA", f"{YEAR}-06")]["fees_billed_count"] == 6
    assert raw[("PTKA", f"{YEAR}-06")]["fees_collected_count"] == 5
    # The year is the sum of its months.
    assert raw[("SIP", str(YEAR))]["received"] == 6
    assert raw[("PTKA", str(YEAR))]["fees_collected_amount"] == 1_500_000 * 15


def _row(rows: list[dict[str, Any]], permit_type: str, month: str) -> dict[str, Any]:
    return next(r for r in rows if r["permit_type"] == permit_type and r["month"] == month)


async def test_published_figures_and_small_cells(api: Api, seeded: list[Seeded]) -> None:
    r = await api.http.get("/api/public/performance", params={"year": YEAR})
    assert r.status_code == 200, r.text
    report = r.json()
    sip = _row(report["monthly"], "SIP", f"{YEAR}-04")
    assert (sip["received"], sip["finished"], sip["on_time"], sip["late"]) == (6, 6, 5, 1)
    assert sip["median_working_days"] == 4.0 and sip["service_time_days"] == 5
    # Three returns, but of two applications only: withheld.
    assert sip["returns"] is None and sip["suppressed"] == ["returns"]
    pbg = _row(report["monthly"], "PBG", f"{YEAR}-05")
    assert (
        pbg["received"] is None and pbg["finished"] is None and pbg["median_working_days"] is None
    )
    assert {"received", "finished", "on_time", "late", "median_working_days"} <= set(
        pbg["suppressed"]
    )
    assert _row(report["yearly"], "PBG", str(YEAR))["received"] is None
    ptka = _row(report["monthly"], "PTKA", f"{YEAR}-06")
    assert ptka["fees_billed_amount"] == 1_500_000 * 15 + 9
    assert ptka["fees_collected_amount"] == 1_500_000 * 15
    counters = {(c["agency"], c["counter"]): c for c in report["counters"]}
    assert counters[("dpmptsp", "front_office")]["median_working_hours"] == 1.5
    health = counters[("dinkes", "health_licensing")]
    assert health["steps_closed"] is None and health["median_working_hours"] is None
    assert health["suppressed"] == ["steps_closed", "median_working_hours"]

    # The page shows the marker in those cells, never the number behind it.
    page = (await api.http.get("/kinerja", params={"year": YEAR})).text
    row = re.search(rf'<tr data-permit="PBG" data-month="{YEAR}-05">(.*?)</tr>', page, re.S)
    assert row is not None
    received = re.search(r'data-col="received">(.*?)</td>', row.group(1), re.S)
    assert received is not None and "&lt;5" in received.group(1) and "3" not in received.group(1)
    assert "0,5" not in row.group(1)


_PARSE = {"integer": int, "number": float, "string": str}


async def test_open_data_files_match_their_declared_columns(api: Api, seeded: list[Seeded]) -> None:
    r = await api.http.get("/data.json")
    assert r.status_code == 200
    catalogue = r.json()
    assert catalogue["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert {d["identifier"].rsplit("/", 1)[1] for d in catalogue["dataset"]} == {
        "kinerja-bulanan",
        "kinerja-tahunan",
        "waktu-loket",
        "ikm",
    }
    for dataset in catalogue["dataset"]:
        for key in ("title", "description", "publisher", "license", "accrualPeriodicity"):
            assert dataset[key], key
        columns = {c["name"]: c["type"] for c in dataset["columns"]}
        files = {
            d["mediaType"]: d["downloadURL"]
            for d in dataset["distribution"]
            if f"/{YEAR}/" in d["downloadURL"]
        }
        assert set(files) == {"text/csv", "application/json"}
        as_json = (
            await api.http.get(files["application/json"].replace(str(api.http.base_url), ""))
        ).json()
        as_csv = (await api.http.get(files["text/csv"].replace(str(api.http.base_url), ""))).text
        table = list(csv.reader(io.StringIO(as_csv)))
        assert table[0] == list(columns)
        assert len(table) - 1 == len(as_json)
        for cells, obj in zip(table[1:], as_json, strict=True):
            assert list(obj) == list(columns)
            withheld = set(obj["suppressed"].split())
            assert withheld <= set(columns)
            for (name, kind), text in zip(columns.items(), cells, strict=True):
                value = obj[name]
                if name in withheld:
                    assert value is None and text == "", (dataset["title"], name)
                elif value is None:
                    assert text == ""
                else:
                    assert _PARSE[kind](text) == value, (name, text, value)
                    assert kind != "integer" or isinstance(value, int)
    # The small cell is marked in the open data too.
    monthly = (await api.http.get(f"/open-data/{YEAR}/kinerja-bulanan.json")).json()
    pbg = _row(monthly, "PBG", f"{YEAR}-05")
    assert pbg["received"] is None and "received" in pbg["suppressed"].split()
    assert (await api.http.get(f"/open-data/{YEAR}/nothing.csv")).json()["code"] == (
        "dataset_not_found"
    )


async def test_catalogue_links_use_the_public_url(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    public = "https://loket.blorakab.go.id"
    app = create_app(
        api_settings(task_queue, public_url=public), db_dsn, client=temporal_ts_env.client
    )
    async with running_api(temporal_ts_env.client, db_dsn, task_queue, app=app) as api:
        r = await api.http.get("/data.json", headers={"Host": "evil.example"})
    links = [d["downloadURL"] for s in r.json()["dataset"] for d in s["distribution"]]
    assert links and all(link.startswith(f"{public}/open-data/") for link in links)


async def test_bad_input_is_refused_naming_the_field(api: Api) -> None:
    for url, status, code in (
        ("/api/public/performance?year=abc", 422, "invalid_request"),
        ("/api/public/performance?year=99999", 422, "invalid_request"),
        ("/kinerja?year=1", 422, None),
        (f"/open-data/{YEAR}/kinerja-bulanan.xlsx", 422, "invalid_request"),
        (f"/open-data/{YEAR}/kinerja%00.csv", 422, "invalid_request"),
        ("/open-data/1/ikm.csv", 422, "invalid_request"),
    ):
        r = await api.http.get(url)
        assert r.status_code == status, (url, r.status_code)
        if code:
            assert r.json()["code"] == code
    r = await api.http.post(
        "/api/public/applications/SIP-2026-000001/survey",
        json={"access_code": "A\x00B", **dict.fromkeys(ELEMENTS, 2**70)},
        headers=idempotent(),
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"access_code", *ELEMENTS}
