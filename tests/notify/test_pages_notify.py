"""The pages of applicant notifications: the contact fields of the application form (purpose
text, consent, errors naming the field), the recovery page, the staff deliveries panel."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.contact import CONSENT_PURPOSE, CONSENT_VERSION
from tests.api.harness import Api, running_api
from tests.notify.support import EMAIL, PHONE
from tests.support import PBG_FORM, eventually
from tests.web.support import Browser


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> AsyncIterator[Api]:
    async with running_api(temporal_ts_env.client, db_dsn, task_queue) as running:
        yield running


def _reg(html: str) -> str:
    found = re.search(r'data-testid="registration-number">([^<]+)<', html)
    assert found, html
    return found.group(1)


async def test_the_form_states_the_purpose_and_keeps_a_consented_contact(api: Api) -> None:
    applicant = Browser.open(api)
    r = await applicant.get("/permits/PBG/apply")
    assert CONSENT_PURPOSE["id"] in r.text and f'value="{CONSENT_VERSION}"' in r.text
    form = {k: str(v) for k, v in PBG_FORM.items()}
    # A number without the consent box: 422, the field named, nothing registered.
    r = await applicant.post("/permits/PBG/apply", {**form, "contact_phone": "081234567890"})
    assert r.status_code == 422
    assert re.search(r'id="f-contact_consent".*?data-testid="field-error"', r.text, re.S)
    assert 'value="081234567890"' in r.text  # kept for the applicant to correct
    r = await applicant.post(
        "/permits/PBG/apply", {**form, "contact_email": "not-an-address", "contact_consent": "on"}
    )
    assert r.status_code == 422 and 'data-testid="field-error"' in r.text
    assert await api.services.pool.fetchval("SELECT count(*) FROM submissions") == 0
    r = await applicant.post(
        "/permits/PBG/apply",
        {
            **form,
            "contact_phone": "0812 3456 7890",
            "contact_email": EMAIL,
            "contact_consent": "on",
            "contact_consent_version": CONSENT_VERSION,
        },
    )
    assert r.status_code == 201, r.text
    reg = _reg(r.text)
    row = await api.services.pool.fetchrow(
        "SELECT phone, email, language FROM applicant_contacts WHERE registration_number = $1", reg
    )
    assert row is not None and tuple(row.values()) == (PHONE, EMAIL, "id")
    await applicant.close()

    # The inspectorate's application page shows each notice per channel, no contact data.
    await api.add_user("ina", "inspector")
    inspector = Browser.open(api)
    await inspector.sign_in("ina")

    async def page() -> str:
        return (await inspector.get(f"/applications/{reg}")).text

    html = await eventually(page, lambda t: 'data-testid="delivery"' in t)
    assert 'data-kind="application_received" data-channel="email"' in html
    assert 'data-kind="application_received" data-channel="phone"' in html
    assert EMAIL not in html and PHONE not in html
    await inspector.close()

    # The counter's staff see the same panel on the task page.
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    staff = Browser.open(api)
    await staff.sign_in("rina")
    task = (await staff.get(f"/staff/tasks/{reg}/registration")).text
    assert 'data-kind="application_received" data-channel="email"' in task
    assert EMAIL not in task and PHONE not in task
    await staff.close()


async def test_the_recovery_page_answers_alike_for_any_number(api: Api) -> None:
    visitor = Browser.open(api)
    r = await visitor.get("/track/recover")
    assert r.status_code == 200 and 'data-testid="recover-form"' in r.text
    answers = []
    for reg in ("PBG-2026-999998", "not a number"):
        r = await visitor.post("/track/recover", {"registration_number": reg})
        answers.append((r.status_code, 'data-testid="recover-sent"' in r.text))
    assert answers == [(202, True), (202, True)]
    await visitor.close()
