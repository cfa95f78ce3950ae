"""Refused attempts are audited in the security log (who, what, when, where, which code),
readable by the inspectorate per application and per user; they never change the case,
and a refusal answered by the workflow's validator writes nothing to Temporal history."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType

from tests.api.harness import Api
from tests.support import eventually


async def _updates_in_history(api: Api, reg: str) -> int:
    """Updates the history holds (accepted or completed). A validator's refusal adds none;
    other events (a workflow task still finishing) do not count."""
    history = await api.services.client.get_workflow_handle(reg).fetch_history()
    kinds = (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    )
    return sum(1 for e in history.events if e.event_type in kinds)


async def test_refused_staff_actions_are_logged_and_change_nothing(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    await api.add_user("tono", "staff", "dpmptsp/front_office")
    await api.add_user("gita", "staff", "dpmptsp/issuance")
    await api.add_user("kabid", "supervisor", agency="dpupr")
    await api.add_user("iwan", "inspector")
    reg = (await api.submit())["registration_number"]

    async def inbox() -> Any:
        return (await api.as_user("rina", "GET", "/api/staff/inbox")).json()

    await eventually(inbox, lambda rows: len(rows) == 1)
    base = f"/api/staff/tasks/{reg}/registration"
    assert (await api.as_user("rina", "POST", f"{base}/claim")).status_code == 200
    async with api.services.pool.acquire() as conn:
        events_before = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE registration_number = $1", reg
        )
    history_before = await _updates_in_history(api, reg)

    refused = [
        ("gita", f"{base}/decide", {"outcome": "approve"}, 404),  # another counter
        ("tono", f"{base}/decide", {"outcome": "approve"}, 409),  # claimed by rina
        ("rina", f"{base}/decide", {"outcome": "stamp"}, 409),  # no such outcome
        ("iwan", f"{base}/claim", None, 403),  # an inspector changes nothing
        (
            "kabid",
            f"/api/supervisor/tasks/{reg}/registration/extend",
            {"extra": "1d", "reason": "bukan dinas saya"},
            404,
        ),  # another agency
        ("rina", f"/api/staff/tasks/{reg}/nope/decide", {"outcome": "approve"}, 404),
    ]
    for username, url, body, status in refused:
        r = await api.as_user(username, "POST", url, body)
        assert r.status_code == status, (username, url, r.text)

    # Nothing changed: no audit event, and the validator's refusals left no history.
    async with api.services.pool.acquire() as conn:
        assert events_before == await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE registration_number = $1", reg
        )
    assert await _updates_in_history(api, reg) == history_before

    r = await api.as_user("iwan", "GET", f"/api/admin/monitoring/security/applications/{reg}")
    assert r.status_code == 200
    logged = sorted((e["username"], e["action"], e["step_id"], e["code"]) for e in r.json())
    assert logged == sorted(
        [
            ("gita", "decide", "registration", "not_your_counter"),
            ("tono", "decide", "registration", "claimed_by_other"),
            ("rina", "decide", "registration", "unknown_outcome"),
            ("iwan", "claim", "registration", "wrong_role"),
            ("kabid", "extend", "registration", "not_your_counter"),
            ("rina", "decide", "nope", "unknown_step"),
        ]
    )
    entry = next(e for e in r.json() if e["username"] == "gita")
    assert entry["role"] == "staff" and entry["client_ip"] and entry["at"]

    r = await api.as_user("iwan", "GET", "/api/admin/monitoring/security/users/gita")
    assert [e["code"] for e in r.json()] == ["not_your_counter"]
    # Staff may not read it.
    r = await api.as_user("rina", "GET", "/api/admin/monitoring/security/users/gita")
    assert r.status_code == 403

    # The inspectorate's page of the application shows the refused attempts.
    from tests.web.support import Browser

    browser = Browser.open(api)
    await browser.sign_in("iwan")
    page = await browser.get(f"/applications/{reg}")
    assert page.status_code == 200
    assert 'data-testid="security-log"' in page.text and "not_your_counter" in page.text
    await browser.close()
