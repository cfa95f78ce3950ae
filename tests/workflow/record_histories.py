"""Records workflow histories for the replay tests.

Run after a deliberate change of workflow code, from the repository root:
    .venv/bin/python -m tests.workflow.record_histories VERSION
It starts its own Temporal dev server and embedded PostgreSQL in a temporary folder, runs
each scenario to its end and writes ``histories/VERSION/<scenario>.json``. VERSION names
the workflow code that made them (``v2-case-core``...); a file that exists is never
overwritten: the corpus only grows, and every history of every earlier version must keep
replaying against today's code (use ``workflow.patched`` where a change needs it).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import uuid
from datetime import time
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.calendar import CalendarSnapshot, OfficeSession
from loket.calendar_data import covered_years, load_calendar
from loket.case.billing import PaymentRequest, bank_actor
from loket.case.document_models import FileRef, VerdictInput
from loket.case.documents import AttachRequest
from loket.route.loader import load_catalog
from loket.route.model import PermitType
from loket.services.submission import submit_application
from loket.settings import Settings
from loket.store.db import create_pool
from loket.store.dev_seed import seed_from_definitions
from loket.store.migrate import migrate
from loket.temporal_codec import DATA_CONVERTER
from tests.support import PBG_FORM, SIP_FORM
from tests.workflow.conftest import DEFINITIONS, utcnow
from tests.workflow.support import (
    DLH,
    FRONT,
    ISSUANCE,
    RETRIBUTION,
    SECRETARIAT,
    TELLER,
    TPA,
)
from worker import build_worker
from workflows.messages import (
    Actor,
    ApplicationView,
    CancelRequest,
    ClaimRequest,
    DecisionRequest,
    ExtendRequest,
    ReassignRequest,
    ResubmitRequest,
)

HISTORIES = Path(__file__).resolve().parent / "histories"
HEALTH = Actor(username="nina", role="staff", counters=("dinkes/health_licensing",))
LABOUR = Actor(username="tono", role="staff", counters=("disnaker/foreign_workers",))
PTKA_FORM = {
    "employer_name": "PT Cepu Energi",
    "worker_name": "John Doe",
    "position": "Geolog",
    "months": 6,
}
PROTOTYPE = Actor(username="agus", role="staff", counters=("dpupr/tpa",))

Handle = WorkflowHandle[Any, ApplicationView]


async def _decide(
    handle: Handle,
    actor: Actor,
    step: str,
    outcome: str,
    note: str = "",
    corrections: tuple[str, ...] = (),
) -> None:
    request = DecisionRequest(
        step_id=step,
        outcome=outcome,
        note=note,
        actor=actor,
        corrections=corrections,
        # A billed payment step approved by hand records the SSRD's number (billing).
        receipt_number="SSRD 2026/0001" if step == "payment" and outcome == "approve" else None,
    )
    await handle.execute_update("decide", request, result_type=ApplicationView)


async def pbg_with_return(handle: Handle, reg: str) -> None:
    await handle.execute_update("claim", ClaimRequest(step_id="registration", actor=FRONT))
    await _decide(handle, FRONT, "registration", "approve")
    supervisor = Actor(username="sari", role="supervisor", agency="dpupr")
    await handle.execute_update(
        "extend_deadline",
        ExtendRequest(step_id="completeness", extra="1d", reason="rapat TPA", actor=supervisor),
    )
    await handle.execute_update(
        "reassign",
        ReassignRequest(step_id="completeness", to=SECRETARIAT, reason="cuti", actor=supervisor),
    )
    # A return at the completeness check names the documents to upload again (10A).
    await _decide(
        handle, SECRETARIAT, "completeness", "return", "lengkapi gambar", ("architecture_drawings",)
    )
    applicant = Actor(username=f"applicant:{reg}", role="applicant")
    await handle.execute_update("resubmit", ResubmitRequest(actor=applicant, note="sudah"))
    await _decide(handle, SECRETARIAT, "completeness", "approve")
    await _decide(handle, DLH, "environmental_review", "approve")
    await _decide(handle, TPA, "tpa_review", "approve")
    await _decide(handle, RETRIBUTION, "assessment", "approve")
    await _decide(handle, TELLER, "payment", "approve")
    await _decide(handle, ISSUANCE, "issuance", "approve")


async def pbg_mbr_rejected(handle: Handle, reg: str) -> None:
    await _decide(handle, FRONT, "registration", "approve")
    await _decide(handle, SECRETARIAT, "completeness", "approve")
    await _decide(handle, PROTOTYPE, "prototype_review", "reject", "bukan desain prototipe")


async def sip_with_return(handle: Handle, reg: str) -> None:
    await _decide(handle, FRONT, "registration", "approve")
    await _decide(handle, HEALTH, "health_verification", "return", "STR kedaluwarsa")
    applicant = Actor(username=f"applicant:{reg}", role="applicant")
    await handle.execute_update(
        "resubmit", ResubmitRequest(actor=applicant, note="STR baru", data={"str_number": "STR-9"})
    )
    await _decide(handle, HEALTH, "health_verification", "approve")
    await _decide(handle, ISSUANCE, "issuance", "approve")


async def ptka_paid(handle: Handle, reg: str) -> None:
    await _decide(handle, LABOUR, "verification", "approve")
    await _decide(handle, TELLER, "payment", "approve")
    await _decide(handle, ISSUANCE, "issuance", "approve")


async def ptka_cancelled(handle: Handle, reg: str) -> None:
    admin = Actor(username="admin", role="admin")
    await handle.execute_update("cancel", CancelRequest(reason="permohonan ganda", actor=admin))


def _ref(n: int) -> FileRef:
    return FileRef(sha256=f"{n:064x}", size=1000 + n, media_type="application/pdf")


async def pbg_documents_paid_by_bank(handle: Handle, reg: str) -> None:
    """Documents (attach, verdicts, a return naming one, a new version), the bill paid by
    the bank's callback (record_payment), the permit numbered and rendered at issuance."""
    applicant = Actor(username=f"applicant:{reg}", role="applicant")
    slots = ("land_title", "identity", "architecture_drawings", "environmental_document")
    for n, slot in enumerate(slots, start=1):
        await handle.execute_update(
            "attach_document", AttachRequest(slot=slot, file=_ref(n), actor=applicant)
        )
    await _decide(handle, FRONT, "registration", "approve")
    await handle.execute_update(
        "decide",
        DecisionRequest(
            step_id="completeness",
            outcome="return",
            note="gambar tidak terbaca",
            actor=SECRETARIAT,
            corrections=("architecture_drawings",),
            verdicts=(
                VerdictInput(slot="land_title", verdict="complete"),
                VerdictInput(slot="architecture_drawings", verdict="incomplete", note="buram"),
            ),
        ),
        result_type=ApplicationView,
    )
    await handle.execute_update(
        "attach_document",
        AttachRequest(slot="architecture_drawings", file=_ref(9), actor=applicant),
    )
    await handle.execute_update("resubmit", ResubmitRequest(actor=applicant, note="sudah diganti"))
    await _decide(handle, SECRETARIAT, "completeness", "approve")
    await _decide(handle, DLH, "environmental_review", "approve")
    await _decide(handle, TPA, "tpa_review", "approve")
    view = await handle.execute_update(
        "decide",
        DecisionRequest(step_id="assessment", outcome="approve", actor=RETRIBUTION),
        result_type=ApplicationView,
    )
    bill = view.bills[-1]
    await handle.execute_update(
        "record_payment",
        PaymentRequest(
            bank="demo",
            transaction_id="TX-REC-1",
            billing_code=bill.billing_code,
            amount=bill.amount,
            paid_at=utcnow(),
            actor=bank_actor("demo"),
        ),
    )
    await _decide(handle, ISSUANCE, "issuance", "approve")


