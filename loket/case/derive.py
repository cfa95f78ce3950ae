"""Task and application state re-derived from the audit events alone.

The tamper check compares this with the read model's own rows: an outcome or a status
changed in ``tasks`` or ``applications`` without an audit event is visible, even when the
audit chain itself is intact. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_TASK_STATES = {
    "step_opened": "open",
    "step_returned": "returned",
    "step_resumed": "open",
    "step_cancelled": "cancelled",
}


@dataclass
class Derived:
    status: str = "in_progress"
    # (step_id, attempt) -> (state, outcome)
    tasks: dict[tuple[str, int], tuple[str, str | None]] = field(default_factory=dict)


def derive(events: Iterable[Mapping[str, Any]]) -> Derived:
    """Replay audit events (dicts with event, step_id, attempt, to_state, details)."""
    derived = Derived()
    for e in events:
        kind = e["event"]
        key = (e.get("step_id") or "", e.get("attempt") or 0)
        if kind in _TASK_STATES:
            outcome = derived.tasks.get(key, ("open", None))[1]
            derived.tasks[key] = (_TASK_STATES[kind], outcome)
        elif kind == "step_decided" and e.get("to_state") == "done":
            derived.tasks[key] = ("done", (e.get("details") or {}).get("outcome"))
        elif kind == "application_finished":
            derived.status = e.get("to_state") or derived.status
    return derived
