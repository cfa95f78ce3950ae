"""The pinned version everywhere (issue 8): after a new route version goes live, a task of
an application started on the old one shows the old version's outcomes, documents and
fees, the ones its workflow accepts; a new application gets the new version."""

from __future__ import annotations

from typing import Any

import pytest

from loket.case.messages import PermitInput
from tests.api.harness import Api, idempotent
from tests.support import eventually


async def test_a_task_page_shows_the_version_the_application_is_pinned_to(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    old = (await api.submit())["registration_number"]
    catalog = api.services.catalog
    v1 = catalog.permits["PBG"]
    registration = next(s for s in v1.steps if s.id == "registration")
    v2_steps = [
        s.model_copy(update={"outcomes": {**s.outcomes, "hold": "applicant"}})
        if s.id == "registration"
        else s
        for s in v1.steps
    ]
    catalog.permits["PBG"] = v1.model_copy(
        update={"version": v1.version + 1, "steps": v2_steps, "documents": v1.documents[:1]}
    )
    try:

        async def detail(reg: str) -> Any:
            r = await api.as_user("rina", "GET", f"/api/staff/tasks/{reg}/registration")
            return r

        r = await eventually(lambda: detail(old), lambda r: r.status_code == 200)
        body = r.json()
        assert body["application"]["route_version"] == v1.version
        assert body["outcomes"] == list(registration.outcomes)  # no "hold": v1 has none
        assert len(body["documents"]) > 1  # v1's checklist, not v2's single document

        new = (await api.submit())["registration_number"]
        r = await eventually(lambda: detail(new), lambda r: r.status_code == 200)
        assert r.json()["application"]["route_version"] == v1.version + 1
        assert "hold" in r.json()["outcomes"]
    finally:
        catalog.permits["PBG"] = v1


async def _pinned_spread(api: Api, workflow_id: str) -> int:
    """The escalation spread in the workflow's start input, as the worker reads it."""
    history = await api.services.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    (pinned,) = await api.services.client.data_converter.decode(
        started.input.payloads, [PermitInput]
    )
    assert isinstance(pinned, PermitInput)
    return pinned.escalation_spread_s


async def test_the_escalation_spread_is_pinned_in_each_application_at_submission(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: the deployment's spread goes into every submission's workflow input, an
    application's or a complaint's; a later change applies to files submitted after it."""
    settings = api.services.settings
    assert settings.escalation_spread_s == 240  # the shipped default
    before = (await api.submit())["registration_number"]
    monkeypatch.setattr(settings, "escalation_spread_s", 30)
    after = (await api.submit())["registration_number"]
    r = await api.http.post(
        "/api/public/complaints",
        json={"form": {"subject": "Antrean", "description": "Lama."}},
        headers=idempotent("spread-pinned-complaint"),
    )
    assert r.status_code == 201, r.text
    complaint = r.json()["tracking_number"]
    assert [await _pinned_spread(api, w) for w in (before, after, complaint)] == [240, 30, 30]
