"""Reading simulation results: text for the terminal, a Markdown report with SVG charts,
and JSON for anyone who wants the numbers. One or two scenarios side by side.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from loket.simulation import plots
from loket.simulation.engine import PermitStats, SimulationResult


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (0 when empty)."""
    if not values:
        return 0.0
    rank = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
    return values[rank]


def _permit_rows(results: Sequence[SimulationResult]) -> list[list[str]]:
    rows = [["scenario", "permit", "arrived", "finished", "rejected", "open at end",
             "on time", "lead p50", "p90", "max", "returns"]]  # fmt: skip
    for result in results:
        for stats in [*result.permits, result.totals()]:
            rows.append(_permit_row(result.scenario, stats))
    return rows


def _permit_row(scenario: str, p: PermitStats) -> list[str]:
    lead = p.lead_days
    return [
        scenario,
        p.permit,
        str(p.arrived),
        str(p.finished),
        str(p.rejected),
        str(p.unfinished),
        f"{100 * p.on_time_share:.1f}%",
        f"{percentile(lead, 50):.1f}d",
        f"{percentile(lead, 90):.1f}d",
        f"{lead[-1] if lead else 0:.1f}d",
        str(p.returns),
    ]


def _counter_rows(results: Sequence[SimulationResult]) -> list[list[str]]:
    keys = sorted({c.key for r in results for c in r.counters})
    header = ["counter"]
    for r in results:
        header += [f"{r.scenario}: staff", "util.", "wait h", "queue max"]
    rows = [header]
    for key in keys:
        row = [key]
        for r in results:
            found = next((c for c in r.counters if c.key == key), None)
            if found is None:
                row += ["-", "-", "-", "-"]
            else:
                row += [
                    str(found.staff),
                    f"{100 * found.utilization:.0f}%",
                    f"{found.mean_wait_h:.2f}",
                    str(max(found.daily_max_queue, default=0)),
                ]
        rows.append(row)
    return rows


def _table(rows: Sequence[Sequence[str]], markdown: bool = False) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        return lines + ["| " + " | ".join(r) + " |" for r in rows[1:]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _bottlenecks(results: Sequence[SimulationResult]) -> list[str]:
    lines = []
    for r in results:
        b = r.bottleneck
        if b is not None:
            lines.append(
                f"bottleneck of {r.scenario}: {b.key} ({100 * b.utilization:.0f}% busy, "
                f"{b.mean_wait_h:.2f} working hours mean wait, {b.staff} staff)"
            )
    return lines


def format_text(results: Sequence[SimulationResult]) -> str:
    first = results[0]
    out = [
        f"{len(first.days)} working days simulated ({first.days[0]} to {first.days[-1]}): "
        f"{first.period_days} with arrivals, then no new applications; seed {first.seed}",
        "",
        "applications (lead time in working days, submission to decision; 'on time': "
        "finished within the service time, applicant time not counted)",
    ]
    out += ["  " + line for line in _table(_permit_rows(results))]
    out += ["", "counters (utilization and waits over the arrival period)"]
    out += ["  " + line for line in _table(_counter_rows(results))]
    out += ["", *_bottlenecks(results)]
    return "\n".join(out) + "\n"


def to_json(results: Sequence[SimulationResult]) -> str:
    def one(r: SimulationResult) -> dict[str, Any]:
        return {
            "scenario": r.scenario,
            "seed": r.seed,
            "days": r.days,
            "period_days": r.period_days,
            "bottleneck": r.bottleneck.key if r.bottleneck else None,
            "permits": [
                {
                    "permit": p.permit,
                    "arrived": p.arrived,
                    "approved": p.approved,
                    "rejected": p.rejected,
                    "unfinished": p.unfinished,
                    "on_time_share": round(p.on_time_share, 4),
                    "returns": p.returns,
                    "lead_days": {
                        f"p{q}": round(percentile(p.lead_days, q), 3) for q in (50, 75, 90, 95, 99)
                    },
                }
                for p in r.permits
            ],
            "counters": [
                {
                    "counter": c.key,
                    "staff": c.staff,
                    "served": c.served,
                    "utilization": round(c.utilization, 4),
                    "mean_wait_hours": round(c.mean_wait_h, 4),
                    "daily_queue": [round(q, 3) for q in c.daily_queue],
                    "daily_utilization": [round(u, 3) for u in c.daily_utilization],
                }
                for c in r.counters
            ],
        }

    return json.dumps([one(r) for r in results], indent=1) + "\n"


def charts(results: Sequence[SimulationResult]) -> dict[str, str]:
    """File name -> SVG text of every chart of the report."""
    files: dict[str, str] = {}
    files["lead-time.svg"] = plots.histogram(
        "Lead time, all permit types", "working days", {r.scenario: r.lead_days for r in results}
    )
    for i, r in enumerate(results, start=1):
        top = sorted(r.counters, key=lambda c: -c.utilization)[:6]
        files[f"queue-{i}.svg"] = plots.line_chart(
            f"Queue length per counter: {r.scenario}",
            "working day",
            "files waiting (daily mean)",
            {c.key: c.daily_queue for c in top},
        )
        files[f"utilization-{i}.svg"] = plots.line_chart(
            f"Utilization per counter: {r.scenario}",
            "working day",
            "share of staff time busy",
            {c.key: c.daily_utilization for c in top},
        )
    keys = sorted({c.key for r in results for c in r.counters})
    files["utilization.svg"] = plots.bar_chart(
        "Utilization per counter over the arrival period",
        "share of staff time busy",
        keys,
        {
            r.scenario: [next((c.utilization for c in r.counters if c.key == k), 0.0) for k in keys]
            for r in results
        },
    )
    return files


def format_markdown(results: Sequence[SimulationResult], chart_files: Sequence[str]) -> str:
    title = " vs ".join(r.scenario for r in results)
    out = [f"# Simulation: {title}", "", format_text(results).splitlines()[0], ""]
    out += ["## Applications", ""]
    out += _table(_permit_rows(results), markdown=True)
    out += ["", "## Counters", ""]
    out += _table(_counter_rows(results), markdown=True)
    out += ["", *[f"- {line}" for line in _bottlenecks(results)], "", "## Charts", ""]
    out += [f"![{name}]({name})" for name in chart_files]
    return "\n".join(out) + "\n"
