"""A building approval (PBG) from submission to issuance, by HTTP calls only.

The applicant uses the public API; each counter's staff member signs in and works their
inbox. At every hand-off the test checks every inbox and the new audit rows (read by an
inspector through the audit endpoint), and that staff of other counters can neither see
nor decide the task. Real PostgreSQL, real Temporal (time-skipping server), real worker.
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from loket.fees import assess
from loket.route.form import normalize
from tests.api.harness import Api, idempotent, running_api
from tests.support import PBG_FORM, eventually

# username -> the counter they serve
STAFF = {
    "rina": "dpmptsp/front_office",
    "budi": "dpupr/pbg_secretariat",
    "agus": "dpupr/tpa",
    "dewi": "dlh/environmental_review",
    "eko": "dpupr/retribution",
    "fajar": "bank/payment",
    "gita": "dpmptsp/issuance",
}
INSPECTOR = "iwan"


class Journey:
    def __init__(self, api: Api, reg: str, code: str) -> None:
        self.api = api
        self.reg = reg
        self.code = code
        self.audit_seen = 0

    async def inboxes(self) -> dict[str, list[tuple[str, str]]]:
        """Every staff member's inbox rows of this application: (step, state)."""
        found: dict[str, list[tuple[str, str]]] = {}
        for username in STAFF:
            r = await self.api.as_user(username, "GET", "/api/staff/inbox")
            assert r.status_code == 200, r.text
            found[username] = [
                (row["step_id"], row["state"])
                for row in r.json()
                if row["registration_number"] == self.reg
            ]
        return found

    async def expect_inboxes(self, **expected: list[tuple[str, str]]) -> None:
        want = {username: expected.get(username, []) for username in STAFF}
        await eventually(self.inboxes, lambda got: got == want, within_s=30)

    async def new_audit(self, *expected: tuple[str, str | None]) -> list[dict[str, Any]]:
        """Audit rows written since the last call; each (event, step) expected is among them."""
        r = await self.api.as_user(INSPECTOR, "GET", f"/api/admin/applications/{self.reg}/audit")
        assert r.status_code == 200, r.text
        audit = r.json()
        assert audit["chain_intact"] is True, audit["broken_seqs"]
        events: list[dict[str, Any]] = audit["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        new = events[self.audit_seen :]
        self.audit_seen = len(events)
        got = {(e["event"], e["step_id"]) for e in new}
        missing = [e for e in expected if e not in got]
        assert not missing, f"missing audit events {missing}; new: {sorted(got, key=str)}"
        return new

    async def decide(
        self, username: str, step: str, outcome: str, note: str = "", **extra: Any
    ) -> dict[str, Any]:
        base = f"/api/staff/tasks/{self.reg}/{step}"
        r = await self.api.as_user(username, "POST", f"{base}/claim")
        assert r.status_code == 200, r.text
        r = await self.api.as_user(
            username, "POST", f"{base}/decide", {"outcome": outcome, "note": note, **extra}
        )
        assert r.status_code == 200, r.text
        view: dict[str, Any] = r.json()
        return view

    async def outsiders_refused(self, step: str, *outsiders: str) -> None:
        """Staff of other counters get 404 (as for a task that does not exist), JSON."""
        base = f"/api/staff/tasks/{self.reg}/{step}"
        for username in outsiders:
            for method, url, body in [
                ("GET", base, None),
                ("POST", f"{base}/claim", None),
                ("POST", f"{base}/decide", {"outcome": "approve", "note": "bukan loket saya"}),
            ]:
                r = await self.api.as_user(username, method, url, body)
                assert r.status_code == 404, (username, method, url, r.text)
                assert r.headers["content-type"] == "application/json"
                assert r.json()["code"] == "task_not_found"
                assert r.json()["params"] == {"registration_number": self.reg, "step_id": step}

    async def track(self) -> dict[str, Any]:
        r = await self.api.http.post(
            f"/api/public/applications/{self.reg}/track", json={"access_code": self.code}
        )
        assert r.status_code == 200, r.text
        view: dict[str, Any] = r.json()
        return view


@pytest.mark.timeout(180)
async def test_pbg_from_submission_to_issuance_over_http(
    temporal_ts_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    async with running_api(temporal_ts_env.client, db_dsn, task_queue) as api:
        for username, counter in STAFF.items():
            await api.add_user(username, "staff", counter)
        await api.add_user(INSPECTOR, "inspector")
        http = api.http

        # --- the applicant reads the standard, simulates the fee, submits -------------------
        detail = (await http.get("/api/public/permits/PBG")).json()
        assert "environmental_review" in [s["id"] for s in detail["steps"]]
        preview = await http.post("/api/public/permits/PBG/fees/preview", json={"form": PBG_FORM})
        assert preview.status_code == 200 and preview.json()["fees"]["total"] > 0

        bad = {**PBG_FORM, "building_use": "pabrik"}
        r = await http.post(
            "/api/public/applications",
            json={"permit_type": "PBG", "form": bad},
            headers=idempotent(),
        )
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/json"
        assert [e["field"] for e in r.json()["errors"]] == ["building_use"]
        assert r.json()["code"] == "invalid_form"

        r = await http.post(
            "/api/public/applications",
            json={"permit_type": "PBG", "form": PBG_FORM},
            headers=idempotent(),
        )
        assert r.status_code == 201, r.text
        submitted = r.json()
        journey = Journey(api, submitted["registration_number"], submitted["access_code"])
        reg = journey.reg

        # --- registration at the front office -----------------------------------------------
        await journey.expect_inboxes(rina=[("registration", "open")])
        await journey.new_audit(("application_submitted", None), ("step_opened", "registration"))
        await journey.outsiders_refused("registration", "agus", "gita", "dewi")

        view = await journey.decide("rina", "registration", "approve", "formulir lengkap")
        assert [s["step_id"] for s in view["open_steps"]] == ["completeness"]
        await journey.expect_inboxes(budi=[("completeness", "open")])
        new = await journey.new_audit(
            ("task_claimed", "registration"),
            ("step_decided", "registration"),
            ("step_opened", "completeness"),
        )
        decided = next(e for e in new if e["event"] == "step_decided")
        assert decided["actor"] == "rina" and decided["details"]["outcome"] == "approve"
        assert decided["from_state"] == "open" and decided["to_state"] == "done"

        # --- completeness: returned once for corrections ------------------------------------
        await journey.outsiders_refused("completeness", "rina", "agus", "eko")
        view = await journey.decide(
            "budi",
            "completeness",
            "return",
            "perhitungan struktur kurang",
            corrections=["architecture_drawings"],  # 10A: the return names the items
        )
        assert view["waiting_for_applicant"] is True
        await journey.expect_inboxes(budi=[("completeness", "returned")])
        await journey.new_audit(
            ("step_returned", "completeness"),
            ("clock_paused", "completeness"),
            ("service_clock_paused", None),
        )
        tracked = await journey.track()
        assert tracked["waiting_for_applicant"] is True
        returned = next(e for e in tracked["history"] if e["event"] == "step_returned")
        assert returned["note"] == "perhitungan struktur kurang"
        assert "budi" not in str(tracked)

        # A decision while the file waits for the applicant is refused with the reason.
        r = await api.as_user(
            "budi", "POST", f"/api/staff/tasks/{reg}/completeness/decide", {"outcome": "approve"}
        )
        assert r.status_code == 409 and r.json()["code"] == "waiting_for_applicant"
        assert r.json()["params"]["step_id"] == "completeness"

        # The applicant resubmits through the public API: a wrong code is not found, a bad
        # field is named, then the corrected form is accepted.
        url = f"/api/public/applications/{reg}/resubmit"
        r = await http.post(
            url, json={"access_code": "XXXXXXXXXX", "form": {"floors": 3}}, headers=idempotent()
        )
        assert r.status_code == 404 and r.json()["code"] == "tracking_not_found"
        r = await http.post(
            url,
            json={"access_code": journey.code, "form": {"floors": "tiga"}},
            headers=idempotent(),
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "floors"
        r = await http.post(
            url,
            json={
                "access_code": journey.code,
                "note": "perhitungan struktur dilampirkan",
                "form": {"floors": 3},
            },
            headers=idempotent(),
        )
        assert r.status_code == 200, r.text
        assert r.json()["waiting_for_applicant"] is False
        await journey.expect_inboxes(budi=[("completeness", "open")])
        new = await journey.new_audit(
            ("application_corrected", None),
            ("step_resumed", "completeness"),
            ("clock_resumed", "completeness"),
            ("service_clock_resumed", None),
        )
        corrected = next(e for e in new if e["event"] == "application_corrected")
        assert corrected["details"]["fields"] == ["floors"]
        page = (await api.as_user("budi", "GET", f"/api/staff/tasks/{reg}/completeness")).json()
        assert page["application"]["data"]["floors"] == 3
        assert "structure_calculation" in [d["id"] for d in page["documents"]]
        assert page["task"]["attempt"] == 1  # the same attempt resumed, never restarted

        # --- the parallel technical reviews: TPA and environment ----------------------------
        view = await journey.decide("budi", "completeness", "approve", "berkas lengkap")
        assert sorted(s["step_id"] for s in view["open_steps"]) == [
            "environmental_review",
            "tpa_review",
        ]
        await journey.expect_inboxes(
            agus=[("tpa_review", "open")], dewi=[("environmental_review", "open")]
        )
        await journey.new_audit(
            ("branches_forked", None),
            ("step_opened", "tpa_review"),
            ("step_opened", "environmental_review"),
            ("step_skipped", None),
        )
        await journey.outsiders_refused("tpa_review", "dewi", "budi", "fajar")
        await journey.outsiders_refused("environmental_review", "agus", "eko")

        view = await journey.decide("agus", "tpa_review", "approve", "memenuhi standar teknis")
        assert [s["step_id"] for s in view["open_steps"]] == ["environmental_review"]
        await journey.expect_inboxes(dewi=[("environmental_review", "open")])  # the join waits
        await journey.new_audit(("step_decided", "tpa_review"))

        view = await journey.decide("dewi", "environmental_review", "approve", "SPPL sesuai")
        assert [s["step_id"] for s in view["open_steps"]] == ["assessment"]
        await journey.expect_inboxes(eko=[("assessment", "open")])
        new = await journey.new_audit(
            ("step_decided", "environmental_review"),
            ("branches_joined", None),
            ("step_opened", "assessment"),
            ("fees_assessed", "assessment"),
        )

        # --- retribution assessed by the published formula, on the corrected form ---------
        permit = api.services.catalog.permit("PBG")
        expected = assess(permit.fees, normalize(permit, {**PBG_FORM, "floors": 3}))
        assessed = next(e for e in new if e["event"] == "fees_assessed")
        assert assessed["details"]["total"] == expected.total > 0
        tracked = await journey.track()
        assert tracked["fees"]["total"] == expected.total
        assert preview.json()["fees"]["total"] == expected.total  # the simulator said so

        await journey.outsiders_refused("assessment", "fajar", "dewi")
        view = await journey.decide("eko", "assessment", "approve", "SKRD terbit")
        assert [s["step_id"] for s in view["open_steps"]] == ["payment"]
        await journey.expect_inboxes(fajar=[("payment", "open")])
        await journey.new_audit(
            ("step_decided", "assessment"), ("step_opened", "payment"), ("fee_billed", "payment")
        )
        assert (await journey.track())["waiting_for_applicant"] is True  # waiting to pay

        # --- payment at the bank, then issuance ---------------------------------------------
        await journey.outsiders_refused("payment", "gita", "eko")
        view = await journey.decide(
            "fajar", "payment", "approve", "dibayar di loket", receipt_number="SSRD 2026/0042"
        )
        assert [s["step_id"] for s in view["open_steps"]] == ["issuance"]
        assert view["bills"][0]["payment"]["receipt_number"] == "SSRD 2026/0042"
        await journey.expect_inboxes(gita=[("issuance", "open")])
        await journey.new_audit(
            ("payment_received", "payment"),
            ("step_decided", "payment"),
            ("step_opened", "issuance"),
        )

        await journey.outsiders_refused("issuance", "rina", "fajar")
        view = await journey.decide("gita", "issuance", "approve", "PBG diserahkan")
        assert view["status"] == "approved" and view["open_steps"] == []
        await journey.expect_inboxes()
        await journey.new_audit(("step_decided", "issuance"), ("application_finished", None))

        tracked = await journey.track()
        assert tracked["status"] == "approved" and tracked["current_steps"] == []
        assert tracked["history"][-1]["event"] == "application_finished"
        page = (await api.as_user("gita", "GET", f"/api/staff/tasks/{reg}/issuance")).json()
        assert page["task"]["state"] == "done" and page["task"]["outcome"] == "approve"
        assert page["fees_assessed"] is True

        # A closed application refuses any further decision, with a reason, as JSON.
        r = await api.as_user(
            "gita", "POST", f"/api/staff/tasks/{reg}/issuance/decide", {"outcome": "approve"}
        )
        assert r.status_code == 409 and r.json()["code"] == "closed"

        audit = (await api.as_user(INSPECTOR, "GET", f"/api/admin/applications/{reg}/audit")).json()
        decisions = [
            (e["step_id"], e["actor"], e["details"]["outcome"])
            for e in audit["events"]
            if e["event"] == "step_decided"
        ]
        assert decisions == [
            ("registration", "rina", "approve"),
            ("completeness", "budi", "return"),
            ("completeness", "budi", "approve"),
            ("tpa_review", "agus", "approve"),
            ("environmental_review", "dewi", "approve"),
            ("assessment", "eko", "approve"),
            ("payment", "fajar", "approve"),
            ("issuance", "gita", "approve"),
        ]
