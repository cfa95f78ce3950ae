"""The pinned version everywhere (issue 8): after a new route version goes live, a task of
an application started on the old one shows the old version's outcomes, documents and
fees, the ones its workflow accepts; a new application gets the new version."""

from __future__ import annotations

from typing import Any

from tests.api.harness import Api
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
