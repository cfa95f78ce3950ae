"""Service times fitted from real step durations (the read model's ``tasks`` rows).

``used_working_s`` is the working time a step used from opening to decision, pauses left
out: today's queueing is *in* it, so it overstates the staff effort. Used as service times
it reproduces today's step durations only where staff are not the constraint; treat a
fitted run as "today's pace", and the scenario's hand-set efforts as "the work itself".
The fit is the empirical distribution (resampling observed values): no shape is assumed,
and a step with fewer than ``min_samples`` closed tasks keeps the scenario's own numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

from loket.simulation.distributions import Empirical

# Resample at most this many observations per step: the newest matter most and the
# distribution stays small in memory.
MAX_OBSERVATIONS = 2_000


def fit_service_times(
    rows: Iterable[tuple[str, str, float]], min_samples: int = 20
) -> dict[tuple[str, str], Empirical]:
    """``(permit type, step id, used working seconds)`` rows, newest first ->
    ``(permit type, step id)`` -> empirical distribution in working hours."""
    seen: dict[tuple[str, str], list[float]] = {}
    for permit, step, seconds in rows:
        values = seen.setdefault((permit, step), [])
        if len(values) < MAX_OBSERVATIONS and seconds >= 0:
            values.append(seconds / 3600.0)
    return {
        key: Empirical(hours=tuple(values))
        for key, values in seen.items()
        if len(values) >= min_samples
    }
