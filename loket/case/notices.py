"""Notices to the applicant: which case events tell the applicant, and what they carry.

Each notice is an outbox ``Notification`` with ``recipient="applicant"`` and the key
``{registration_number}:{kind}:{seq}``, ``seq`` being the audit entry that caused it, so a
replayed or retried change makes the same key (the outbox and the deliveries are unique on
it). The payload holds non-personal facts only: whom to reach is looked up in the store at
delivery time, never carried by the case.

Pure: called by the case core's event handlers, one line each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from loket.case.messages import Notification

if TYPE_CHECKING:
    from loket.case.draft import Draft
    from loket.case.state import StepClock

APPLICANT = "applicant"
Kind = Literal[
    "application_received",
    "application_returned",
    "fee_billed",
    "payment_received",
    "payment_reminder",
    "application_approved",
    "application_rejected",
    "permit_ready",
]
KINDS: tuple[Kind, ...] = (
    "application_received",
    "application_returned",
    "fee_billed",
    "payment_received",
    "payment_reminder",
    "application_approved",
    "application_rejected",
    "permit_ready",
)


def notice(draft: Draft, kind: Kind, **facts: Any) -> None:
    """Queue a notice caused by the audit entry ``draft`` added last."""
    reg = draft.before.registration_number
    draft.notifications.append(
        Notification(
            key=f"{reg}:{kind}:{draft.last_seq}",
            registration_number=reg,
            kind=kind,
            recipient=APPLICANT,
            created_at=draft.now,
            payload={
                "registration_number": reg,
                "permit_type": draft.case.permit.id,
                **facts,
            },
        )
    )


def received(draft: Draft) -> None:
    notice(draft, "application_received")


def returned(draft: Draft, clock: StepClock, note: str, items: list[dict[str, str]]) -> None:
    """Which items to correct (the step's verdicts, when it has them). No ``due_at``: the
    route has no applicant deadline yet (the step's own clock is paused while returned)."""
    step = draft.case.graph.task(clock.step_id)
    facts: dict[str, Any] = {
        "step_id": step.id,
        "step_name": step.name,
        "items": items,
        "note": note,
    }
    notice(draft, "application_returned", **facts)


def finished(draft: Draft, result: str, note: str) -> None:
    if result == "approved":
        notice(draft, "application_approved", note=note)
    elif result == "rejected":
        notice(draft, "application_rejected", note=note)
