"""Audit details as people read them: one renderer per event type, in the page's language.

An audit entry's ``details`` are data (ids, ISO instants, seconds, lists); a page shows
each as words: step names, field labels, local times, working days, rupiah. A renderer
returns ``(label, value)`` pairs; labels are English keys of the pages' catalog. An event
type without a renderer is shown by :func:`render` as a visible fallback (every detail as
text, marked ``fallback``) and logged; ``tests/web/test_readable.py`` fails on it.

Public tracking passes only the public subset of each event's details (the store picks
it), so the same renderer serves the applicant and the audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loket.web.readable import Readable

log = logging.getLogger(__name__)

Details = Mapping[str, Any]


@dataclass(frozen=True)
class Line:
    label: str  # already in the page's language
    value: str
    note: bool = False  # a person's note: shown as a quote, never twice


Renderer = Callable[["Readable", Details], list[Line]]


def _pairs(r: Readable, *items: tuple[str, str | None]) -> list[Line]:
    return [Line(r.t(label), value) for label, value in items if value not in (None, "")]


def _note(r: Readable, details: Details, key: str = "note") -> list[Line]:
    text = str(details.get(key) or "")
    return [Line(r.t("Note"), text, note=True)] if text else []


def _submitted(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Permit type", r.permit_name(d.get("permit_type"))),
        ("Route version", r.text(d.get("route_version"))),
        ("Service time", r.duration(d.get("service_time"))),
        ("Service time rule", r.service_rule(d.get("permit_type"), d.get("service_time_rule"))),
        ("Service due", r.when_iso(d.get("service_due_at"))),
        ("Calendar", r.text(d.get("calendar_version"))),
    )


def _corrected(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Fields corrected", r.field_names(d.get("fields"))))


def _finished(r: Readable, d: Details) -> list[Line]:
    return _note(r, d)


def _nothing(r: Readable, d: Details) -> list[Line]:
    return []


def _decided(r: Readable, d: Details) -> list[Line]:
    lines = _pairs(
        r,
        ("Result", r.outcome(d.get("outcome"))),
        ("Goes to", r.target(d.get("target"))),
    )
    # A return carries the note on its own entry (step_returned): never twice.
    return lines if d.get("target") == "applicant" else lines + _note(r, d)


def _returned(r: Readable, d: Details) -> list[Line]:
    asked = d.get("corrections")
    return _pairs(r, ("Documents to correct", r.document_names(asked) if asked else None)) + _note(
        r, d
    )


def _skipped(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r, ("Step", r.step_name(d.get("step_id"))), ("Reason", r.t("condition not met"))
    ) + r.step_condition(d.get("step_id"))


def _escalated(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Action", r.word(d.get("action"))),
        ("To whom", r.word(d.get("to"))),
        ("Recipient", r.recipient(d.get("recipient"))),
        ("level", r.text(d.get("level"))),
        ("Scheduled at", r.when_iso(d.get("scheduled_at"))),
        ("Step due", r.when_iso(d.get("due_at"))),
    )


def _claimed(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Claimed by", r.text(d.get("claimed_by"))))


def _reassigned(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("From", r.text(d.get("from")) or r.t("nobody")),
        ("To", r.text(d.get("to")) or r.t("nobody")),
        ("Reason", r.text(d.get("reason"))),
    )


def _paused(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Reason", r.t(str(d["reason"])) if d.get("reason") else None))


def _resumed(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Paused from", r.when_iso(d.get("paused_from"))),
        ("Paused working time", r.working_seconds(d.get("paused_working_time_s"))),
    )


def _fees(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Total", r.rupiah(d.get("total"))))


def _extended(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Added working time", r.duration(d.get("extra"))),
        ("Reason", r.text(d.get("reason"))),
        ("Due before", r.when_iso(d.get("due_before"))),
        ("New deadline", r.when_iso(d.get("due_after"))),
    )


def _recomputed(r: Readable, d: Details) -> list[Line]:
    steps = d.get("steps") or {}
    changes = "; ".join(
        f"{r.step_name(step_id)}: {r.when_iso(c.get('before'))} → {r.when_iso(c.get('after'))}"
        for step_id, c in steps.items()
        if isinstance(c, Mapping)
    )
    return _pairs(
        r,
        ("Reason", r.text(d.get("reason"))),
        ("Calendar before", r.text(d.get("calendar_before"))),
        ("Calendar after", r.text(d.get("calendar_after"))),
        ("Deadlines", changes),
    )


def _branches(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Parallel step", r.step_name(d.get("parallel_step"))))


def _on_deadline(r: Readable, d: Details) -> list[Line]:
    """Deemed approval or an automatic outcome at the deadline (loket/case/deadline_policy)."""
    return _pairs(
        r,
        ("Result", r.outcome(d.get("outcome"))),
        ("Legal basis", r.text(d.get("legal_basis"))),
        ("Due", r.when_iso(d.get("due_at"))),
    )


def _chose(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Result", r.outcome(d.get("outcome"))))


def _billed(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Billing code", r.text(d.get("billing_code"))),
        ("Amount", r.rupiah(d.get("amount"))),
        ("Pay by", r.when_iso(d.get("pay_by"))),
    )


def _paid(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Billing code", r.text(d.get("billing_code"))),
        ("Amount", r.rupiah(d.get("amount"))),
        ("Receipt number", r.text(d.get("receipt_number"))),
        ("Bank", r.text(d.get("bank"))),
        ("Transaction", r.text(d.get("transaction_id"))),
    )


def _bill_cancelled(r: Readable, d: Details) -> list[Line]:
    return _pairs(r, ("Billing code", r.text(d.get("billing_code"))))


# Documents (10A): only references are audited (slot, version, hash), never content.
def _uploaded(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r, ("Document", r.document_name(d.get("slot"))), ("Version", r.text(d.get("version")))
    )


def _checked(r: Readable, d: Details) -> list[Line]:
    verdict = d.get("verdict")
    return _pairs(
        r,
        ("Document", r.document_name(d.get("slot"))),
        ("Version", r.text(d.get("version"))),
        ("Verdict", r.t(str(verdict)) if verdict else None),
    ) + _note(r, d)


def _issued(r: Readable, d: Details) -> list[Line]:
    return _pairs(
        r,
        ("Permit number", r.text(d.get("permit_number"))),
        ("Issued on", r.day_iso(d.get("issued_on"))),
        ("Valid until", r.day_iso(d.get("valid_until"))),
        ("SHA-256", r.text(d.get("pdf_sha256"))),
    )


RENDERERS: dict[str, Renderer] = {
    "application_submitted": _submitted,
    "application_corrected": _corrected,
    "application_finished": _finished,
    "step_opened": _nothing,
    "step_decided": _decided,
    "step_returned": _returned,
    "step_resumed": _returned,  # 10A: the applicant's resubmission note
    "step_cancelled": _nothing,
    "step_skipped": _skipped,
    "step_escalated": _escalated,
    "task_claimed": _claimed,
    "task_reassigned": _reassigned,
    "clock_paused": _paused,
    "clock_resumed": _resumed,
    "service_clock_paused": _paused,
    "service_clock_resumed": _resumed,
    "fees_assessed": _fees,
    "deadline_extended": _extended,
    "deadlines_recomputed": _recomputed,
    "branches_forked": _branches,
    "branches_joined": _branches,
    "step_deemed_approved": _on_deadline,
    "step_decided_on_deadline": _on_deadline,
    "applicant_chose_outcome": _chose,
    "fee_billed": _billed,
    "payment_received": _paid,
    "bill_cancelled": _bill_cancelled,
    "document_uploaded": _uploaded,
    "document_checked": _checked,
    "permit_issued": _issued,
}


@dataclass(frozen=True)
class Rendered:
    lines: list[Line]
    fallback: bool = False  # no renderer for this event type: shown as raw text


def render(r: Readable, event: str, details: Details) -> Rendered:
    renderer = RENDERERS.get(event)
    if renderer is None:
        log.warning("no renderer for audit event %r: details shown as text", event)
        return Rendered(
            [Line(str(k), r.text(v)) for k, v in details.items() if v not in (None, "")],
            fallback=True,
        )
    return Rendered(renderer(r, details))
