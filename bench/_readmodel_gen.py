"""The read model of a province, generated through the product's own code (readmodel.py).

Each application is played through the pure case core (``loket.case.core.Case``, the
code the permit workflow runs): start, claims, decisions, returns and resubmissions,
escalations fired at their instants, the issuing decision with an issued permit. Each
operation's ``RecordBatch`` is what ``record_transition`` would be given; the batches of
one application are folded into one batch (:func:`merge`) and written by the store's
``apply_batch``: one transaction per application instead of one per operation, and the
same rows (task rows upserted to their last state, the audit events hash-chained by the
store in order, escalations, outbox, bills). Only columns stamped with the database's
``now()`` (``updated_at``, ``created_at``) differ from a step-by-step write.

An issuing decision's permit is numbered by the store's ``number_permit`` (the numbering
activity's function): :meth:`Player.play` yields the ``NumberingRequest`` and is sent
back the ``PermitDocument``. Not played: document uploads, and the permit's PDF (the
decision records the number with a stand-in hash of the PDF it would have rendered).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loket.calendar import WorkCalendar
from loket.case import escalation
from loket.case.core import Case
from loket.case.documents import slots
from loket.case.draft import Change
from loket.case.messages import (
    Actor,
    ClaimRequest,
    DecisionRequest,
    RecordBatch,
    ResubmitRequest,
    TaskRecord,
)
from loket.case.permit import (
    IssuedPermit,
    NumberingRequest,
    PermitDocument,
    issues_permit,
    numbering_request,
)
from loket.case.state import CaseState
from loket.route.form import normalize
from loket.route.loader import Catalog

# The instant the generated province stands at: measurements use it as "now", so a cached
# database measures the same whenever it is read. Monday 10:00 WIB.
PRESENT = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
SPAN = timedelta(days=365)  # applications are submitted over the year before PRESENT

# The permit types of definitions/ and their share of submissions (PBG is the long route).
MIX = {"PBG": 0.6, "SIP": 0.25, "PTKA": 0.15}
FORMS: dict[str, list[dict[str, Any]]] = {
    "PBG": [
        {
            "applicant_name": "Siti Rahayu",
            "applicant_nik": "3316014101900001",
            "site_address": "Jl. Pemuda 12, Blora",
            "building_use": use,
            "building_area_m2": area,
            "floors": floors,
            "fence_length_m": 20,
        }
        for use, area, floors in (
            ("usaha", 640, 2),
            ("hunian", 80, 1),
            ("hunian", 120, 2),
            ("usaha", 250, 1),
        )
    ],
    "SIP": [
        {
            "applicant_name": "dr. Andi Pratama",
            "str_number": "STR-3316-2026-0042",
            "profession": profession,
            "facility_name": "Klinik Sehat Blora",
        }
        for profession in ("dokter", "bidan", "perawat")
    ],
    "PTKA": [
        {"employer_name": "PT Blora Jaya", "worker_name": "John Doe", "position": p, "months": m}
        for p, m in (("Engineer", 6), ("Manager", 12), ("Supervisor", 3))
    ],
}
STAFF_PER_COUNTER = 3
MAX_HELD_H = 100 * 8  # 100 working days
WORKING_DAY_H = 8  # office hours a working day counts (approximately: only to plan delays)
P_RETURN = 0.10  # a step that may return the file does
P_NEVER_RESUBMITS = 0.05  # of returned files: still waiting at PRESENT
P_REJECT = 0.02
P_UNPAID = 0.02
P_SLOW = 0.06  # a step held well past its deadline (escalations fire)
P_STUCK = 0.01  # a step left lying for weeks: the stalled list's entries
P_UNCLAIMED = 0.15  # an open step nobody has claimed yet
APPLICANT = Actor(username="applicant:public", role="applicant")


@dataclass(frozen=True)
class Played:
    registration_number: str
    permit_type: str
    batch: RecordBatch
    operations: int


def _fold_task(old: TaskRecord, new: TaskRecord) -> TaskRecord:
    """What the store's task upsert leaves after ``old`` then ``new`` (records._UPSERT_TASK):
    the columns it updates from ``new``, outcome, note and decider kept when ``new`` has
    none (a resubmitted step keeps the note it was returned with), the rest as inserted."""
    keep = {k: getattr(new, k) for k in _UPDATED}
    keep |= {k: getattr(old, k) if getattr(new, k) is None else getattr(new, k) for k in _COALESCED}
    return old.model_copy(update=keep)


_UPDATED = ("state", "due_at", "claimed_by", "closed_at", "escalation_level", "used_working_s")
_COALESCED = ("outcome", "note", "decided_by")


def merge(batches: list[RecordBatch]) -> RecordBatch:
    """One batch with the effect of writing ``batches`` in order: each task record folded
    as the store's upsert folds it, the last application, every audit entry, escalation,
    notification, bill."""
    tasks: dict[tuple[str, int], TaskRecord] = {}
    for b in batches:
        for t in b.tasks:
            key = (t.step_id, t.attempt)
            tasks[key] = _fold_task(tasks[key], t) if key in tasks else t
    bills = {bill.billing_code: bill for b in batches for bill in b.bills}
    return RecordBatch(
        application=batches[-1].application,
        tasks=tuple(tasks.values()),
        audit=tuple(e for b in batches for e in b.audit),
        escalations=tuple(e for b in batches for e in b.escalations),
        notifications=tuple(n for b in batches for n in b.notifications),
        base_seq=batches[0].base_seq,
        audit_hashes=tuple(h for b in batches for h in b.audit_hashes),
        bills=tuple(bills.values()),
        documents=tuple(d for b in batches for d in b.documents),
        verdicts=tuple(v for b in batches for v in b.verdicts),
        dispatch=any(b.dispatch for b in batches),
    )


class Player:
    """Plays applications through the case core; deterministic for a seed and an index."""

    def __init__(self, catalog: Catalog, calendar: WorkCalendar, seed: int) -> None:
        self.calendar = calendar
        self.seed = seed
        self.cases = {p: Case(catalog.permit(p), calendar) for p in MIX}
        self.forms = {p: [dict(normalize(catalog.permit(p), f)) for f in FORMS[p]] for p in MIX}
        self._types = list(MIX)
        self._weights = list(MIX.values())

    def staff(self, case: Case, step_id: str, rng: random.Random) -> Actor:
        step = case.graph.task(step_id)
        who = rng.randrange(STAFF_PER_COUNTER) + 1
        return Actor(
            username=f"{step.agency}.{step.counter}.{who}",
            role="staff",
            agency=step.agency,
            counters=(f"{step.agency}/{step.counter}",),
        )

    def submitted_at(self, rng: random.Random) -> datetime:
        raw = PRESENT - SPAN + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
        return _utc(self.calendar.add_working_time(raw, timedelta(minutes=rng.randint(1, 60))))

    def held(self, case: Case, step_id: str, rng: random.Random) -> timedelta:
        """How long a counter holds a step: mostly within its deadline, some well past."""
        deadline = case.graph.task(step_id).deadline
        hours = float(deadline.working_hours or (deadline.working_days or 1) * WORKING_DAY_H)
        roll = rng.random()
        if roll < P_STUCK:
            factor = rng.uniform(4.0, 60.0)
        elif roll < P_STUCK + P_SLOW:
            factor = rng.uniform(1.3, 3.0)
        else:
            factor = rng.betavariate(2, 3)
        # Capped so that every plan stays inside the calendar's years (ends 2027).
        return timedelta(hours=min(max(hours * factor, 0.25), MAX_HELD_H))

    def play(self, index: int) -> Generator[NumberingRequest, PermitDocument, Played]:
        rng = random.Random(self.seed * 1_000_003 + index)
        permit_type = rng.choices(self._types, self._weights)[0]
        case = self.cases[permit_type]
        start = self.submitted_at(rng)
        reg = f"{permit_type}-{start.year}-{index + 1:06d}"
        data = rng.choice(self.forms[permit_type])
        first = case.start(reg, data, APPLICANT, start)
        batches = [first.batch] if first.batch else []
        state = first.state
        plans: dict[str, tuple[datetime, datetime | None]] = {}  # step: (decide at, claim at)
        operations = 1
        changes: list[Change] = []
        yield from self._run(case, state, start, plans, rng, changes)
        batches += [c.batch for c in changes if c.batch is not None]
        return Played(reg, permit_type, merge(batches), operations + len(changes))

    def _run(
        self,
        case: Case,
        state: CaseState,
        now: datetime,
        plans: dict[str, tuple[datetime, datetime | None]],
        rng: random.Random,
        out: list[Change],
    ) -> Generator[NumberingRequest, PermitDocument, None]:
        cal = self.calendar
        while not state.finished:
            tokens = state.route.tokens
            open_ids = [t.step_id for t in tokens if t.status == "open"]
            if not open_ids:  # returned: the applicant answers, or never does
                if rng.random() < P_NEVER_RESUBMITS:
                    return
                at = _utc(cal.add_working_time(now, timedelta(hours=rng.uniform(2, 60))))
                if at > PRESENT:
                    return
                now = at
                change = case.resubmit(state, ResubmitRequest(actor=APPLICANT), now)
                state = change.state
                out.append(change)
                continue
            for step_id in open_ids:
                if step_id not in plans:
                    claim = _utc(cal.add_working_time(now, timedelta(minutes=rng.randint(5, 240))))
                    decide = _utc(cal.add_working_time(now, self.held(case, step_id, rng)))
                    plans[step_id] = (decide, None if rng.random() < P_UNCLAIMED else claim)
            step_id = min(open_ids, key=lambda s: plans[s][0])
            decide_at = plans[step_id][0]
            until = min(decide_at, PRESENT)
            while (due := escalation.next_due(case, state)) is not None and due[2] <= until:
                change = escalation.escalate_due(case, state, _utc(due[2]))
                state = change.state
                out.append(change)
            for other in open_ids:  # claims made before the next decision (or the present)
                claimed_at = plans[other][1]
                if claimed_at is not None and claimed_at <= until:
                    clock = state.clock(other)
                    if clock is not None and clock.claimed_by is None:
                        actor = self.staff(case, other, rng)
                        request = ClaimRequest(step_id=other, actor=actor)
                        change = case.claim(state, request, max(claimed_at, now))
                        state = change.state
                        out.append(change)
            if decide_at > PRESENT:
                return
            now = max(now, decide_at)
            plans.pop(step_id)
            request = self._decision(case, state, step_id, rng)
            issued = None
            if issues_permit(case.permit, request):
                offset = cal.snapshot.utc_offset_hours
                reg = state.registration_number
                document = yield numbering_request(case.permit, state.data, reg, now, offset)
                issued = _issued(document)
            change = case.decide(state, request, now, issued)
            state = change.state
            out.append(change)

    def _decision(
        self, case: Case, state: CaseState, step_id: str, rng: random.Random
    ) -> DecisionRequest:
        clock = state.clock(step_id)
        holder = clock.claimed_by if clock is not None else None
        actor = self.staff(case, step_id, rng)
        if holder is not None:
            actor = actor.model_copy(update={"username": holder})
        step = case.graph.task(step_id)
        outcome = "approve"
        roll = rng.random()
        if "return" in step.outcomes and roll < P_RETURN:
            outcome = "return"
        elif "reject" in step.outcomes and roll > 1 - P_REJECT:
            outcome = "reject"
        elif "unpaid" in step.outcomes and roll > 1 - P_UNPAID:
            outcome = "unpaid"
        corrections: tuple[str, ...] = ()
        if outcome == "return" and step.checks_documents:
            corrections = tuple(s.id for s in slots(case.permit, state.data))[:1]
        receipt = f"SSRD-{rng.randrange(10**8):08d}" if step.clock == "paused" else None
        return DecisionRequest(
            step_id=step_id,
            outcome=outcome,
            note="berkas lengkap" if outcome == "approve" else "mohon dilengkapi",
            actor=actor,
            receipt_number=receipt if outcome == "approve" else None,
            corrections=corrections,
        )


def _utc(at: datetime) -> datetime:
    """The workflow's clock is UTC (``workflow.now()``), and the audit hash covers it."""
    return at.astimezone(UTC)


def _issued(document: PermitDocument) -> IssuedPermit:
    """The rendered permit as the render activity answers; the PDF itself is not made."""
    return IssuedPermit(
        number=document.number,
        issued_on=document.issued_on,
        valid_until=document.valid_until,
        pdf_sha256=hashlib.sha256(document.number.encode()).hexdigest(),
        pdf_size=48_000,
    )