async def pbg_reminded(handle: Handle, reg: str) -> None:
    """The first step's reminder fires (``REMINDING``: 36 s after submission) before the
    file goes through: the escalation's record, at background priority (issue 13)."""
    while (
        not (await handle.query("view", result_type=ApplicationView)).open_steps[0].escalation_level
    ):
        await asyncio.sleep(0.5)
    await pbg_with_return(handle, reg)


SCENARIOS: dict[str, tuple[str, dict[str, Any], Any]] = {
    "pbg_with_return": ("PBG", PBG_FORM, pbg_with_return),
    "pbg_mbr_rejected": (
        "PBG",
        {**PBG_FORM, "building_use": "hunian", "building_area_m2": 45, "floors": 1, "is_mbr": True},
        pbg_mbr_rejected,
    ),
    "sip_with_return": ("SIP", SIP_FORM, sip_with_return),
    "ptka_paid": ("PTKA", PTKA_FORM, ptka_paid),
    "ptka_cancelled": ("PTKA", PTKA_FORM, ptka_cancelled),
    "pbg_documents_paid_by_bank": ("PBG", PBG_FORM, pbg_documents_paid_by_bank),
    "pbg_reminded": ("PBG", PBG_FORM, pbg_reminded),
}
# Scenarios on a route whose first step falls due within the recording: a 1 working hour
# deadline with a reminder at 1 %, on a calendar whose office is open round the clock.
REMINDING = {"pbg_reminded"}
# Every recorded application spreads its escalations (issue 13) over a window short enough
# to keep the recording quick: the reminder fires up to this long after its 36 s.
SPREAD_S = 20
_ROUND_THE_CLOCK = (OfficeSession(opens=time(0), closes=time(23, 59, 59, 999_999)),)


