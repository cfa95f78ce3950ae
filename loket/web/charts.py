"""SLA compliance as server-drawn SVG bar charts: no chart library, no script.

The markup is built from escaped text only, so the SVG is safe to inline in a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

BAR_H = 22
GAP = 8
LABEL_W = 300
BAR_W = 360
VALUE_W = 110
GOOD, FAIR = 0.9, 0.75  # on-time shares drawn green at 90% and up, amber from 75%


@dataclass(frozen=True)
class Bar:
    label: str
    on_time: int
    closed: int

    @property
    def share(self) -> float:
        return self.on_time / self.closed if self.closed else 0.0


def aggregate(rows: Iterable[Mapping[str, Any]], key: Sequence[str], label: Any) -> list[Bar]:
    """Sum closed and on-time steps of SLA rows by ``key`` columns; worst share first."""
    totals: dict[tuple[Any, ...], list[int]] = {}
    labels: dict[tuple[Any, ...], str] = {}
    for row in rows:
        k = tuple(row[c] for c in key)
        acc = totals.setdefault(k, [0, 0])
        acc[0] += int(row["on_time"])
        acc[1] += int(row["closed"])
        labels[k] = label(row)
    bars = [Bar(labels[k], on, closed) for k, (on, closed) in totals.items()]
    return sorted(bars, key=lambda b: (b.share, b.label))


def _colour(share: float) -> str:
    if share >= GOOD:
        return "#2e7d32"
    if share >= FAIR:
        return "#f9a825"
    return "#c62828"


def bar_chart(bars: Sequence[Bar], title: str) -> Markup:
    """Horizontal bars of the on-time share, with 'on time / closed' at the end."""
    height = len(bars) * (BAR_H + GAP) + GAP + 20
    width = LABEL_W + BAR_W + VALUE_W
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for x in (0.0, 0.5, FAIR, GOOD, 1.0):
        gx = LABEL_W + x * BAR_W
        parts.append(
            f'<line x1="{gx:.0f}" y1="0" x2="{gx:.0f}" y2="{height - 16}" stroke="#ddd"/>'
            f'<text x="{gx:.0f}" y="{height - 4}" font-size="10" text-anchor="middle" '
            f'fill="#666">{x * 100:.0f}%</text>'
        )
    for i, bar in enumerate(bars):
        y = GAP + i * (BAR_H + GAP)
        w = max(bar.share * BAR_W, 1)
        text = escape(bar.label if len(bar.label) <= 38 else bar.label[:37] + "…")
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" font-size="12" text-anchor="end">{text}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
            f'fill="{_colour(bar.share)}"><title>{escape(bar.label)}: '
            f"{bar.share * 100:.0f}%</title></rect>"
            f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 15}" font-size="12">'
            f"{bar.share * 100:.0f}% ({bar.on_time}/{bar.closed})</text>"
        )
    parts.append("</svg>")
    # Every piece of text above went through escape(): the markup is ours alone.
    return Markup("".join(parts))


NARROW_W = 400  # readable on a phone at full width: each label sits above its bar
LABEL_H = 16


def narrow_bar_chart(bars: Sequence[Bar], title: str) -> Markup:
    """The same bars as :func:`bar_chart`, label above bar, for pages read on phones."""
    row = LABEL_H + BAR_H + GAP
    bar_w = NARROW_W - VALUE_W
    height = len(bars) * row + GAP
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {NARROW_W} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = GAP + i * row
        w = max(bar.share * bar_w, 1)
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="13">{escape(bar.label)}</text>'
            f'<rect x="0" y="{y + LABEL_H}" width="{bar_w}" height="{BAR_H}" fill="#eef1f4"/>'
            f'<rect x="0" y="{y + LABEL_H}" width="{w:.1f}" height="{BAR_H}" '
            f'fill="{_colour(bar.share)}"><title>{escape(bar.label)}: '
            f"{bar.share * 100:.0f}%</title></rect>"
            f'<text x="{bar_w + 6}" y="{y + LABEL_H + 16}" font-size="13">'
            f"{bar.share * 100:.0f}% ({bar.on_time}/{bar.closed})</text>"
        )
    parts.append("</svg>")
    # Every piece of text above went through escape(): the markup is ours alone.
    return Markup("".join(parts))
