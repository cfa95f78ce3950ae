"""Administrators' monitoring across agencies, supervisors' extensions, recomputation.

The stalled list and SLA report read the read model; here it is filled through the same
``apply_batch`` the workflow's activity uses, with deadlines days in the past, which a
live workflow would need days to reach. Extensions and recomputation go through real
workflows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from loket.calendar import WorkCalendar
from loket.store.monitoring import remember_calendar
from loket.store.records import apply_batch
from tests.api.harness import Api
from tests.support import eventually
from workflows.messages import ApplicationRecord, AuditEntry, RecordBatch, TaskRecord


def _task(
    step: str, agency: str, counter: str, opened: datetime, due: datetime, **kw: Any
) -> TaskRecord:
    return TaskRecord(
        step_id=step,
        attempt=1,
        name=step.title(),
        agency=agency,
        counter=counter,
        state=kw.pop("state", "open"),
        opened_at=opened,
        due_at=due,
        calendar_version=kw.pop("calendar_version"),
        clock="running",
        **kw,
    )


async def _seed(api: Api, reg: str, tasks: list[TaskRecord], now: datetime) -> None:
    calendar = api.services.calendar
    async with api.services.pool.acquire() as conn:
        await remember_calendar(conn, calendar)
    batch = RecordBatch(
        application=ApplicationRecord(
            registration_number=reg,
            permit_type="PBG",
            route_version=1,
            status="in_progress",
            data={},
            submitted_at=now - timedelta(days=30),
            service_due_at=None,
            calendar_version=calendar.version,
            current_steps=tuple(t.step_id for t in tasks if t.state == "open"),
            current_agencies=(),
            waiting_for_applicant=False,
        ),
        tasks=tuple(tasks),
        audit=(
            AuditEntry(
                seq=1, event="application_submitted", at=now, actor="x", actor_role="applicant"
            ),
        ),
    )
    await apply_batch(api.services.pool, batch)


async def test_stalled_steps_worst_first_in_working_time_and_sla(api: Api) -> None:
    await api.add_user("inspektur", "inspector")
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    now = datetime.now(UTC)
    calendar = WorkCalendar(api.services.calendar)
    version = calendar.version
    await _seed(
        api,
        "PBG-2026-900001",
        [
            _task(
                "completeness",
                "dpupr",
                "pbg_secretariat",
                now - timedelta(days=20),
                now - timedelta(days=7),
                calendar_version=version,
            ),
            _task(
                "tpa_review",
                "dpupr",
                "tpa",
                now - timedelta(days=2),
                now + timedelta(days=5),
                escalation_level=1,
                calendar_version=version,
            ),
            _task(
                "registration",
                "dpmptsp",
                "front_office",
                now - timedelta(days=50),
                now - timedelta(days=30),
                calendar_version=version,
            ),
        ],
        now,
    )
    await _seed(
        api,
        "PBG-2026-900002",
        [
            _task(
                "registration",
                "dpmptsp",
                "front_office",
                now - timedelta(days=3),
                now - timedelta(days=1),
                state="done",
                closed_at=now - timedelta(days=2),
                used_working_s=3600,
                calendar_version=version,
            ),
            _task(
                "completeness",
                "dpupr",
                "pbg_secretariat",
                now - timedelta(days=9),
                now - timedelta(days=5),
                state="done",
                closed_at=now - timedelta(days=4),
                used_working_s=4 * 8 * 3600,
                calendar_version=version,
            ),
        ],
        now,
    )

    r = await api.as_user("rina", "GET", "/api/admin/monitoring/stalled")
    assert r.status_code == 403
    r = await api.as_user("inspektur", "GET", "/api/admin/monitoring/stalled")
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [row["step_id"] for row in rows] == ["registration", "completeness", "tpa_review"]
    completeness = rows[1]
    expected = calendar.elapsed(now - timedelta(days=7), now).total_seconds()
    assert abs(completeness["overdue_working_s"] - expected) < 5  # the API's now is a bit later
    assert rows[2]["overdue_working_s"] == 0 and rows[2]["escalation_level"] == 1

    r = await api.as_user("inspektur", "GET", "/api/admin/monitoring/sla")
    assert r.status_code == 200, r.text
    steps = {(s["agency"], s["step_id"]): s for s in r.json()["steps"]}
    front = steps[("dpmptsp", "registration")]
    assert (front["closed"], front["on_time"], front["late"], front["on_time_share"]) == (
        1,
        1,
        0,
        1.0,
    )
    secretariat = steps[("dpupr", "completeness")]
    assert (secretariat["closed"], secretariat["late"]) == (1, 1)
    assert secretariat["median_working_s"] == 4 * 8 * 3600


async def test_supervisor_extends_with_a_reason_and_admin_recomputes(api: Api) -> None:
    await api.add_user("kepala", "supervisor", agency="dpmptsp")
    await api.add_user("kabid", "supervisor", agency="dpupr")
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("admin", "admin")
    reg = (await api.submit())["registration_number"]

    async def inbox() -> list[dict[str, Any]]:
        r = await api.as_user("rina", "GET", "/api/staff/inbox")
        return list(r.json())

    before = (await eventually(inbox, lambda rows: len(rows) == 1))[0]["due_at"]
    url = f"/api/supervisor/tasks/{reg}/registration/extend"
    body = {"extra": "2d", "reason": "menunggu dokumen asli dari desa"}
    assert (await api.as_user("rina", "POST", url, body)).status_code == 403
    # Another agency's supervisor: the same 404 as a task that does not exist.
    other = await api.as_user("kabid", "POST", url, body)
    missing = await api.as_user("kabid", "POST", url.replace(reg, "PBG-2026-000999"), body)
    assert other.status_code == missing.status_code == 404
    assert other.json()["code"] == missing.json()["code"] == "task_not_found"
    assert other.json()["params"]["step_id"] == missing.json()["params"]["step_id"]
    bad = await api.as_user("kepala", "POST", url, {**body, "extra": "0d"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_duration"
    assert bad.json()["errors"][0]["field"] == "extra"
    far = await api.as_user("kepala", "POST", url, {**body, "extra": "3000d"})
    assert far.status_code == 422 and far.json()["code"] == "outside_calendar"
    r = await api.as_user("kepala", "POST", url, body, key="extend-1")
    assert r.status_code == 200, r.text
    after = datetime.fromisoformat(r.json()["open_steps"][0]["due_at"])
    assert after > datetime.fromisoformat(before)
    # The same request again (same key) acts once and answers the first result.
    again = await api.as_user("kepala", "POST", url, body, key="extend-1")
    assert again.status_code == 200 and again.json() == r.json()
    await eventually(inbox, lambda rows: datetime.fromisoformat(rows[0]["due_at"]) == after)

    r = await api.as_user(
        "admin",
        "POST",
        f"/api/admin/applications/{reg}/recompute-deadlines",
        {"reason": "SKB revised"},
    )
    assert r.status_code == 200, r.text
    audit = await api.as_user("admin", "GET", f"/api/admin/applications/{reg}/audit")
    events = [e["event"] for e in audit.json()["events"]]
    assert events.count("deadline_extended") == 1 and "deadlines_recomputed" in events
