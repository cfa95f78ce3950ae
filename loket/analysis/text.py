"""Plain-text rendering of an analysis and of a comparison, for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from loket.analysis.policies import policy_lines
from loket.analysis.report import Comparison, PathVariant, RouteAnalysis


def _days(value: float) -> str:
    return f"{value:g}"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _variant_rows(variants: Sequence[PathVariant]) -> list[list[str]]:
    rows = [
        [
            "path (conditions that hold)",
            "steps",
            "counters",
            "visits",
            "hand-offs",
            "agency h-o",
            "critical",
            "service",
            "check",
        ]
    ]
    for v in variants:
        rows.append(
            [
                v.label,
                str(len(v.steps)),
                str(len(v.counters)),
                str(len(v.visits)),
                str(v.handoffs),
                str(v.agency_handoffs),
                f"{_days(v.critical_days)}d"
                + (f" +{_days(v.applicant_days)}d appl." if v.applicant_days else ""),
                f"{_days(v.service_days)}d",
                "EXCEEDS" if v.exceeds else "ok",
            ]
        )
    return rows


def format_analysis(analysis: RouteAnalysis) -> str:
    out = [f"{analysis.permit_key}  {analysis.name}  (service time {analysis.service_time})", ""]
    public = [c for c in analysis.counters if c.public]
    back = [c for c in analysis.counters if not c.public]
    out.append(f"agencies ({len(analysis.agencies)}): {', '.join(analysis.agencies)}")
    out.append(f"counters the applicant may visit ({len(public)}):")
    out += [f"  {c.key:<28} {c.agency}: {c.name}  [{', '.join(c.steps)}]" for c in public]
    out.append(f"back-office counters ({len(back)}):")
    out += [f"  {c.key:<28} {c.agency}: {c.name}  [{', '.join(c.steps)}]" for c in back]
    out.append("")
    out.append(
        f"paths ({len(analysis.variants)}); critical path in government working days, "
        "clock-paused (applicant) time after '+':"
    )
    out += ["  " + line for line in _table(_variant_rows(analysis.variants))]
    for v in analysis.variants:
        sample = ", ".join(f"{k}={val}" for k, val in v.sample.items())
        out.append(f"  [{v.label}] e.g. {sample or 'any application'}")
        out.append(f"      route:    {' -> '.join(v.steps)}")
        out.append(f"      critical: {' -> '.join(v.critical_path)}")
        out.append(f"      visits:   {', '.join(v.visits) or 'none'}")
    flagged = analysis.flagged
    out.append("")
    if flagged:
        for v in flagged:
            out.append(
                f"FLAG: path [{v.label}] takes up to {_days(v.critical_days)} working days, "
                f"more than its published {_days(v.service_days)} ({v.service_label})"
            )
    else:
        out.append("every path fits its published service time")
    for kind, title in (("merge", "could merge"), ("parallel", "could run in parallel")):
        found = analysis.suggestions_of(kind)
        out.append(f"consecutive steps that {title}: {len(found) or 'none'}")
        for s in found:
            out.append(f"  {s.first} + {s.second}: {s.reason}  (paths: {'; '.join(s.variants)})")
    out += policy_lines(analysis.policies)
    for warning in analysis.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out) + "\n"


def format_comparison(comparison: Comparison) -> str:
    a, b = comparison.left, comparison.right
    out = [f"{a.permit_key} ({a.name})  versus  {b.permit_key} ({b.name})", ""]
    summary = [
        ["", a.permit_key, b.permit_key],
        ["steps in the route", str(a.steps), str(b.steps)],
        ["agencies", str(len(a.agencies)), str(len(b.agencies))],
        ["counters", str(len(a.counters)), str(len(b.counters))],
        [
            "public counters",
            str(sum(c.public for c in a.counters)),
            str(sum(c.public for c in b.counters)),
        ],
        ["paths over service time", str(len(a.flagged)), str(len(b.flagged))],
        [
            "merge candidates",
            str(len(a.suggestions_of("merge"))),
            str(len(b.suggestions_of("merge"))),
        ],
        [
            "parallel candidates",
            str(len(a.suggestions_of("parallel"))),
            str(len(b.suggestions_of("parallel"))),
        ],
    ]
    out += _table(summary)
    out.append("")
    rows = [
        [
            "application (conditions that hold)",
            "steps",
            "counters",
            "visits",
            "hand-offs",
            "critical",
            "service",
        ]
    ]
    for row in comparison.rows:
        old, new = row.left, row.right
        rows.append(
            [
                row.label,
                f"{len(old.steps)} -> {len(new.steps)}",
                f"{len(old.counters)} -> {len(new.counters)}",
                f"{len(old.visits)} -> {len(new.visits)}",
                f"{old.handoffs} -> {new.handoffs}",
                f"{_days(old.critical_days)}d -> {_days(new.critical_days)}d"
                + (" !" if new.exceeds else ""),
                f"{_days(old.service_days)}d -> {_days(new.service_days)}d",
            ]
        )
    out += _table(rows)
    out.append("")
    out.append("step changes:")
    out += [f"  {c}" for c in comparison.step_changes] or ["  none"]
    return "\n".join(out) + "\n"
