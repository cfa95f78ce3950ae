"""Stop-the-clock rules, one implementation for the workflow and the simulator.

A permit's service clock pauses while any open step waits on the applicant: a step returned
for corrections, or a step whose clock is declared ``paused`` (waiting for payment). It
resumes when none does, with the time already used: a pause never resets a clock (the OSS
reset loophole). Generic over the time type: the workflow counts in aware datetimes, the
simulator in seconds on its working timeline.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from loket.route.graph import RouteGraph
from loket.route.stepper import RouteState

T = TypeVar("T")
PauseChange = Literal["paused", "resumed"] | None


def waiting_for_applicant(route: RouteState, graph: RouteGraph) -> bool:
    """Does the file wait on the applicant now (and so nobody at a counter is late)?"""
    if route.finished:
        return False
    return any(
        t.status == "returned" or graph.task(t.step_id).clock == "paused" for t in route.tokens
    )


def pause_reason(route: RouteState) -> Literal["returned", "payment"]:
    return "returned" if any(t.status == "returned" for t in route.tokens) else "payment"


def toggle_pause(
    pauses: tuple[tuple[T, T | None], ...], waiting: bool, now: T
) -> tuple[tuple[tuple[T, T | None], ...], PauseChange]:
    """Open a pause when the file starts waiting, close it when it stops; else nothing."""
    paused = bool(pauses) and pauses[-1][1] is None
    if waiting and not paused:
        return (*pauses, (now, None)), "paused"
    if paused and not waiting:
        start, _ = pauses[-1]
        return (*pauses[:-1], (start, now)), "resumed"
    return pauses, None


def paused_total(pauses: tuple[tuple[float, float | None], ...], now: float) -> float:
    """Seconds paused on a timeline of floats (the simulator's working timeline)."""
    return sum((now if end is None else end) - start for start, end in pauses)