def reminding(
    permit: PermitType, calendar: CalendarSnapshot
) -> tuple[PermitType, CalendarSnapshot]:
    data: dict[str, Any] = permit.model_dump(mode="json")
    first = data["steps"][0]
    first["deadline"] = {"working_hours": 1}
    first["escalation"] = [{"at_percent": 1, "action": "remind", "to": "assignee"}]
    hours = {weekday: _ROUND_THE_CLOCK for weekday in range(1, 8)}
    snapshot = CalendarSnapshot.model_validate(
        {**calendar.model_dump(), "office_hours": hours, "version": ""}
    )
    return PermitType.model_validate(data), snapshot


async def record(client: Client, dsn: str, version: str, files: Path) -> None:
    folder = HISTORIES / version
    folder.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog(DEFINITIONS)
    calendar = load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))
    pool = await create_pool(dsn)
    task_queue = f"record-{uuid.uuid4()}"
    try:
        # Issued permits' PDFs go to the temporary folder, never the repository's data/.
        settings = Settings(file_store_url=f"file://{files}")
        async with build_worker(client, pool, task_queue, settings=settings):
            for name, (permit, form, drive) in SCENARIOS.items():
                target = folder / f"{name}.json"
                if target.exists():
                    logging.info("kept %s: the corpus is never overwritten", target)
                    continue
                route, snapshot = catalog.permit(permit), calendar
                if name in REMINDING:
                    route, snapshot = reminding(route, calendar)
                submitted = await submit_application(
                    client=client,
                    pool=pool,
                    permit=route,
                    calendar=snapshot,
                    form=form,
                    task_queue=task_queue,
                    now=utcnow(),
                    escalation_spread_s=SPREAD_S,
                )
                while not await pool.fetchval(
                    "SELECT last_seq FROM applications WHERE registration_number = $1",
                    submitted.registration_number,
                ):
                    await asyncio.sleep(0.05)
                await drive(submitted.handle, submitted.registration_number)
                await submitted.handle.result()
                history = await submitted.handle.fetch_history()
                target.write_text(history.to_json(), encoding="utf-8")
                logging.info("recorded %s", name)
    finally:
        await pool.close()


async def main(version: str) -> None:
    logging.basicConfig(level=logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        async with services.embedded_postgres(Path(tmp) / "pg") as pg:
            dsn = await services.create_database(pg, "record")
            await migrate(dsn)
            await seed_from_definitions(dsn, DEFINITIONS)  # issuing steps need a signer
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(services.temporal_cli_path()),
                dev_server_extra_args=services.search_attribute_args(),
                data_converter=DATA_CONVERTER,
            )
            async with env:
                await record(env.client, dsn, version, Path(tmp) / "files")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tests.workflow.record_histories VERSION")
    asyncio.run(main(sys.argv[1]))
